"""Update validators: a request that fails here is rejected and never reaches history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from temporalio.exceptions import ApplicationError

from groupdesk.core.evidence import EvidenceAdded, evidence_problems
from groupdesk.core.links import CHOSEN
from groupdesk.core.models import DecideApproval, FailedAction, HandOver, MigratePlaybook, RecordFollowUp, RecordOutcome
from groupdesk.core.playbook import Step
from groupdesk.core.roles import LEAD_COMPLAINANT, with_ownership
from groupdesk.core.times import step_time_problems
from groupdesk.core import involved, validation as bounds
from groupdesk.core.warning_plan import PLAN_STEP
from workflows.machine.incident import IncidentMachine
from workflows.machine.outcome_kinds import time_fields
from workflows.machine import findings
from workflows.machine.promises import closing_problem


def rejected(message: str) -> ApplicationError:
    return ApplicationError(message, type="InvalidRequest", non_retryable=True)


def roles_of(machine: IncidentMachine, actor: str, current: list[str] | None = None) -> set[str]:
    """The actor's roles: as the gateway read the directory now if it said (with the roles it stands in for,
    更换当事人), else from the roster at start (standing in as that roster says)."""
    if current is not None:
        return with_ownership(current, actor, machine.state.owner)
    mine = {role for role, staff in machine.start.roster.items() if any(s.id == actor for s in staff)}
    if person := machine.state.registration.person_involved:
        holders = {role: [s.id for s in staff] for role, staff in machine.start.roster.items()}
        mine = set(involved.acting_roles(mine, holders, person, machine.pb.escalation.chain))
    return with_ownership(mine, actor, machine.state.owner)  # a step of `owner: incident_owner`


def require_bounded(field: str, problem: str | None) -> None:
    """The same length bounds as the CLI and the console, for requests sent straight to Temporal."""
    if problem:
        raise rejected(f"{field}: {problem}")


def require_not_closed(machine: IncidentMachine) -> None:
    if machine.state.status != "open":
        raise rejected(f"incident {machine.state.id} is closed; nothing more can be recorded")


def require_active(machine: IncidentMachine, step_id: str) -> Step:
    if step_id not in machine.pb.steps:
        raise rejected(f"unknown step {step_id!r}; this playbook's steps are {', '.join(machine.pb.steps)}")
    state = machine.state.steps.get(step_id)
    if not state or state.status != "active":
        active = ", ".join(machine.active_steps()) or "none"
        raise rejected(f"step {step_id!r} is not under way (it is {state.status if state else 'not started'});"
                       f" active steps: {active}")
    return machine.pb.steps[step_id]


def require_role(machine: IncidentMachine, actor: str, allowed: Sequence[str], doing: str,
                 current: list[str] | None = None) -> None:
    if actor and actor == machine.state.registration.person_involved:
        raise rejected(involved.refusal(actor, doing))
    if roles_of(machine, actor, current) & set(allowed):
        return
    holders = [f"{s.id} ({role})" for role in allowed for s in machine.start.roster.get(role, [])]
    raise rejected(
        f"{actor!r} may not {doing}: it needs the role {' or '.join(allowed)} at hall {machine.state.hall_id}"
        f"{'; who may: ' + ', '.join(holders) if holders else ''}"
    )


def check_outcome(machine: IncidentMachine, req: RecordOutcome, now: datetime) -> None:
    require_bounded("note", bounds.note_problem(req.note) or bounds.room_problem(machine.state.timeline, req.note))
    require_bounded("data", bounds.data_size_problem(req.data))
    if len(req.step) > bounds.NAME_MAX or len(req.outcome) > bounds.NAME_MAX or len(req.actor) > bounds.NAME_MAX:
        raise rejected(f"step, outcome and actor are ids of at most {bounds.NAME_MAX} characters")
    require_not_closed(machine)
    if req.step == PLAN_STEP and req.step not in machine.pb.steps and machine.pb.warning_plan:
        return check_plan_action(machine, req)
    step = require_active(machine, req.step)
    if step.kind == "approval":
        raise rejected(f"step {req.step!r} is an approval; decide it with approve (or approve --reject)")
    outcome = step.outcomes.get(req.outcome)
    if outcome is None:
        raise rejected(f"step {req.step!r} has no outcome {req.outcome!r}; its outcomes are {', '.join(step.outcomes)}")
    if not outcome.stay and (problem := closing_problem(machine, outcome.next)):
        raise rejected(problem)
    require_role(machine, req.actor, [step.owner, *step.recorded_by], f"record the outcome of {req.step}", req.roles)
    if not outcome.offered_at(machine.state.headcount):
        raise rejected(outcome.refusal_at(req.outcome, machine.state.headcount))
    if outcome.hand_over and outcome.hand_over.playbook == CHOSEN:
        chosen = req.data.get("playbook", "")
        if bounds.playbook_id_problem(chosen) or chosen == machine.pb.id:
            raise rejected(f"outcome {req.outcome!r} hands over to the playbook chosen for the headcount and"
                           f" category now; give it as --data playbook=ID (not {machine.pb.id})")
    if outcome.requires_reason and not req.note.strip():
        raise rejected(f"outcome {req.outcome!r} needs a reason; give it as the note")
    for field in outcome.requires_data:
        if not req.data.get(field, "").strip():
            raise rejected(f"outcome {req.outcome!r} needs {field}; pass --data {field}=VALUE")
    # an appointment's time, adjourning's: ahead, within 90 days, not the time already agreed (groupdesk.core.times)
    step_data = machine.state.steps[req.step].data
    for field, problem in step_time_problems(step_data, time_fields(outcome), req.data, now).items():
        raise rejected(f"{field}: {problem}")
    if not outcome.stay and outcome.hand_over is None:  # last: the outcome is right, only the finding is missing
        # (a hand-over's child incident carries the dispute and its own finding; the parent closes on its result)
        require_bounded("finding", findings.closing_problem(machine, outcome.next))


def check_plan_action(machine: IncidentMachine, req: RecordOutcome) -> None:
    """Raise or end the running warning plan: its manager (the centre director) only."""
    allowed = machine.plan_actions()
    if not allowed:
        raise rejected(f"no warning plan is running in {machine.state.id}; there is nothing to raise or end")
    if req.outcome not in allowed:
        raise rejected(f"the warning plan can now be: {', '.join(allowed)}, not {req.outcome!r}"
                       " (一级 is the most severe tier; a tier-1 plan cannot be raised)")
    require_role(machine, req.actor, [machine.pb.warning_plan.managed_by], f"{req.outcome} the warning plan",
                 req.roles)


def check_approval(machine: IncidentMachine, req: DecideApproval) -> str:
    require_bounded("reason", bounds.note_problem(req.reason)
                    or bounds.room_problem(machine.state.timeline, req.reason))
    pending = machine.pending_approvals()
    if req.code_key and pending and machine.state.status == "open" and machine.state.approval_key is None:
        raise rejected("this approval's code is not registered yet; reply again in a minute")
    if req.code_key and req.code_key != machine.state.approval_key:  # None once decided or closed
        raise stale_code(machine)
    require_not_closed(machine)
    if not pending:
        raise rejected(f"incident {machine.state.id} has no approval waiting; active steps: "
                       f"{', '.join(machine.active_steps()) or 'none'}")
    step_id = pending[0]
    require_role(machine, req.actor, [machine.pb.steps[step_id].owner], f"decide {step_id}", req.roles)
    if req.decision == "reject" and not req.reason.strip():
        raise rejected("a rejection needs a reason; pass --reason TEXT")
    decided = machine.pb.steps[step_id].outcomes.get("approved" if req.decision == "approve" else "rejected")
    if decided and (problem := closing_problem(machine, decided.next)):
        raise rejected(problem)
    if decided:
        require_bounded("finding", findings.closing_problem(machine, decided.next))
    return step_id


def stale_code(machine: IncidentMachine) -> ApplicationError:
    """An SMS reply whose code belongs to no approval waiting now: used, expired or superseded."""
    return ApplicationError(f"that code is no longer valid for {machine.state.id}", type="StaleApprovalCode",
                            non_retryable=True)


def check_follow_up(machine: IncidentMachine, req: RecordFollowUp) -> None:
    require_bounded("comment", bounds.note_problem(req.comment)
                    or bounds.room_problem(machine.state.timeline, req.comment))
    require_not_closed(machine)
    if machine.state.follow_up is None or machine.state.follow_up.outcome != "pending":
        raise rejected(f"incident {machine.state.id} is not waiting for a follow-up answer")
    if not 1 <= req.score <= 5:
        raise rejected(f"score {req.score} is out of range; give 1 (very unsatisfied) to 5 (very satisfied)")
    if req.actor == LEAD_COMPLAINANT:
        if req.phone != machine.start.lead.phone and not (req.phone_key and
                                                          req.phone_key == machine.start.follow_up_key):
            raise rejected("the answer did not come from the lead complainant's phone")
    else:
        require_role(machine, req.actor, ["hall_lead", "centre_director"], "record the follow-up answer", req.roles)


def check_parked(machine: IncidentMachine, step: str, actor: str, doing: str,
                 current: list[str] | None = None) -> list[FailedAction]:
    require_not_closed(machine)
    require_role(machine, actor, ["ops"], doing, current)
    parked = machine.parked(step)
    if not parked:
        waiting = sorted({f.step or "-" for f in machine.state.failed_actions if f.status == "parked"})
        raise rejected(f"no failed action is parked at step {step!r} of {machine.state.id}"
                       f"{'; parked at: ' + ', '.join(waiting) if waiting else ''}")
    return parked


def check_migration(machine: IncidentMachine, req: MigratePlaybook) -> None:
    require_bounded("reason", bounds.note_problem(req.reason))
    require_not_closed(machine)
    require_role(machine, req.actor, ["ops"], "move an incident to another playbook version", req.roles)
    new, old = req.playbook, machine.pb
    if new.id != old.id:
        raise rejected(f"incident {machine.state.id} runs playbook {old.id!r}, not {new.id!r}")
    if new.version <= old.version:
        raise rejected(f"version {new.version} is not newer than the incident's version {old.version}")
    live = [sid for sid, st in machine.state.steps.items() if st.status in ("active", "waiting")]
    missing = [sid for sid in live if sid not in new.steps or new.steps[sid].kind != old.steps[sid].kind]
    if missing:
        raise rejected(f"version {new.version} has no step {', '.join(missing)} (where the incident is now);"
                       " it cannot move there")


def check_handover(machine: IncidentMachine, req: HandOver) -> None:
    """The owner, the hall lead or the centre director hands the incident to someone else, saying why."""
    require_bounded("reason", bounds.note_problem(req.reason, "say why it is handed over; pass --reason TEXT")
                    or bounds.room_problem(machine.state.timeline, req.reason))
    require_bounded("to", bounds.staff_id_problem(req.to))
    require_not_closed(machine)
    if req.to == machine.state.owner:
        raise rejected(f"{req.to!r} already owns {machine.state.id}")
    if req.to == machine.state.registration.person_involved:
        raise rejected(involved.refusal(req.to, f"own {machine.state.id}"))
    if req.actor != machine.state.owner:
        require_role(machine, req.actor, ["hall_lead", "centre_director"], f"hand over {machine.state.id}"
                     f" (its owner is {machine.state.owner})", req.roles)


def check_evidence(machine: IncidentMachine, req: EvidenceAdded) -> None:
    """The `evidence_added` update: a file of the hall's staff, described as the gateway stored it. Not refused once
    the incident is closed: evidence is attached until the archive record is written (the follow-up's wait)."""
    for field, problem in evidence_problems(req, machine.pb.steps).items():
        raise rejected(f"{field}: {problem}")
    if req.actor != LEAD_COMPLAINANT and not roles_of(machine, req.actor, req.roles):  # or a photo from their page
        raise rejected(f"{req.actor} holds no role at hall {machine.state.hall_id}; staff of the hall attach evidence")
