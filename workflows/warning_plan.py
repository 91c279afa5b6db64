"""The warning plan's changes: started or raised by an outcome, raised or ended by its manager, ended at close.

Tiers are ordered as in Chinese plans (groupdesk.core.warning_plan: 一级 is the most severe). A mixin of
`IncidentMachine`, pure like the rest of the machine: given `now`, recording effects in `self.effects`.
Playbooks without a `warning_plan:` section (every snapshot from before it) keep their old behaviour:
no plan actions and no end notice, so their recorded histories replay unchanged.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from groupdesk.core.models import RecordOutcome
from groupdesk.core.warning_plan import PLAN_STEP, RAISE, active, at_or_above, more_severe, plan_actions, tier_names

if TYPE_CHECKING:
    from workflows.incident_machine import IncidentMachine


class WarningPlanChanges:
    def set_tier(self: IncidentMachine, tier: int | None, step_id: str, actor: str, now: datetime) -> None:
        """An outcome's `set_warning_tier`: starts the plan or raises it (never lowers a running one); 0 ends it."""
        if tier is None:
            return
        if tier == 0:
            if active(self.state.warning_tier):
                self.end_plan(now, step_id, actor, "", notify=True)
            return
        new = more_severe(self.state.warning_tier, tier)
        if new == self.state.warning_tier:
            return
        raised = active(self.state.warning_tier)
        before, self.state.warning_tier = self.state.warning_tier, new
        self.log(now, "warning_tier", step_id, actor,
                 detail=f"warning tier {new}" + (f" (raised from {before})" if raised else ""))

    def reports_at(self: IncidentMachine, tier: int) -> bool:
        """Whether a change at `tier` is reported: while the plan runs at the playbook's threshold or above."""
        reports = self.pb.progress_reports
        if not reports or not active(tier):
            return False
        return reports.while_plan_active or at_or_above(tier, reports.at_or_above)

    # ---- the manager's actions (they show in `actions` as the step `warning_plan`) ---------

    def plan_actions(self: IncidentMachine) -> list[str]:
        return plan_actions(self.pb.warning_plan, self.state.status, self.state.warning_tier)

    def act_on_plan(self: IncidentMachine, req: RecordOutcome, now: datetime) -> None:
        """The manager's validated action: raise the plan one tier, or end it; every office is told once."""
        before = self.state.warning_tier
        if req.outcome == RAISE:
            self.set_tier(before - 1, PLAN_STEP, req.actor, now)
            self.notify_plan("raised", req.actor, req.note)
        else:
            self.end_plan(now, PLAN_STEP, req.actor, req.note.strip(), notify=True)
        # the leadership office hears of it in the progress report; the notices name who else is told
        changes = sum(1 for e in self.state.timeline if e.kind in ("warning_tier", "warning_plan_ended"))
        self.report_progress(now, PLAN_STEP, req.outcome, more_severe(before, self.state.warning_tier),
                             occasion=f"{req.outcome}{changes}")
        self.refresh_stage()

    def plan_or_outcome_label(self: IncidentMachine, step_id: str, outcome_name: str, lang: str) -> str:
        if step_id == PLAN_STEP and step_id not in self.pb.steps and self.pb.warning_plan:
            return self.pb.warning_plan.action_label(outcome_name, lang, self.state.warning_tier)
        return self.pb.outcome_label(step_id, outcome_name, lang)

    # ---- ending -------------------------------------------------------------------------

    def end_plan(self: IncidentMachine, now: datetime, step_id: str | None, actor: str | None, why: str,
                 notify: bool = False) -> None:
        tier = self.state.warning_tier
        self.state.warning_tier = 0
        self.log(now, "warning_plan_ended", step_id, actor,
                 detail=f"tier {tier} warning plan ended" + (f": {why}" if why else ""))
        if notify:
            self.notify_plan("ended", actor or "", why, tier)

    def end_plan_at_close(self: IncidentMachine, step_id: str, now: datetime) -> bool:
        """A plan still running at close ends automatically, logged as such; True if one ended."""
        if not active(self.state.warning_tier):
            return False
        self.end_plan(now, step_id, None, "automatically at close", notify=self.pb.warning_plan is not None)
        return True

    def notify_plan(self: IncidentMachine, change: str, actor: str, note: str, tier: int | None = None) -> None:
        plan = self.pb.warning_plan
        notice = getattr(plan, change, None) if plan else None
        if notice is None or not notice.notify:
            return
        number = sum(1 for e in self.state.timeline if e.kind in ("warning_tier", "warning_plan_ended"))
        self.effects.append(self.messages.plan_notice(
            notice, f"plan-{change}{number}", actor, note, tier_names(tier or self.state.warning_tier)))

