"""Every kind of outcome, one entry each in `KINDS`, and recording an outcome.

The registry is the only place that knows what a kind does.
An outcome either leaves its step (`next`, `hand_over`) or stays on it (`stay: true`), and a stay may carry
more kinds at once (the smart-meter `adjourned`: an appointment, adjourning, and a report upward). Each entry
says what marks it in the playbook and, as needed: where a leaving outcome goes, which data fields the
validator requires as times, what a stay changes before and after its timeline entry, and its own timers.
A new kind is one entry here plus its field on `groupdesk.core.playbook.Outcome` (and, if a playbook must
be checked for it at load time, a rule in `groupdesk/playbooks/link_checks.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from groupdesk.core.links import CHOSEN
from groupdesk.core.models import Appointment, Deadline, RecordOutcome
from groupdesk.core.playbook import Outcome
from groupdesk.core.roles import LEAD_COMPLAINANT
from groupdesk.core.times import recorded_time
from groupdesk.core.warning_plan import PLAN_STEP, RAISE, more_severe
from workflows.machine import children, findings, plan, progress, steps
from workflows.machine.record import Due, Record


@dataclass(frozen=True)
class Recorded:
    """One outcome being recorded: what a kind's hooks are given."""

    step: str
    name: str
    outcome: Outcome
    actor: str
    note: str
    data: dict[str, str]
    now: datetime


@dataclass(frozen=True)
class Timers:
    """A kind's own timers: what is ahead (shown and slept on), what is due at `now`, and firing one."""

    fires: str  # the `Due.kind` it fires
    upcoming: Callable[[Record], list[Deadline]]
    due: Callable[[Record, datetime], list[Due]]
    fire: Callable[[Record, Due, datetime], None]


def _none(outcome: Outcome) -> tuple[str, ...]:
    return ()


@dataclass(frozen=True)
class OutcomeKind:
    name: str
    marks: Callable[[Outcome], bool]  # whether an outcome is of this kind (its key in the playbook)
    leave: Callable[[Record, Recorded], None] | None = None  # a kind that leaves the step: where it goes
    time_fields: Callable[[Outcome], tuple[str, ...]] = _none  # data the validator requires as times
    before_entry: Callable[[Record, Recorded], str] | None = None  # a stay's change; text for its timeline entry
    notice_time: Callable[[Recorded], str | None] | None = None  # the time a stay's notice names
    after_stay: Callable[[Record, Recorded], None] | None = None  # what a stay sets off after its notice
    timers: Timers | None = None


# ---- leaving the step ---------------------------------------------------------------------

def _hand_over(rec: Record, r: Recorded) -> None:
    spec = r.outcome.hand_over
    if spec.playbook == CHOSEN:  # became_group: the playbook the client chose for the headcount and category now
        spec = spec.model_copy(update={"playbook": r.data["playbook"]})
    children.hand_over_child(rec, spec, r.step, r.actor, r.now, r.outcome.next)


def _next_step(rec: Record, r: Recorded) -> None:
    label = rec.pb.outcome_label(r.step, r.name)
    steps.enter(rec, r.outcome.next, r.now, came_from=r.step, result=label + (f": {r.note}" if r.note else ""),
                deadline=r.outcome.next_deadline)


def _back(rec: Record, r: Recorded) -> None:
    """The director sent the finding back: to the step that closed, whose owner corrects it and closes again."""
    rec.state.resolution = None
    steps.reenter(rec, findings.back_to(rec), r.now)


# ---- appointments: a time agreed, and a reminder before it -----------------------------------

def _appoint(rec: Record, r: Recorded) -> str:
    appt = r.outcome.appointment
    at = datetime.fromisoformat(r.data[appt.field])
    rec.state.appointments.append(Appointment(step=r.step, field=appt.field, at=at,
                                              remind_at=at - rec.scaled(appt.remind_before)))
    return f" — {appt.field} {at.isoformat()}"


def live_appointments(rec: Record) -> list[Appointment]:
    """Appointments of steps still under way; a newer one for the same field replaces the older."""
    live = {}
    for appt in rec.state.appointments:
        state = rec.state.steps.get(appt.step)
        if state and state.status == "active":
            live[(appt.step, appt.field)] = appt
    return list(live.values())


def _appointments_ahead(rec: Record) -> list[Deadline]:
    return [Deadline(kind="appointment_reminder", step=appt.step, due_at=appt.remind_at)
            for appt in live_appointments(rec) if not appt.reminded]


