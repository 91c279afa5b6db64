"""The follow-up answer, satisfied or not (seed 004: 不满意时…尽快加以处理): pure, given `now`.

With `reopen` in the close step's follow-up, an answer at or below its score sends the incident
back to the named step (timeline, hall lead told); the next such answer does `then` (a hand-over
to another playbook). Without it, or with a better score, the answer closes the incident.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from groupdesk.core.models import RecordFollowUp, StepState

if TYPE_CHECKING:
    from workflows.incident_machine import IncidentMachine


class FollowUpReopen:
    def reopen_if_dissatisfied(self: IncidentMachine, req: RecordFollowUp, now: datetime) -> bool:
        """True if the answer reopened the incident or handed it over (so it does not close here)."""
        close_id, spec = self._follow_up_spec()
        rule = spec.reopen if spec else None
        if rule is None or req.score > rule.at_or_below:
            return False
        self.state.reopened += 1
        if rule.then is not None and self.state.reopened > 1:
            self.log(now, "dissatisfied_again", close_id, req.actor,
                     detail=f"satisfaction {req.score}/5 again: handed over to {rule.then.hand_over.playbook}")
            self.hand_over_child(rule.then.hand_over, "follow_up", req.actor, now, next_step=None)
            self.refresh_stage()
            return True
        title = self.pb.step_title(rule.to)
        self.log(now, "reopened", rule.to, req.actor, detail=f"satisfaction {req.score}/5: back to {title}")
        self.effects.append(self.messages.reopened(rule.to, req.score, req.comment, self.state.reopened))
        self.state.follow_up = None
        self.state.resolution = None
        closed = self.state.steps[close_id]
        closed.status, closed.finished_at = "done", now  # closing again is a new visit of the close step
        self.reenter(rule.to, now)
        self.refresh_stage()
        return True

    def reenter(self: IncidentMachine, step_id: str, now: datetime) -> None:
        """Start a step again, its earlier steps counted as arrived (they were done before)."""
        step = self.pb.steps[step_id]
        if not step.wait_for:
            self.enter(step_id, now, came_from=None)
            return
        previous = self.state.steps.get(step_id)
        self.state.steps[step_id] = StepState(step=step_id, status="waiting", arrived_from=list(step.wait_for[:-1]),
                                              visit=previous.visit + 1 if previous else 1)
        self.enter(step_id, now, came_from=step.wait_for[-1])
