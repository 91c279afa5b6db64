"""The warning plan's changes: started or raised by an outcome, ended by its manager or at close.

Tiers are ordered as in Chinese plans (groupdesk.core.warning_plan: 一级 is the most severe). Playbooks
without a `warning_plan:` section have no plan actions and no end notice. The manager's actions (raise,
end) are recorded as outcomes of the step `warning_plan`: `outcome_kinds.act_on_plan`.
"""

from __future__ import annotations

from datetime import datetime

from groupdesk.core.warning_plan import PLAN_STEP, active, at_or_above, more_severe, plan_actions, tier_names
from workflows.machine.record import Record


def set_tier(rec: Record, tier: int | None, step_id: str, actor: str, now: datetime) -> None:
    """An outcome's `set_warning_tier`: starts the plan or raises it (never lowers a running one); 0 ends it."""
    if tier is None:
        return
    if tier == 0:
        if active(rec.state.warning_tier):
            end_plan(rec, now, step_id, actor, "", notify=True)
        return
    new = more_severe(rec.state.warning_tier, tier)
    if new == rec.state.warning_tier:
        return
    raised = active(rec.state.warning_tier)
    before, rec.state.warning_tier = rec.state.warning_tier, new
    rec.log(now, "warning_tier", step_id, actor,
            detail=f"warning tier {new}" + (f" (raised from {before})" if raised else ""))


def reports_at(rec: Record, tier: int) -> bool:
    """Whether a change at `tier` is reported: while the plan runs at the playbook's threshold or above."""
    reports = rec.pb.progress_reports
    if not reports or not active(tier):
        return False
    return reports.while_plan_active or at_or_above(tier, reports.at_or_above)


def actions(rec: Record) -> list[str]:
    """What the plan's manager may do now (shown as the step `warning_plan` in `actions`)."""
    return plan_actions(rec.pb.warning_plan, rec.state.status, rec.state.warning_tier)


def plan_or_outcome_label(rec: Record, step_id: str, outcome_name: str, lang: str) -> str:
    if step_id == PLAN_STEP and step_id not in rec.pb.steps and rec.pb.warning_plan:
        return rec.pb.warning_plan.action_label(outcome_name, lang, rec.state.warning_tier)
    return rec.pb.outcome_label(step_id, outcome_name, lang)


def changes(rec: Record) -> int:
    """How often the plan was raised or ended so far: numbers its notices."""
    return sum(1 for e in rec.state.timeline if e.kind in ("warning_tier", "warning_plan_ended"))


def end_plan(rec: Record, now: datetime, step_id: str | None, actor: str | None, why: str,
             notify: bool = False) -> None:
    tier = rec.state.warning_tier
    rec.state.warning_tier = 0
    rec.log(now, "warning_plan_ended", step_id, actor,
            detail=f"tier {tier} warning plan ended" + (f": {why}" if why else ""))
    if notify:
        notify_plan(rec, "ended", actor or "", why, tier)


def end_plan_at_close(rec: Record, step_id: str, now: datetime) -> bool:
    """A plan still running at close ends automatically, logged as such; True if one ended."""
    if not active(rec.state.warning_tier):
        return False
    end_plan(rec, now, step_id, None, "automatically at close", notify=rec.pb.warning_plan is not None)
    return True


def notify_plan(rec: Record, change: str, actor: str, note: str, tier: int | None = None) -> None:
    plan = rec.pb.warning_plan
    notice = getattr(plan, change, None) if plan else None
    if notice is None or not notice.notify:
        return
    rec.effects.append(rec.messages.plan_notice(
        notice, f"plan-{change}{changes(rec)}", actor, note, tier_names(tier or rec.state.warning_tier)))
