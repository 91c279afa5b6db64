"""The validator of the `finding` update: the same bounds and role rule as the gateway, for requests sent straight
to Temporal."""

from __future__ import annotations

from groupdesk.core import involved, validation as bounds
from groupdesk.core.finding import REVIEW_STEP, RecordFinding, finding_problems, finding_refusal
from groupdesk.core.tell import may_tell
from workflows.checks import rejected, require_bounded, require_not_closed, roles_of
from workflows.machine.incident import IncidentMachine


def check_finding(machine: IncidentMachine, req: RecordFinding) -> None:
    if len(req.actor) > bounds.NAME_MAX:
        raise rejected(f"actor is an id of at most {bounds.NAME_MAX} characters")
    for field, problem in finding_problems(req, causes=None).items():
        raise rejected(f"{field}: {problem}")
    require_bounded("reason", bounds.room_problem(machine.state.timeline, req.reason))
    require_not_closed(machine)
    state = machine.state
    if req.actor and req.actor == state.registration.person_involved:
        raise rejected(involved.refusal(req.actor, "record the finding"))
    if not may_tell(req.actor, state.owner, roles_of(machine, req.actor, req.roles)):
        raise rejected(finding_refusal(req.actor, state.id, state.owner))
    if state.follow_up is not None:
        raise rejected(f"incident {state.id} is resolved (waiting for its follow-up); its finding is final")
    review = state.steps.get(REVIEW_STEP)
    if review and review.status == "active":
        raise rejected(f"the finding of {state.id} is with the centre director (finding_review); they confirm it or"
                       " send it back to be corrected")
