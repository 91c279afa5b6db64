"""The validator of `amend_registration`: the same bounds and role rule as the gateway, for requests sent straight
to Temporal."""

from __future__ import annotations

from groupdesk.core import involved, validation as bounds
from groupdesk.core.amend import AmendRegistration, amend_problems, amend_refusal, amended_ticket_problem, may_amend
from workflows.checks import rejected, require_bounded, require_not_closed, roles_of
from workflows.machine.amend import changes
from workflows.machine.incident import IncidentMachine


def check_amend(machine: IncidentMachine, req: AmendRegistration) -> None:
    require_not_closed(machine)
    for field, problem in amend_problems(req).items():
        raise rejected(f"{field}: {problem}")
    if problem := amended_ticket_problem(req, machine.state.registration):
        raise rejected(f"ticket_no: {problem}")
    # the entry names the reason and the demands as given: within what the timeline may still hold
    require_bounded("reason", bounds.room_problem(machine.state.timeline, req.reason + (req.demands or "") * 2))
    if req.actor and req.actor == machine.state.registration.person_involved:
        raise rejected(involved.refusal(req.actor, "amend the registration"))
    if not may_amend(req.actor, machine.state.owner, roles_of(machine, req.actor, req.roles)):
        raise rejected(amend_refusal(req.actor, machine.state.id, machine.state.owner))
    if not changes(machine, req):
        raise rejected("registration: no change; the registration already says that")
