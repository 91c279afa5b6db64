"""Findings at close (有效投诉的认定): the machine's side (pure, given `now`).

A finding is recorded (or corrected) by the `finding` update. A close step that requires one is refused while a
non-drill incident has none (`closing_problem`, as for promises). Reaching such a close step with a founded or
partly founded finding not yet confirmed enters the director's `finding_review` instead (`steps.enter` asks
`review_instead`); `confirmed` goes on to the close step, `sent_back` returns to the step the closing outcome came
from, whose owner corrects the finding and closes again.
"""

from __future__ import annotations

from datetime import datetime
from types import MappingProxyType

from groupdesk.core.finding import CONFIRMED, REQUIRED, REVIEW_STEP, Finding, RecordFinding
from groupdesk.core.models import RecordOutcome
from workflows.machine.record import Record

FOUNDED_WORDS = MappingProxyType({"yes": "founded", "no": "not founded", "partly": "partly founded"})


def required(rec: Record, step_id: str | None) -> bool:
    """Whether reaching `step_id` needs a finding first: a close step that says so, in a real incident."""
    step = rec.pb.steps.get(step_id or "")
    return step is not None and step.kind == "close" and step.finding == REQUIRED and not rec.state.drill


def closing_problem(rec: Record, next_step: str | None) -> str | None:
    """Why an outcome leading to `next_step` may not be recorded: it would close without the required finding."""
    if not required(rec, next_step) or rec.state.finding is not None:
        return None
    return (f"{rec.state.id} needs a finding before it closes (founded or not, the cause, who and which"
            f" unit were responsible); record it with groupdesk finding {rec.state.id} --founded yes|no|partly"
            " --cause C --responsible STAFF --unit UNIT --reason TEXT (the owner, the hall lead or the director)")


def review_instead(rec: Record, step_id: str) -> bool:
    """Reaching this close step goes to the director's review first: a founded finding not yet confirmed."""
    step = rec.pb.steps.get(step_id)
    f = rec.state.finding
    return (step is not None and step.kind == "close" and step.finding == REQUIRED and REVIEW_STEP in rec.pb.steps
            and f is not None and f.counts and f.confirmed_at is None)


def record(rec: Record, req: RecordFinding, now: datetime) -> None:
    """A validated finding: it replaces any earlier one (a correction needs the director's review again)."""
    rec.state.finding = Finding(
        founded=req.founded, cause=req.cause, responsible_people=list(req.responsible_people),
        responsible_unit=req.responsible_unit, reason=req.reason.strip(), recorded_by=req.actor, recorded_at=now)
    who = ", ".join(req.responsible_people) or "-"
    rec.log(now, "finding_recorded", None, req.actor,
            detail=f"{FOUNDED_WORDS[req.founded]}; cause {req.cause}; responsible {who}"
                   f" ({req.responsible_unit or '-'}): {req.reason.strip()}")


def reviewed(rec: Record, req: RecordOutcome, now: datetime) -> None:
    """The director's review, before the step finishes: confirmed (on to close) or sent back with the reason."""
    f = rec.state.finding
    if f is None:
        return
    if req.outcome == CONFIRMED:
        f.confirmed_by, f.confirmed_at, f.sent_back = req.actor, now, ""
    else:
        f.sent_back = req.note.strip()


def back_to(rec: Record) -> str:
    """Where a sent-back finding returns: the step whose outcome led to the review (else the first step)."""
    state = rec.state.steps.get(REVIEW_STEP)
    came = state.arrived_from[-1] if state and state.arrived_from else None
    return came if came in rec.pb.steps else rec.pb.start[0]