def _appointments_due(rec: Record, now: datetime) -> list[Due]:
    live = live_appointments(rec)
    return [Due("appointment_reminder", appt.step, appointment=index)
            for index, appt in enumerate(rec.state.appointments, start=1)
            if appt in live and not appt.reminded and now >= appt.remind_at]


def _remind_appointment(rec: Record, item: Due, now: datetime) -> None:
    appt = rec.state.appointments[item.appointment - 1]
    appt.reminded = True
    spec = next(o for o in rec.pb.steps[appt.step].outcomes.values()
                if o.appointment and o.appointment.field == appt.field).appointment
    rec.log(now, "appointment_reminder", appt.step, detail=f"{appt.field} {appt.at.isoformat()}")
    rec.effects.append(rec.messages.appointment_reminder(
        appt.step, item.appointment, spec.notify, spec.template, appt.at.isoformat(), spec.audiences))


# ---- adjourning, and reporting upward ---------------------------------------------------------

def _adjourn(rec: Record, r: Recorded) -> None:
    """The group left with contact details and an agreed time: the step waits until then."""
    state = rec.state.steps[r.step]
    until = datetime.fromisoformat(r.data[r.outcome.wait_until])
    state.adjourned += 1  # its reminder and escalations can come again, under new keys
    state.deadline_at, state.reminded, state.escalation_level = until, False, 0
    rec.log(r.now, "adjourned", r.step, r.actor, detail=f"waits until {until.isoformat()}")


def _staff_told(outcome: Outcome) -> list[str]:
    return [role for role in outcome.notify if role != LEAD_COMPLAINANT]


def _reported_upward(rec: Record, r: Recorded) -> None:
    """e.g. 信访: the director and the city emergency office told (the notice itself is the stay's)."""
    rec.log(r.now, "reported_upward", r.step, r.actor,
            detail=f"{rec.pb.outcome_label(r.step, r.name)} -> {', '.join(_staff_told(r.outcome))}")


KINDS: tuple[OutcomeKind, ...] = (
    OutcomeKind("hand_over", marks=lambda o: o.hand_over is not None, leave=_hand_over),
    OutcomeKind("back", marks=lambda o: o.back, leave=_back),
    OutcomeKind("next", marks=lambda o: not o.stay and o.hand_over is None and not o.back, leave=_next_step),
    OutcomeKind("stay", marks=lambda o: o.stay),
    OutcomeKind("appointment", marks=lambda o: o.appointment is not None,
                time_fields=lambda o: (o.appointment.field,), before_entry=_appoint,
                notice_time=lambda r: r.data.get(r.outcome.appointment.field),
                timers=Timers("appointment_reminder", _appointments_ahead, _appointments_due, _remind_appointment)),
    OutcomeKind("adjourn", marks=lambda o: o.wait_until is not None, time_fields=lambda o: (o.wait_until,),
                after_stay=_adjourn),
    OutcomeKind("report_upward", marks=lambda o: o.stay and bool(_staff_told(o)), after_stay=_reported_upward),
)


def kinds_of(outcome: Outcome) -> list[OutcomeKind]:
    return [kind for kind in KINDS if kind.marks(outcome)]


def time_fields(outcome: Outcome) -> list[str]:
    """The data fields this outcome needs as a date and time with an offset."""
    return [f for kind in kinds_of(outcome) for f in kind.time_fields(outcome)]


# ---- recording ------------------------------------------------------------------------------------

def record_outcome(rec: Record, req: RecordOutcome, now: datetime) -> None:
    """A validated outcome: one that stays is recorded on its step, any other finishes the step."""
    if req.step == PLAN_STEP and req.step not in rec.pb.steps:
        act_on_plan(rec, req, now)
        return
    outcome = rec.pb.steps[req.step].outcomes[req.outcome]
    if outcome.stay:
        record_stay(rec, req.step, req.outcome, outcome, req.actor, req.note, req.data, now)
    else:
        finish(rec, req.step, req.outcome, req.actor, req.note, now, req.data)


