"""The follow-up (回访): the survey sent after closing, its expiry, and the answer, satisfied or not.

With `reopen` in the close step's follow-up, an answer at or below its score sends the incident back to the
named step (timeline, hall lead told; seed 004: 不满意时…尽快加以处理); the next such answer does `then` (a
hand-over to another playbook). Without it, or with a better score, the answer closes the incident.
"""

from __future__ import annotations

from datetime import datetime

from groupdesk.core.models import RecordFollowUp
from workflows.machine import children, steps
from workflows.machine.record import Record


def send(rec: Record, now: datetime) -> None:
    """The survey goes to the lead complainant; it expires after the playbook's `expires_after`."""
    close_id, spec = rec.follow_up_spec()
    follow = rec.state.follow_up
    follow.sent = True
    follow.expires_at = now + rec.scaled(spec.expires_after)
    rec.log(now, "follow_up_sent", close_id, detail="satisfaction survey sent to the lead complainant")
    rec.effects.append(rec.messages.follow_up(close_id, spec.template))


def expire(rec: Record, now: datetime) -> None:
    rec.state.follow_up.outcome = "expired"
    rec.close_incident(now, "follow-up expired without an answer")


def answer(rec: Record, req: RecordFollowUp, now: datetime) -> None:
    """The lead complainant's satisfaction answer closes the incident (or, dissatisfied, reopens it)."""
    follow = rec.state.follow_up
    follow.score, follow.comment, follow.outcome = req.score, req.comment, "answered"
    rec.log(now, "follow_up_answered", actor=req.actor,
            detail=f"satisfaction {req.score}/5" + (f" — {req.comment}" if req.comment else ""))
    if not reopen_if_dissatisfied(rec, req, now):
        rec.close_incident(now, f"follow-up answered: {req.score}/5")


def reopen_if_dissatisfied(rec: Record, req: RecordFollowUp, now: datetime) -> bool:
    """True if the answer reopened the incident or handed it over (so it does not close here)."""
    close_id, spec = rec.follow_up_spec()
    rule = spec.reopen if spec else None
    if rule is None or req.score > rule.at_or_below:
        return False
    rec.state.reopened += 1
    if rule.then is not None and rec.state.reopened > 1:
        rec.log(now, "dissatisfied_again", close_id, req.actor,
                detail=f"satisfaction {req.score}/5 again: handed over to {rule.then.hand_over.playbook}")
        children.hand_over_child(rec, rule.then.hand_over, "follow_up", req.actor, now, next_step=None)
        rec.refresh_stage()
        return True
    title = rec.pb.step_title(rule.to)
    rec.log(now, "reopened", rule.to, req.actor, detail=f"satisfaction {req.score}/5: back to {title}")
    rec.effects.append(rec.messages.reopened(rule.to, req.score, req.comment, rec.state.reopened))
    rec.state.follow_up = None
    rec.state.resolution = None
    closed = rec.state.steps[close_id]
    closed.status, closed.finished_at = "done", now  # closing again is a new visit of the close step
    steps.reenter(rec, rule.to, now)
    rec.refresh_stage()
    return True
