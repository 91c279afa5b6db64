"""The validators of `tell` and `from_complainant`: the same bounds and role rule as the gateway, for requests sent straight to Temporal."""

from __future__ import annotations

from datetime import datetime

from groupdesk.core import involved, validation as bounds
from groupdesk.core.tell import FromComplainant, TellComplainant, info_problem, may_tell, tell_problems, tell_refusal
from workflows.checks import rejected, require_bounded, require_not_closed, roles_of
from workflows.machine.incident import IncidentMachine


def check_tell(machine: IncidentMachine, req: TellComplainant, now: datetime) -> None:
    require_not_closed(machine)
    for field, problem in tell_problems(req.message, req.text, req.at, now).items():
        raise rejected(f"{field}: {problem}")
    if req.actor and req.actor == machine.state.registration.person_involved:
        raise rejected(involved.refusal(req.actor, "speak to the complainant"))
    if not may_tell(req.actor, machine.state.owner, roles_of(machine, req.actor, req.roles)):
        raise rejected(tell_refusal(req.actor, machine.state.id, machine.state.owner))


def check_from_complainant(machine: IncidentMachine, req: FromComplainant) -> None:
    require_not_closed(machine)
    if not req.phone_key or req.phone_key != machine.start.follow_up_key:
        raise rejected("this did not come through the lead complainant's status link")
    if req.kind == "info":
        require_bounded("text", info_problem(req.text) or bounds.room_problem(machine.state.timeline, req.text))