def finish(rec: Record, step_id: str, outcome_name: str, actor: str, note: str, now: datetime,
           data: dict[str, str] | None = None) -> None:
    """The step is done with this outcome: its notice, then where the outcome's kind leads."""
    step = rec.pb.steps[step_id]
    outcome = step.outcomes[outcome_name]
    state = rec.state.steps[step_id]
    tier_before = rec.state.warning_tier
    state.status, state.outcome, state.finished_at = "done", outcome_name, now
    state.data.update(data or {})
    if step.kind == "approval":
        rec.state.approval_key = None  # single use: it dies with the approval
    label = rec.pb.outcome_label(step_id, outcome_name)
    recorded = "".join(f" — {k}: {v}" for k, v in (data or {}).items())
    rec.log(now, "outcome", step_id, actor, detail=label + (f" — {note}" if note else "") + recorded)
    plan.set_tier(rec, outcome.set_warning_tier, step_id, actor, now)
    if outcome.notify:
        rec.effects.append(rec.messages.for_outcome(step_id, outcome_name, outcome, actor, note))
    leaving = next(kind for kind in kinds_of(outcome) if kind.leave)
    leaving.leave(rec, Recorded(step_id, outcome_name, outcome, actor, note, data or {}, now))
    # Reported when the plan ran before or after: the office also hears that it ended.
    progress.report_progress(rec, now, step_id, outcome_name, more_severe(tier_before, rec.state.warning_tier))
    rec.refresh_stage()


def record_stay(rec: Record, step_id: str, outcome_name: str, outcome: Outcome, actor: str, note: str,
                data: dict[str, str], now: datetime) -> None:
    """An outcome recorded on a step that stays under way, with what its kinds set off."""
    r = Recorded(step_id, outcome_name, outcome, actor, note, data, now)
    kinds = kinds_of(outcome)
    moved = _moved_from(rec, r)
    detail = rec.pb.outcome_label(step_id, outcome_name)
    detail += "".join(kind.before_entry(rec, r) for kind in kinds if kind.before_entry)
    detail += f" (was {moved.isoformat()})" if moved else ""
    rec.log(now, "recorded", step_id, actor, detail=detail + (f" — {note}" if note else ""))
    number = times_recorded(rec, step_id, outcome_name)
    if moved:  # a re-promise: one message to everyone the time concerns, naming the old time and the new
        appt = outcome.appointment
        rec.effects.append(rec.messages.time_changed(
            step_id, outcome_name, list(dict.fromkeys([*outcome.notify, *appt.notify])), moved.isoformat(),
            data[appt.field], number))
    elif outcome.notify:  # e.g. the complainant told the agreed time, the director told of 信访; each time anew
        at = next((t for kind in kinds if kind.notice_time and (t := kind.notice_time(r))), None)
        rec.effects.append(rec.messages.for_outcome(
            step_id, outcome_name, outcome, actor, note, number=number, appointment_at=at))
    if data:
        rec.state.steps[step_id].data.update(data)
    for kind in kinds:
        if kind.after_stay:
            kind.after_stay(rec, r)


def _moved_from(rec: Record, r: Recorded) -> datetime | None:
    """The time an appointment outcome agreed before on this visit of the step, when it now agrees another
    (the validator refuses the same time again: groupdesk.core.times)."""
    if r.outcome.appointment is None:
        return None
    field = r.outcome.appointment.field
    before = recorded_time(rec.state.steps[r.step].data, field)
    return before if before is not None and before != datetime.fromisoformat(r.data[field]) else None


def times_recorded(rec: Record, step_id: str, outcome_name: str) -> int:
    """How often this outcome was recorded on the step so far: numbers its notices, so none is swallowed."""
    label = rec.pb.outcome_label(step_id, outcome_name)
    return sum(1 for e in rec.state.timeline if e.kind == "recorded" and e.step == step_id
               and (e.detail == label or e.detail.startswith(label + " — ")))


def act_on_plan(rec: Record, req: RecordOutcome, now: datetime) -> None:
    """The plan manager's validated action: raise the plan one tier, or end it; every office is told once."""
    before = rec.state.warning_tier
    if req.outcome == RAISE:
        plan.set_tier(rec, before - 1, PLAN_STEP, req.actor, now)
        plan.notify_plan(rec, "raised", req.actor, req.note)
    else:
        plan.end_plan(rec, now, PLAN_STEP, req.actor, req.note.strip(), notify=True)
    # the leadership office hears of it in the progress report; the notices name who else is told
    progress.report_progress(rec, now, PLAN_STEP, req.outcome, more_severe(before, rec.state.warning_tier),
                             occasion=f"{req.outcome}{plan.changes(rec)}")
    rec.refresh_stage()
