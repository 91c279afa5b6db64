"""The `tell` update's validator: the same bounds and role rule as the gateway, for requests sent straight to Temporal."""

from __future__ import annotations

from datetime import datetime

from groupdesk.core import involved
from groupdesk.core.tell import TellComplainant, may_tell, tell_problems, tell_refusal
from workflows.checks import rejected, require_not_closed, roles_of
from workflows.machine.incident import IncidentMachine


def check_tell(machine: IncidentMachine, req: TellComplainant, now: datetime) -> None:
    require_not_closed(machine)
    for field, problem in tell_problems(req.message, req.text, req.at, now).items():
        raise rejected(f"{field}: {problem}")
    if req.actor and req.actor == machine.state.registration.person_involved:
        raise rejected(involved.refusal(req.actor, "speak to the complainant"))
    if not may_tell(req.actor, machine.state.owner, roles_of(machine, req.actor, req.roles)):
        raise rejected(tell_refusal(req.actor, machine.state.id, machine.state.owner))
