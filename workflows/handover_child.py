"""Hand-overs to another playbook: the machine's side of a child incident (pure, given `now`).

An outcome with `hand_over` (or a second dissatisfied follow-up answer) records a `StartChild`
effect; the workflow loads the other playbook, starts the child workflow and reports back
here: started, failed, or (a parent that waits) the child's result. Both sides keep the link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from groupdesk.core.links import ChildResult, HandOverSpec, LinkedIncident, ParentLink
from groupdesk.core.models import IncidentState, StartIncident
from groupdesk.core.playbook import Playbook

if TYPE_CHECKING:
    from workflows.incident_machine import IncidentMachine

MAX_ID = 64


@dataclass
class StartChild:
    """Load `spec.playbook` and start it as the child incident `child_id` (same hall, registration, complainant)."""

    child_id: str
    spec: HandOverSpec
    step: str | None
    actor: str


def child_id_for(parent_id: str, number: int) -> str:
    suffix = f"-c{number}"
    return parent_id[:MAX_ID - len(suffix)] + suffix


class ChildLinks:
    def note_parent(self: IncidentMachine, now: datetime) -> None:
        """A child incident names its parent from its first moment."""
        parent = self.start.parent
        if parent is None:
            return
        self.state.linked.append(LinkedIncident(id=parent.id, relation="parent", playbook=parent.playbook,
                                                mode=parent.mode, step=parent.step, at=now))
        self.log(now, "handed_over_from", actor=self.start.started_by,
                 detail=f"{parent.id} ({parent.playbook}, {parent.step or '-'})")

    def hand_over_child(self: IncidentMachine, spec: HandOverSpec, step: str | None, actor: str,
                        now: datetime, next_step: str | None) -> None:
        """Start `spec.playbook` as a child; with parent close this incident closes now, with wait it waits."""
        number = sum(1 for link in self.state.linked if link.relation == "child") + 1
        child_id = child_id_for(self.state.id, number)
        self.state.linked.append(LinkedIncident(
            id=child_id, relation="child", playbook=spec.playbook, status="starting", mode=spec.parent, step=step,
            at=now, next=next_step if spec.parent == "wait" else None))
        self.log(now, "handed_over_to", step, actor,
                 detail=f"{child_id} ({spec.playbook}); " + ("waiting for its result" if spec.parent == "wait"
                                                             else "this incident closes"))
        self.effects.append(StartChild(child_id=child_id, spec=spec, step=step, actor=actor))
        if spec.parent == "close":
            self.state.resolution = f"handed over to {spec.playbook}: {child_id}"
            if self.state.warning_tier > 0:
                self.state.warning_tier = 0
                self.log(now, "warning_plan_ended", step, detail="warning plan ended with the hand-over")
            self.close_incident(now, f"handed over to {child_id} ({spec.playbook})")

    def waiting_child(self: IncidentMachine) -> LinkedIncident | None:
        """The child this incident waits for, if any."""
        return next((link for link in self.state.linked if link.relation == "child" and link.mode == "wait"
                     and link.status in ("starting", "open")), None)

    def child_start(self: IncidentMachine, effect: StartChild, playbook: Playbook) -> StartIncident:
        """The child's start: this incident's hall, roster, complainant and registration, its own id and playbook."""
        roster_ids = {s.id for staff in self.start.roster.values() for s in staff}
        return self.start.model_copy(update={
            "incident_id": effect.child_id, "playbook": playbook, "carried": None, "repeat_of": None,
            "repeat_outcome": "", "started_by": effect.actor if effect.actor in roster_ids else
            (self.state.owner or self.start.started_by),
            "parent": ParentLink(id=self.state.id, playbook=self.pb.id, step=effect.step, mode=effect.spec.parent),
        })

    def _link(self: IncidentMachine, child_id: str) -> LinkedIncident | None:
        return next((link for link in self.state.linked if link.id == child_id and link.relation == "child"), None)

    def child_started(self: IncidentMachine, child_id: str, now: datetime) -> None:
        link = self._link(child_id)
        if link and link.status == "starting":
            link.status = "open"
            self.log(now, "child_started", link.step, detail=f"{child_id} ({link.playbook})")

    def child_failed(self: IncidentMachine, child_id: str, error: str, now: datetime) -> None:
        """The child could not be started (or failed): on the timeline; a waiting parent goes on."""
        self.child_finished(ChildResult(id=child_id, status="failed", error=error), now)

    def child_finished(self: IncidentMachine, result: ChildResult, now: datetime) -> None:
        """The child's result on the timeline; a parent that waited goes on to its next step, or closes."""
        link = self._link(result.id)
        if link is None or link.status in ("closed", "failed"):
            return
        waited = link.mode == "wait" and link.status in ("starting", "open")
        link.status = "failed" if result.status == "failed" else "closed"
        link.result = result.error or result.resolution or result.last_outcome
        detail = f"{result.id}: " + (f"failed: {result.error}" if result.error else result.resolution or "closed")
        if result.score is not None:
            detail += f" (satisfaction {result.score}/5)"
        self.log(now, "child_result", link.step, detail=detail)
        if not waited or self.state.status != "open":
            return
        if link.next:
            self.enter(link.next, now, came_from=link.step, result=f"{link.playbook}: {link.result}")
            self.refresh_stage()
        else:
            self.state.resolution = f"{link.playbook}: {link.result}"
            self.close_incident(now, f"{link.playbook} {result.id} ended: {link.result}")


def result_of(state: IncidentState) -> ChildResult:
    """What a parent records of its finished child."""
    last = next((e.detail for e in reversed(state.timeline) if e.kind == "outcome"), "")
    return ChildResult(id=state.id, status=state.status, resolution=state.resolution or "", last_outcome=last,
                       score=state.follow_up.score if state.follow_up else None)
