"""The validator of the `promise` update: a change that fails here is rejected and never reaches history."""

from __future__ import annotations

from datetime import datetime

from groupdesk.core import validation as bounds
from groupdesk.core.promise_models import UNRESOLVED, Promise, PromiseChange, due_problem
from groupdesk.core.roles import LEAD_COMPLAINANT
from workflows.checks import rejected, require_bounded, require_not_closed, require_role, roles_of
from workflows.machine.incident import IncidentMachine

KEEPERS = ("hall_lead", "centre_director")  # besides the promise's owner: who may record it kept or re-promise


def check_promise(machine: IncidentMachine, req: PromiseChange, now: datetime) -> None:
    if len(req.actor) > bounds.NAME_MAX:
        raise rejected(f"actor is an id of at most {bounds.NAME_MAX} characters")
    require_bounded("note", bounds.note_problem(req.note) or bounds.room_problem(machine.state.timeline, req.note))
    require_not_closed(machine)
    if req.kind == "add":
        _check_add(machine, req, now)
        return
    if req.kind == "waive":
        require_role(machine, req.actor, ["centre_director"], "waive promises", req.roles)
        require_bounded("reason", bounds.note_problem(req.note, "say why the promise is waived; pass --reason TEXT"))
        if req.promise:
            _unresolved(machine, req.promise)
        elif not any(p.status in UNRESOLVED for p in machine.state.promises):
            raise rejected(f"incident {machine.state.id} has no promise left to waive")
        return
    p = _unresolved(machine, req.promise)
    if req.actor != p.owner:
        require_role(machine, req.actor, KEEPERS, f"record promise {p.id} (its owner is {p.owner})", req.roles)
    if req.kind == "change":
        require_bounded("reason", bounds.note_problem(req.note, "say why the due time changes; pass --reason TEXT"))
        _check_due(req.due, now, p.due_at)


def _check_add(machine: IncidentMachine, req: PromiseChange, now: datetime) -> None:
    require_bounded("what", bounds.promise_what_problem(req.what)
                    or bounds.room_problem(machine.state.timeline, req.what))
    require_bounded("owner", bounds.staff_id_problem(req.owner))
    if req.to != LEAD_COMPLAINANT:
        require_bounded("to", bounds.staff_id_problem(req.to))
    _check_due(req.due, now)
    if not roles_of(machine, req.actor, req.roles):
        raise rejected(f"{req.actor!r} holds no role at hall {machine.state.hall_id}; only its staff make promises")
    if not (req.owner_role or roles_of(machine, req.owner)):
        raise rejected(f"owner: {req.owner!r} holds no role at hall {machine.state.hall_id}; name a staff member"
                       " of the hall (see `groupdesk directory`)")
    if req.owner == machine.state.registration.person_involved:  # 更换当事人: never theirs to keep
        raise rejected(f"owner: {req.owner!r} is the staff member this complaint is about; name someone else")
    if machine.state.follow_up is not None:
        raise rejected(f"incident {machine.state.id} is resolved (waiting for its follow-up); no new promises")
    if len(machine.state.promises) >= bounds.PROMISES_MAX:
        raise rejected(f"incident {machine.state.id} already has {bounds.PROMISES_MAX} promises")


def _check_due(due: str, now: datetime, before: datetime | None = None) -> None:
    require_bounded("due", due_problem(due, now, before))


def _unresolved(machine: IncidentMachine, promise_id: str) -> Promise:
    require_bounded("promise", bounds.promise_id_problem(promise_id))
    p = next((p for p in machine.state.promises if p.id == promise_id), None)
    if p is None:
        known = ", ".join(p.id for p in machine.state.promises) or "none"
        raise rejected(f"promise: incident {machine.state.id} has no promise {promise_id!r} (its promises: {known})")
    if p.status not in UNRESOLVED:
        raise rejected(f"promise: {p.id} is already {p.status}")
    return p
