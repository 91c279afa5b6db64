"""The playbook interpreter: the only writer of an incident's state.

Every change is a method here, given `now`: outcomes, approvals, follow-up answers and
expiry, due timers, notes, and (in `machine_ops`) what ops and the SMS provider report.
Nothing here does I/O, reads a clock or imports Temporal: the workflow validates, calls a
method, and carries out the effects it records (messages to send, working-day deadlines).
"""

from __future__ import annotations

from random import Random
from dataclasses import dataclass
from datetime import datetime, timedelta

from groupdesk.core.durations import Span
from groupdesk.core.models import (
    AddNote,
    Appointment,
    DecideApproval,
    FollowUpState,
    IncidentState,
    RecordFollowUp,
    RecordOutcome,
    SendMessages,
    StartIncident,
    StepState,
    TimelineEntry,
)
from groupdesk.core.playbook import Outcome, Step
from groupdesk.core.warning_plan import PLAN_STEP, more_severe
from workflows import timers
from workflows.adjourn import StayExtras
from workflows.follow_up import FollowUpReopen
from workflows.handover_child import ChildLinks, StartChild
from workflows.machine_ops import OpsChanges
from workflows.machine_periods import PeriodRules
from workflows.promises import PromiseChanges
from workflows.messages import MessageBuilder
from workflows.warning_plan import WarningPlanChanges


@dataclass
class ResolveWorkingDays:
    """Compute `working_days` after `start` on the Chinese calendar, then apply it to `target`."""

    target: str  # "step", "follow_up" or "promise"
    step: str | None  # the step (a promise: its id)
    visit: int
    start: datetime
    working_days: int


Effect = SendMessages | ResolveWorkingDays | StartChild


