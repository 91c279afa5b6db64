"""The incident machine: the playbook interpreter, the only writer of an incident's state.

`IncidentMachine` is one class over the plain functions of `workflows.machine`: every change is a method here,
given `now` (outcomes, approvals, follow-up answers, due timers, notes, what ops and the SMS provider report).
Nothing in the machine does I/O, reads a clock or imports Temporal: the workflow validates (workflows/checks.py),
calls a method, and carries out the effects it records (messages, working-day deadlines, child incidents).
"""

from __future__ import annotations

from datetime import datetime

from groupdesk.core.evidence import EvidenceAdded, EvidenceItem, evidence_line
from groupdesk.core.finding import REVIEW_STEP, RecordFinding
from groupdesk.core.links import ChildResult, HandOverSpec
from groupdesk.core.models import (
    AddNote,
    DecideApproval,
    DeliveryReport,
    FailedAction,
    HandOver,
    IncidentState,
    MigratePlaybook,
    RecordFollowUp,
    RecordOutcome,
    RecordReset,
    RetryAction,
    SendMessages,
    SendResult,
    SkipAction,
    StartIncident,
)
from groupdesk.core.playbook import Outcome, Playbook
from groupdesk.core.promise_models import PromiseChange
from groupdesk.core.amend import AmendRegistration
from groupdesk.core.tell import FromComplainant, TellComplainant
from workflows.machine import (
    amend, children, findings, follow_up, lines, ops, outcome_kinds, people, periods, plan, promises, steps, tell,
    timers,
)
from workflows.machine.record import Effect, Record, ResolveWorkingDays, StartChild

__all__ = ["Effect", "IncidentMachine", "ResolveWorkingDays", "StartChild"]


