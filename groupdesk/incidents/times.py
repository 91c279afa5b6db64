"""Times that make sense, checked at the door: the times an outcome or a promise carries, by the one rule of
groupdesk.core.times, before anything is sent (CLI exit 2, API 422). The workflow's validators ask the same rule
with the workflow's `now`."""

from __future__ import annotations

from datetime import datetime, timezone

from groupdesk.core.models import IncidentState, PromiseChange, RecordOutcome
from groupdesk.core.playbook import Playbook
from groupdesk.core.promise_models import due_problem
from groupdesk.core.times import step_time_problems
from groupdesk.core.validation import InputError


def check_outcome_times(state: IncidentState, playbook: Playbook, req: RecordOutcome,
                        now: datetime | None = None) -> None:
    """An appointment's or an adjournment's time: InputError naming `data.<field>` for the first problem."""
    from workflows.machine.outcome_kinds import time_fields  # the registry of outcome kinds knows which fields

    step, current = playbook.steps.get(req.step), state.steps.get(req.step)
    outcome = step.outcomes.get(req.outcome) if step else None
    if outcome is None or current is None or current.status != "active":
        return  # the workflow's validator names what is wrong with the step or the outcome
    fields = [f for f in time_fields(outcome) if req.data.get(f, "").strip()]  # a missing one: the validator says
    problems = step_time_problems(current.data, fields, req.data, now or datetime.now(timezone.utc))
    for field, problem in problems.items():
        raise InputError(f"data.{field}", problem)


def check_promise_due(state: IncidentState, change: PromiseChange, now: datetime | None = None) -> None:
    """A promise made or re-promised: its due time (InputError naming `due`)."""
    if change.kind not in ("add", "change"):
        return
    before = next((p.due_at for p in state.promises if p.id == change.promise), None) \
        if change.kind == "change" else None
    if problem := due_problem(change.due, now or datetime.now(timezone.utc), before):
        raise InputError("due", problem)