class IncidentMachine(OpsChanges, PeriodRules, WarningPlanChanges, PromiseChanges, ChildLinks, FollowUpReopen,
                      StayExtras):
    def __init__(self, start: StartIncident, state: IncidentState, legacy_codes: Random | None = None):
        self.start = start
        self.pb = start.playbook
        self.state = state
        self.effects: list[Effect] = []
        self.messages = MessageBuilder(start, state)
        # Legacy: incidents from before the send activity made approval codes draw them from this
        # (the workflow's deterministic random); None for every newer incident.
        self.legacy_codes = legacy_codes

    @classmethod
    def new(cls, start: StartIncident, now: datetime, legacy_codes: Random | None = None) -> "IncidentMachine":
        state = IncidentState(
            id=start.incident_id, playbook=start.playbook.id, playbook_version=start.playbook.version,
            hall_id=start.hall_id, hall_name=start.hall_name, headcount=start.headcount, summary=start.summary,
            drill=start.drill, time_scale=start.time_scale, started_at=now, started_by=start.started_by,
            registration=start.registration, owner=start.owner or start.started_by,
        )
        machine = cls(start, state)
        machine.log(now, "incident_started", actor=start.started_by,
                    detail=f"{start.headcount} people; {start.summary}")
        machine.note_parent(now)  # a child incident (hand-over) names its parent
        if start.repeat_of:  # never set in incidents from before repeat complaints: their histories replay
            state.repeat_of, state.repeat_reasons = start.repeat_of, list(start.repeat_reasons)
            machine.log(now, "repeat_complaint", detail=f"{start.repeat_of}: {start.repeat_outcome}"
                        + (f" ({', '.join(start.repeat_reasons)})" if start.repeat_reasons else ""))
            machine.effects.append(machine.messages.repeat_notice())
        if start.sensitive_period:  # never set in incidents from before sensitive periods: they replay unchanged
            machine.mark_period(now)
        for step_id in machine.pb.start:
            machine.enter(step_id, now, came_from=None)
        machine.refresh_stage()
        machine.legacy_codes = legacy_codes  # as before: drawn from the first approval after the start
        return machine

    def switch_playbook(self, playbook) -> None:
        """Carry on under a newer version: what happened stays, what comes next follows it."""
        self.start = self.start.model_copy(update={"playbook": playbook})
        self.pb = playbook
        self.messages = MessageBuilder(self.start, self.state)
        self.state.playbook_version = playbook.version

    def take_effects(self) -> list[Effect]:
        """The effects recorded so far, handed over to be carried out (and forgotten here)."""
        batch, self.effects = self.effects, []
        return batch

    # ---- time ---------------------------------------------------------------------------

    def scaled(self, span: Span) -> timedelta:
        return timedelta(seconds=span.seconds / self.start.time_scale)

    def log(self, now: datetime, kind: str, step: str | None = None, actor: str | None = None,
            detail: str = "") -> None:
        self.state.timeline.append(TimelineEntry(at=now, kind=kind, step=step, actor=actor, detail=detail))

    # ---- steps --------------------------------------------------------------------------

    def active_steps(self) -> list[str]:
        return [sid for sid in self.pb.steps if (s := self.state.steps.get(sid)) and s.status == "active"]

    def enter(self, step_id: str, now: datetime, came_from: str | None, result: str = "",
              deadline: Span | None = None) -> None:
        step = self.pb.steps[step_id]
        deadline = deadline or step.deadline  # an outcome's next_deadline, else the step's own
        previous = self.state.steps.get(step_id)
        if step.wait_for:
            arrived = list(previous.arrived_from) if previous and previous.status == "waiting" else []
            if came_from and came_from not in arrived:
                arrived.append(came_from)
            missing = [d for d in step.wait_for if d not in arrived]
            if missing:
                self.state.steps[step_id] = StepState(
                    step=step_id, status="waiting", arrived_from=arrived,
                    visit=previous.visit if previous and previous.status == "waiting" else _next_visit(previous),
                )
                self.log(now, "step_waiting", step_id, detail=f"waiting for {', '.join(missing)}")
                return
        visit = previous.visit if previous and previous.status == "waiting" else _next_visit(previous)
        state = StepState(step=step_id, status="active", visit=visit, started_at=now)
        self.state.steps[step_id] = state
        self.log(now, "step_started", step_id)
        if step.kind == "close":
            self._close(step_id, step, now, result)
            return
        if deadline and deadline.working_days:
            # The step's message names its deadline, so it waits for the calendar's answer.
            self.effects.append(ResolveWorkingDays("step", step_id, visit, now,
                                                   self.deadline_working_days(deadline.working_days)))
            return
        if deadline:
            state.deadline_at = now + self.deadline_delta(deadline)
        self._announce(step_id)

    def _announce(self, step_id: str) -> None:
        step = self.pb.steps[step_id]
        if step.kind == "approval":
            self.state.approval_key = None  # a new request gets a new code, from the send activity
            if self.legacy_codes is not None:
                self.state.approval_code = str(self.legacy_codes.randint(100000, 999999))
        if step.notify:
            purpose = "approval_request" if step.kind == "approval" else "step_started"
            self.effects.append(self.messages.for_step(step_id, purpose, step.notify, step.template, "start"))

    def finish(self, step_id: str, outcome_name: str, actor: str, note: str, now: datetime,
               data: dict[str, str] | None = None) -> None:
        step = self.pb.steps[step_id]
        outcome = step.outcomes[outcome_name]
        state = self.state.steps[step_id]
        tier_before = self.state.warning_tier
        state.status, state.outcome, state.finished_at = "done", outcome_name, now
        state.data.update(data or {})
        if step.kind == "approval":
            self.state.approval_code = self.state.approval_key = None  # single use: it dies with the approval
        label = self.pb.outcome_label(step_id, outcome_name)
        recorded = "".join(f" — {k}: {v}" for k, v in (data or {}).items())
        self.log(now, "outcome", step_id, actor, detail=label + (f" — {note}" if note else "") + recorded)
        self.set_tier(outcome.set_warning_tier, step_id, actor, now)
        if outcome.notify:
            self.effects.append(self.messages.for_outcome(step_id, outcome_name, outcome, actor, note))
        if outcome.hand_over:  # another playbook takes over, as a child incident
            self.hand_over_child(outcome.hand_over, step_id, actor, now, outcome.next)
        else:
            self.enter(outcome.next, now, came_from=step_id, result=label + (f": {note}" if note else ""),
                       deadline=outcome.next_deadline)
        # Reported when the plan ran before or after: the office also hears that it ended.
        self.report_progress(now, step_id, outcome_name, more_severe(tier_before, self.state.warning_tier))
        self.refresh_stage()

    def record_stay(self, step_id: str, outcome_name: str, outcome: Outcome, actor: str, note: str,
                    data: dict[str, str], now: datetime) -> None:
        detail = self.pb.outcome_label(step_id, outcome_name)
        if outcome.appointment:
            appt = outcome.appointment
            at = datetime.fromisoformat(data[appt.field])
            remind_at = at - self.scaled(appt.remind_before)
            self.state.appointments.append(Appointment(step=step_id, field=appt.field, at=at, remind_at=remind_at))
            detail += f" — {appt.field} {at.isoformat()}"
        self.log(now, "recorded", step_id, actor, detail=detail + (f" — {note}" if note else ""))
        if outcome.notify:  # e.g. the complainant told the agreed time, the director told of 信访; each time anew
            self.effects.append(self.messages.for_outcome(
                step_id, outcome_name, outcome, actor, note, number=self.times_recorded(step_id, outcome_name),
                appointment_at=data.get(outcome.appointment.field) if outcome.appointment else None))
        self.after_stay(step_id, outcome_name, outcome, actor, note, data, now)

    # ---- what people do -----------------------------------------------------------------

    def record_outcome(self, req: RecordOutcome, now: datetime) -> None:
        """A validated outcome: one that stays is recorded on its step, any other finishes the step."""
        if req.step == PLAN_STEP and req.step not in self.pb.steps:
            self.act_on_plan(req, now)
            return
        outcome = self.pb.steps[req.step].outcomes[req.outcome]
        if outcome.stay:
            self.record_stay(req.step, req.outcome, outcome, req.actor, req.note, req.data, now)
        else:
            self.finish(req.step, req.outcome, req.actor, req.note, now, req.data)

    def pending_approvals(self) -> list[str]:
        return [sid for sid in self.active_steps() if self.pb.steps[sid].kind == "approval"]

    def decide(self, req: DecideApproval, now: datetime) -> datetime:
        """The director's validated decision on the waiting approval; returns when it was asked for."""
        step_id = self.pending_approvals()[0]
        if req.decision == "reject":
            self.state.rejection_reason = req.reason
        opened = self.state.steps[step_id].started_at
        self.finish(step_id, "approved" if req.decision == "approve" else "rejected", req.actor, req.reason, now)
        return opened

    def answer_follow_up(self, req: RecordFollowUp, now: datetime) -> None:
        """The lead complainant's satisfaction answer closes the incident (or, dissatisfied, reopens it)."""
        follow = self.state.follow_up
        follow.score, follow.comment, follow.outcome = req.score, req.comment, "answered"
        self.log(now, "follow_up_answered", actor=req.actor,
                 detail=f"satisfaction {req.score}/5" + (f" — {req.comment}" if req.comment else ""))
        if not self.reopen_if_dissatisfied(req, now):
            self.close_incident(now, f"follow-up answered: {req.score}/5")

    def add_note(self, note: AddNote, now: datetime) -> None:
        self.log(now, "note", actor=note.actor, detail=note.text.strip())

    # ---- what time does -----------------------------------------------------------------

    def fire_due(self, now: datetime) -> None:
        """Carry out everything due at `now`: reminders, escalations, appointment reminders, follow-up."""
        for item in timers.due(self, now):
            if item.kind == "reminder":
                self.state.steps[item.step].reminded = True
                self.log(now, "reminder", item.step, detail=f"deadline passed; reminded {item.role}"
                         + (f" and the owner {self.state.owner}" if self.state.owner else ""))
                self.effects.append(self.messages.reminder(item.step, item.role))
            elif item.kind == "escalation":
                state = self.state.steps[item.step]
                state.escalation_level = item.level
                overdue = (now - state.deadline_at).total_seconds()
                self.log(now, "escalation", item.step, detail=f"level {item.level}: escalated to {item.role}")
                self.effects.append(self.messages.escalation(item.step, item.level, item.role, overdue))
            elif item.kind == "appointment_reminder":
                self._remind_appointment(item.appointment, now)
            elif item.promise:
                self.fire_promise(item, now)
            elif item.kind == "follow_up":
                close_id, spec = self._follow_up_spec()
                follow = self.state.follow_up
                follow.sent = True
                follow.expires_at = now + self.scaled(spec.expires_after)
                self.log(now, "follow_up_sent", close_id, detail="satisfaction survey sent to the lead complainant")
                self.effects.append(self.messages.follow_up(close_id, spec.template))
            else:  # follow_up_expiry
                self.state.follow_up.outcome = "expired"
                self.close_incident(now, "follow-up expired without an answer")

    def _remind_appointment(self, index: int, now: datetime) -> None:
        appt = self.state.appointments[index - 1]
        appt.reminded = True
        outcome = next(o for o in self.pb.steps[appt.step].outcomes.values()
                       if o.appointment and o.appointment.field == appt.field)
        spec = outcome.appointment
        self.log(now, "appointment_reminder", appt.step, detail=f"{appt.field} {appt.at.isoformat()}")
        self.effects.append(self.messages.appointment_reminder(
            appt.step, index, spec.notify, spec.template, appt.at.isoformat(), spec.audiences))

    def _follow_up_spec(self):
        close_id = next(sid for sid, s in self.pb.steps.items() if s.kind == "close" and sid in self.state.steps)
        return close_id, self.pb.steps[close_id].follow_up

    def _close(self, step_id: str, step: Step, now: datetime, result: str) -> None:
        self.state.resolution = result or self.pb.step_title(step_id)
        ended_tier = self.state.warning_tier
        warning_ended = self.end_plan_at_close(step_id, now)
        self.log(now, "resolved", step_id, detail=self.state.resolution)
        if step.notify:
            self.effects.append(self.messages.for_close(step_id, step, self.state.resolution, warning_ended,
                                                                 ended_tier))
        follow_up = step.follow_up
        if follow_up is None:
            self.close_incident(now, "closed without follow-up")
            return
        self.state.follow_up = FollowUpState()
        if follow_up.after.working_days:
            self.effects.append(ResolveWorkingDays("follow_up", step_id, 1, now, follow_up.after.working_days))
        else:
            self.state.follow_up.send_at = now + self.scaled(follow_up.after)

    def close_incident(self, now: datetime, detail: str) -> None:
        self.state.status = "closed"
        self.state.closed_at = now
        self.state.approval_code = self.state.approval_key = None
        for sid in self.active_steps():
            self.state.steps[sid].status = "done"
        self.log(now, "incident_closed", detail=detail)
        self.refresh_stage()

    def apply_working_days(self, effect: ResolveWorkingDays, due: datetime) -> None:
        scaled_due = effect.start + (due - effect.start) / self.start.time_scale
        if effect.target == "step":
            state = self.state.steps.get(effect.step or "")
            if state and state.status == "active" and state.visit == effect.visit:
                state.deadline_at = scaled_due
                self._announce(effect.step)
        elif effect.target == "promise":
            self.apply_promise_due(effect, scaled_due)
        elif self.state.follow_up and self.state.follow_up.send_at is None:
            self.state.follow_up.send_at = scaled_due

    def shown_state(self) -> IncidentState:
        """What staff see: never an approval code nor its hash (the director has it by SMS)."""
        shown = self.state.model_copy(update={"approval_code": None, "approval_key": None})
        shown.deadlines = timers.upcoming(self)
        return shown

    # ---- progress -----------------------------------------------------------------------

    def report_progress(self, now: datetime, step_id: str, outcome_name: str, tier: int,
                        occasion: str | None = None) -> None:
        """`occasion` tells repeated events of one step apart (the plan raised twice) in message keys."""
        reports = self.pb.progress_reports
        event, current = self.progress_texts(step_id, outcome_name)
        self.report_to_responsible(step_id, occasion or outcome_name, event, current)
        if not self.reports_at(tier):
            return
        self.state.progress_reports += 1
        self.effects.append(self.messages.progress_report(reports, self.state.progress_reports, event, current))

    def refresh_stage(self) -> None:
        self.state.current_steps = self.active_steps() if self.state.status == "open" else []
        if self.state.status == "closed":
            self.state.stage = "closed"
        elif self.waiting_child():
            self.state.stage = "waiting_child"
        elif self.state.follow_up is not None:
            self.state.stage = "follow_up"
        else:
            self.state.stage = "+".join(self.state.current_steps)


def _next_visit(previous: StepState | None) -> int:
    return previous.visit + 1 if previous else 1