class IncidentMachine(Record):
    """An incident's record (start, snapshot, state, effects) and everything that may change it."""

    @classmethod
    def new(cls, start: StartIncident, now: datetime) -> "IncidentMachine":
        state = IncidentState(
            id=start.incident_id, playbook=start.playbook.id, playbook_version=start.playbook.version,
            hall_id=start.hall_id, hall_name=start.hall_name, headcount=start.headcount, summary=start.summary,
            drill=start.drill, time_scale=start.time_scale, started_at=now, started_by=start.started_by,
            registration=start.registration, owner=start.owner or start.started_by,
        )
        machine = cls(start, state)
        machine.log(now, "incident_started", actor=start.started_by,
                    detail=f"{start.headcount} people; {start.summary}")
        children.note_parent(machine, now)  # a child incident (hand-over) names its parent
        if start.repeat_of:
            state.repeat_of, state.repeat_reasons = start.repeat_of, list(start.repeat_reasons)
            machine.log(now, "repeat_complaint", detail=f"{start.repeat_of}: {start.repeat_outcome}"
                        + (f" ({', '.join(start.repeat_reasons)})" if start.repeat_reasons else ""))
            machine.effects.append(machine.messages.repeat_notice())
        if start.sensitive_period:
            periods.mark_period(machine, now)
        for step_id in machine.pb.start:
            steps.enter(machine, step_id, now, came_from=None)
        machine.refresh_stage()
        people.alert_publicity(machine, now)  # media present or out for publicity: told at once
        people.tell_duty_lead(machine, now)  # a group someone else registered: the owning duty lead hears
        lines.mark_line(machine, now)  # 频繁停电: the 2nd outage on a line within 12 months is put on warning
        return machine

    # ---- what people do -----------------------------------------------------------------

    def record_outcome(self, req: RecordOutcome, now: datetime) -> None:
        """A validated outcome: one that stays is recorded on its step, any other finishes the step."""
        if req.step == REVIEW_STEP:  # the director confirms the finding or sends it back
            findings.reviewed(self, req, now)
        outcome_kinds.record_outcome(self, req, now)

    def finish(self, step_id: str, outcome_name: str, actor: str, note: str, now: datetime,
               data: dict[str, str] | None = None) -> None:
        outcome_kinds.finish(self, step_id, outcome_name, actor, note, now, data)

    def record_stay(self, step_id: str, outcome_name: str, outcome: Outcome, actor: str, note: str,
                    data: dict[str, str], now: datetime) -> None:
        outcome_kinds.record_stay(self, step_id, outcome_name, outcome, actor, note, data, now)

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
        follow_up.answer(self, req, now)

    def add_note(self, note: AddNote, now: datetime) -> None:
        self.log(now, "note", actor=note.actor, detail=note.text.strip())

    def evidence_added(self, req: EvidenceAdded, now: datetime) -> bool:
        """A validated file stored for the incident: kept with both hashes and on the timeline, once (the gateway
        tells again when an attach is retried); whether it was new."""
        if any(e.stored_sha256 == req.stored_sha256 for e in self.state.evidence):
            return False
        item = EvidenceItem(attachment_id=req.attachment_id, original_sha256=req.original_sha256,
                            stored_sha256=req.stored_sha256, kind=req.kind, size=req.size, step=req.step,
                            added_by=req.actor, added_at=now)
        self.state.evidence.append(item)
        self.log(now, "evidence_added", step=req.step, actor=req.actor, detail=evidence_line(item))
        return True

    def change_promises(self, req: PromiseChange, now: datetime) -> str:
        """A validated change to the promises; returns the id of the promise made or changed."""
        return promises.change_promises(self, req, now)

    def record_finding(self, req: RecordFinding, now: datetime) -> None:
        """有效投诉的认定: a validated finding (founded or not, cause, who and which unit were responsible)."""
        findings.record(self, req, now)

    def hand_over(self, req: HandOver, now: datetime) -> None:
        """首问负责制: a new named owner, told by SMS."""
        ops.hand_over(self, req, now)

    def tell(self, req: TellComplainant, now: datetime) -> None:
        """进度告知: a validated message to the lead complainant, on the timeline."""
        tell.tell(self, req, now)

    def amend_registration(self, req: AmendRegistration, now: datetime) -> None:
        """A validated correction of the registration: before/after on the timeline, and what it sets off."""
        amend.amend(self, req, now)

    def from_complainant(self, req: FromComplainant, now: datetime) -> None:
        """The lead complainant, from their status page: a visit, or information they add."""
        tell.from_complainant(self, req, now)

    # ---- the warning plan ---------------------------------------------------------------

    def set_tier(self, tier: int | None, step_id: str, actor: str, now: datetime) -> None:
        plan.set_tier(self, tier, step_id, actor, now)

    def reports_at(self, tier: int) -> bool:
        return plan.reports_at(self, tier)

    def plan_actions(self) -> list[str]:
        return plan.actions(self)

    # ---- what time does -----------------------------------------------------------------

    def fire_due(self, now: datetime) -> None:
        """Carry out everything due at `now`: reminders, escalations, appointments, promises, follow-up."""
        timers.fire_due(self, now)

    def apply_working_days(self, effect: ResolveWorkingDays, due: datetime) -> None:
        steps.apply_working_days(self, effect, due)

    # ---- child incidents (hand-overs to another playbook) --------------------------------

    def hand_over_child(self, spec: HandOverSpec, step: str | None, actor: str, now: datetime,
                        next_step: str | None) -> None:
        children.hand_over_child(self, spec, step, actor, now, next_step)

    def child_start(self, effect: StartChild, playbook: Playbook) -> StartIncident:
        return children.child_start(self, effect, playbook)

    def child_started(self, child_id: str, now: datetime) -> None:
        children.child_started(self, child_id, now)

    def child_failed(self, child_id: str, error: str, now: datetime) -> None:
        children.child_failed(self, child_id, error, now)

    def child_finished(self, result: ChildResult, now: datetime) -> None:
        children.child_finished(self, result, now)

    # ---- sending and ops ----------------------------------------------------------------

    def record_sent(self, request: SendMessages, result: SendResult, now: datetime) -> ops.Sent:
        return ops.record_sent(self, request, result, now)

    def park_failure(self, request: SendMessages, error: str, attempts: int, now: datetime) -> None:
        ops.park_failure(self, request, error, attempts, now)

    def report_delivery(self, report: DeliveryReport, now: datetime) -> bool:
        return ops.report_delivery(self, report, now)

    def parked(self, step: str) -> list[FailedAction]:
        return ops.parked(self, step)

    def retry(self, req: RetryAction, now: datetime) -> None:
        ops.retry(self, req, now)

    def skip(self, req: SkipAction, now: datetime) -> None:
        ops.skip(self, req, now)

    def record_reset(self, req: RecordReset, now: datetime) -> None:
        ops.record_reset(self, req, now)

    def migrate(self, req: MigratePlaybook, now: datetime) -> None:
        ops.migrate(self, req, now)

    def continue_as_new(self, now: datetime, history_length: int) -> StartIncident:
        return ops.continue_as_new(self, now, history_length)

    # ---- what is shown ------------------------------------------------------------------

    def shown_state(self) -> IncidentState:
        """What staff see: never the approval code's hash (the director has the code by SMS)."""
        shown = self.state.model_copy(update={"approval_key": None})
        shown.deadlines = timers.upcoming(self)
        return shown
