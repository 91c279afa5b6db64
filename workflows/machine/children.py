"""Hand-overs to another playbook: the machine's side of a child incident (pure, given `now`).

An outcome with `hand_over` (or a second dissatisfied follow-up answer) records a `StartChild`
effect; the workflow loads the other playbook, starts the child workflow and reports back
here: started, failed, or (a parent that waits) the child's result. Both sides keep the link.
"""

from __future__ import annotations

from datetime import datetime

from groupdesk.core.links import ChildResult, HandOverSpec, LinkedIncident, ParentLink
from groupdesk.core.models import IncidentState, StartIncident
from groupdesk.core.playbook import Playbook
from workflows.machine import steps
from workflows.machine.record import Record, StartChild

MAX_ID = 64


def child_id_for(parent_id: str, number: int) -> str:
    suffix = f"-c{number}"
    return parent_id[:MAX_ID - len(suffix)] + suffix


def note_parent(rec: Record, now: datetime) -> None:
    """A child incident names its parent from its first moment."""
    parent = rec.start.parent
    if parent is None:
        return
    rec.state.linked.append(LinkedIncident(id=parent.id, relation="parent", playbook=parent.playbook,
                                           mode=parent.mode, step=parent.step, at=now))
    rec.log(now, "handed_over_from", actor=rec.start.started_by,
            detail=f"{parent.id} ({parent.playbook}, {parent.step or '-'})")


def hand_over_child(rec: Record, spec: HandOverSpec, step: str | None, actor: str,
                    now: datetime, next_step: str | None) -> None:
    """Start `spec.playbook` as a child; with parent close this incident closes now, with wait it waits."""
    number = sum(1 for link in rec.state.linked if link.relation == "child") + 1
    child_id = child_id_for(rec.state.id, number)
    rec.state.linked.append(LinkedIncident(
        id=child_id, relation="child", playbook=spec.playbook, status="starting", mode=spec.parent, step=step,
        at=now, next=next_step if spec.parent == "wait" else None))
    rec.log(now, "handed_over_to", step, actor,
            detail=f"{child_id} ({spec.playbook}); " + ("waiting for its result" if spec.parent == "wait"
                                                        else "this incident closes"))
    rec.effects.append(StartChild(child_id=child_id, spec=spec, step=step, actor=actor))
    if spec.parent == "close":
        rec.state.resolution = f"handed over to {spec.playbook}: {child_id}"
        if rec.state.warning_tier > 0:
            rec.state.warning_tier = 0
            rec.log(now, "warning_plan_ended", step, detail="warning plan ended with the hand-over")
        rec.close_incident(now, f"handed over to {child_id} ({spec.playbook})")


def child_start(rec: Record, effect: StartChild, playbook: Playbook) -> StartIncident:
    """The child's start: this incident's hall, roster, complainant and registration, its own id and playbook."""
    roster_ids = {s.id for staff in rec.start.roster.values() for s in staff}
    return rec.start.model_copy(update={
        "incident_id": effect.child_id, "playbook": playbook, "carried": None, "repeat_of": None,
        "repeat_outcome": "", "started_by": effect.actor if effect.actor in roster_ids else
        (rec.state.owner or rec.start.started_by),
        "parent": ParentLink(id=rec.state.id, playbook=rec.pb.id, step=effect.step, mode=effect.spec.parent),
    })


def _link(rec: Record, child_id: str) -> LinkedIncident | None:
    return next((link for link in rec.state.linked if link.id == child_id and link.relation == "child"), None)


def child_started(rec: Record, child_id: str, now: datetime) -> None:
    link = _link(rec, child_id)
    if link and link.status == "starting":
        link.status = "open"
        rec.log(now, "child_started", link.step, detail=f"{child_id} ({link.playbook})")


def child_failed(rec: Record, child_id: str, error: str, now: datetime) -> None:
    """The child could not be started (or failed): on the timeline; a waiting parent goes on."""
    child_finished(rec, ChildResult(id=child_id, status="failed", error=error), now)


def child_finished(rec: Record, result: ChildResult, now: datetime) -> None:
    """The child's result on the timeline; a parent that waited goes on to its next step, or closes."""
    link = _link(rec, result.id)
    if link is None or link.status in ("closed", "failed"):
        return
    waited = link.mode == "wait" and link.status in ("starting", "open")
    link.status = "failed" if result.status == "failed" else "closed"
    link.result = result.error or result.resolution or result.last_outcome
    detail = f"{result.id}: " + (f"failed: {result.error}" if result.error else result.resolution or "closed")
    if result.score is not None:
        detail += f" (satisfaction {result.score}/5)"
    rec.log(now, "child_result", link.step, detail=detail)
    if not waited or rec.state.status != "open":
        return
    if link.next:
        steps.enter(rec, link.next, now, came_from=link.step, result=f"{link.playbook}: {link.result}")
        rec.refresh_stage()
    else:
        rec.state.resolution = f"{link.playbook}: {link.result}"
        rec.close_incident(now, f"{link.playbook} {result.id} ended: {link.result}")


def result_of(state: IncidentState) -> ChildResult:
    """What a parent records of its finished child."""
    last = next((e.detail for e in reversed(state.timeline) if e.kind == "outcome"), "")
    return ChildResult(id=state.id, status=state.status, resolution=state.resolution or "", last_outcome=last,
                       score=state.follow_up.score if state.follow_up else None)
