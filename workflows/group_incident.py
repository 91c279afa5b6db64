"""The group-incident workflow: runs a playbook snapshot until the incident is closed.

It reads like the procedure: start the first steps, then sleep until something is due or somebody records
what happened, send what that calls for, repeat. Every change of the incident's state is the machine's
(`IncidentMachine`): a handler validates, calls the machine with `workflow.now()`, and acknowledges. There is
one way to carry out what the machine decides (workflows/effects.py: local activities, one deadline timer);
incidents started by an earlier release are honoured as the README's versioning policy says.
"""

from __future__ import annotations

import functools
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from groupdesk.core.models import (
        Ack,
        AddNote,
        DecideApproval,
        DeliveryReport,
        HandOver,
        IncidentState,
        MigratePlaybook,
        PromiseAck,
        PromiseChange,
        RecordReset,
        RecordFollowUp,
        RecordOutcome,
        RetryAction,
        SkipAction,
        StartIncident,
    )
    from groupdesk.core.evidence import EvidenceAdded
    from groupdesk.core.finding import RecordFinding
    from groupdesk.core.playbook import Playbook
    from groupdesk.core.amend import AmendRegistration
    from groupdesk.core.tell import FromComplainant, TellComplainant
    from groupdesk.core.versions import DEPRECATED
    # The machine is pure (tests/test_sandbox_imports.py: it imports nothing but the core) and takes
    # `now` as an argument; passed through, it is not re-imported for every run (about 20 ms of CPU each).
    from workflows import amend_checks, checks, finding_checks, promise_checks, tell_checks
    from workflows.machine.incident import IncidentMachine

from workflows import board
from workflows.deadline_timer import DeadlineTimer
from workflows.effects import Effects


def timer_counted_first(handler):
    """Before an update or a signal is applied: what the deadline timer is set for, once the task's clock has
    passed it (`GroupIncidentWorkflow.catch_up`)."""
    @functools.wraps(handler)
    def counted(self, arg):
        self.catch_up()
        return handler(self, arg)
    return counted


@workflow.defn(name="GroupIncident")
class GroupIncidentWorkflow:
    @workflow.init
    def __init__(self, start: StartIncident) -> None:
        # An incident started by the previous release recorded its patch marker in its first task: it runs as that
        # release ran it, closing with a last upsert. Asked only while replaying history, so a new incident records
        # no marker (README, "Versioning").
        self.previous_release = workflow.unsafe.is_replaying_history_events() and any(
            [workflow.patched(patch) for patch in DEPRECATED])
        # The run's first turn counts from its start event, not from its first task's clock: core completes that
        # task early when a query comes with it while the first batch runs, and replay runs the two tasks as one,
        # on the second one's clock (README, "Replay hazards"). The previous release counted from the task.
        self.opened = None if self.previous_release else workflow.info().workflow_start_time
        if start.carried is not None:  # a continued run picks up exactly where the last one stopped
            self.machine = IncidentMachine(start.model_copy(update={"carried": None}), start.carried)
        else:
            self.machine = IncidentMachine.new(start, self.opened or workflow.now())
        self.woken = False
        self.effects = Effects(self.machine, self.wake, one_at_a_time=not self.previous_release)
        self.timer = DeadlineTimer()

    def wake(self) -> None:
        self.woken = True

    @workflow.run
    async def run(self, start: StartIncident) -> IncidentState:
        fired = None  # what the deadline timer that woke this turn was set for
        opening = self.opened  # the first turn's clock
        while self.machine.state.status == "open":
            # What is due first, then everything in one launch: an update's messages and the reminders that
            # fell due meanwhile go out in one batch (one marker), not two.
            self.fire_and_launch(opening or self.effects.clock(fired))
            if self.machine.state.status != "open":
                continue
            self.publish()  # after firing what is due: one upsert, not two
            if self.history_too_long() and await self.quiet():
                workflow.continue_as_new(self.machine.continue_as_new(
                    workflow.now(), workflow.info().get_current_history_length()))
            fired = await self.sleep_until_due_or_woken(opening or self.effects.clock(fired))
            opening = None
        if self.previous_release:  # this release's incidents close without one: closed is Temporal's "Completed"
            self.publish()
        self.effects.launch()
        await workflow.wait_condition(lambda: not self.effects.in_flight and not self.machine.effects)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self.effects.archive()
        return self.machine.state

    def count(self, entries) -> None:
        """groupdesk's own metrics, through the SDK's meter (never emitted while replaying)."""
        if not any(entry.kind in ("reminder", "escalation") for entry in entries):
            return  # most turns of the loop: no meter made
        meter = workflow.metric_meter().with_additional_attributes(
            {"hall": self.machine.state.hall_id, "drill": str(self.machine.state.drill).lower()})
        for entry in entries:
            if entry.kind == "reminder":
                meter.create_counter("groupdesk_deadline_misses", "steps past their deadline").add(
                    1, {"step": entry.step or "-"})
            elif entry.kind == "escalation":
                meter.create_counter("groupdesk_escalations", "escalation SMS sent up the chain").add(
                    1, {"step": entry.step or "-"})

    def history_too_long(self) -> bool:
        """Past the history budget, and no child waited for (a new run could not hear its result)."""
        return workflow.info().get_current_history_length() >= self.machine.start.history_budget \
            and not self.machine.waiting_child()

    async def quiet(self) -> bool:
        """Wait until no message is in flight and no update is being handled; True if nothing new came."""
        await workflow.wait_condition(lambda: not self.effects.in_flight and workflow.all_handlers_finished())
        return not self.machine.effects and self.machine.state.status == "open"

    async def sleep_until_due_or_woken(self, clock: datetime) -> datetime | None:
        """Until woken, a new effect, something landed, or the one deadline timer fired (then what it was set for).
        While a batch is in flight the timer is left as it is and armed once the batch has landed: a timer armed
        before the landing and again after is two commands where core splits the task (it answered a query
        meanwhile) and one on replay."""
        self.woken = False
        if self.effects.busy() and not self.previous_release:
            timer = self.timer.running()
        else:
            timer = self.timer.arm_for(self.machine, clock)
        flying = len(self.effects.in_flight)
        await workflow.wait_condition(lambda: self.woken or bool(self.machine.effects)
                                      or len(self.effects.in_flight) < flying or (timer is not None and timer.done()))
        return self.timer.forget_if_fired(timer)

    def catch_up(self) -> None:
        """Fire and send what the running deadline timer is set for if the task's clock has passed it, counted
        from that moment, as the timer's own turn would. Replay hands an update the task's jobs before a timer
        that fired in it, where a worker taking an incident over ran the timer's turn first (README, "Replay
        hazards"): both now send the same batch before the update."""
        due = self.timer.wakes_at()
        if self.previous_release or due is None or due > workflow.now() or self.machine.state.status != "open":
            return
        self.fire_and_launch(self.effects.clock(due))

    def fire_and_launch(self, clock: datetime) -> None:
        """What is due by `clock` fired and counted, then everything the incident decided in one launch."""
        seen = len(self.machine.state.timeline)
        self.machine.fire_due(clock)
        self.count(self.machine.state.timeline[seen:])
        self.effects.launch()

    def publish(self) -> None:
        """The board's search attributes, once what is in flight has landed (in the same workflow task)."""
        if (self.effects.in_flight or self.machine.effects) and self.machine.state.status == "open":
            return
        board.publish(self.machine, self.previous_release)

    # ---- what people do -----------------------------------------------------------------

    @workflow.update
    @timer_counted_first
    def record_outcome(self, req: RecordOutcome) -> Ack:
        self.machine.record_outcome(req, workflow.now())
        return self.acknowledge()

    @record_outcome.validator
    def validate_outcome(self, req: RecordOutcome) -> None:
        checks.check_outcome(self.machine, req, workflow.now())

    @workflow.update
    @timer_counted_first
    def decide_approval(self, req: DecideApproval) -> Ack:
        now = workflow.now()
        opened = self.machine.decide(req, now)
        workflow.metric_meter().create_histogram_float(
            "groupdesk_approval_seconds", "time from approval request to decision", "s").record(
            (now - opened).total_seconds() * self.machine.start.time_scale,
            {"hall": self.machine.state.hall_id, "decision": req.decision})
        return self.acknowledge()

    @decide_approval.validator
    def validate_approval(self, req: DecideApproval) -> None:
        checks.check_approval(self.machine, req)

    @workflow.update
    @timer_counted_first
    def record_follow_up(self, req: RecordFollowUp) -> Ack:
        self.machine.answer_follow_up(req, workflow.now())
        return self.acknowledge()

    @record_follow_up.validator
    def validate_follow_up(self, req: RecordFollowUp) -> None:
        checks.check_follow_up(self.machine, req)

    @workflow.update
    @timer_counted_first
    def retry_action(self, req: RetryAction) -> Ack:
        """Ops: run a parked action again; messages go to whoever the directory names now."""
        self.machine.retry(req, workflow.now())
        return self.acknowledge()

    @retry_action.validator
    def validate_retry(self, req: RetryAction) -> None:
        checks.check_parked(self.machine, req.step, req.actor, f"retry {req.step}", req.roles)

    @workflow.update
    @timer_counted_first
    def skip_action(self, req: SkipAction) -> Ack:
        self.machine.skip(req, workflow.now())
        return self.acknowledge()

    @skip_action.validator
    def validate_skip(self, req: SkipAction) -> None:
        checks.check_parked(self.machine, req.step, req.actor, f"skip {req.step}", req.roles)
        if not req.reason.strip():
            raise checks.rejected("skipping needs a reason; pass --reason TEXT")
        checks.require_bounded("reason", checks.bounds.note_problem(req.reason))

    @workflow.update
    @timer_counted_first
    def migrate_playbook(self, req: MigratePlaybook) -> Ack:
        self.machine.migrate(req, workflow.now())
        return self.acknowledge()

    @migrate_playbook.validator
    def validate_migration(self, req: MigratePlaybook) -> None:
        checks.check_migration(self.machine, req)

    @workflow.update
    @timer_counted_first
    def record_reset(self, req: RecordReset) -> Ack:
        """Written right after an ops reset, into the new run: who reset, to where, why."""
        self.machine.record_reset(req, workflow.now())
        return self.acknowledge()

    @record_reset.validator
    def validate_reset(self, req: RecordReset) -> None:
        checks.require_bounded("reason", checks.bounds.note_problem(req.reason))
        checks.require_role(self.machine, req.actor, ["ops"], "reset an incident", req.roles)

    @workflow.update
    @timer_counted_first
    def hand_over(self, req: HandOver) -> Ack:
        """首问负责制: a new named owner, told by SMS."""
        self.machine.hand_over(req, workflow.now())
        return self.acknowledge()

    @hand_over.validator
    def validate_handover(self, req: HandOver) -> None:
        checks.check_handover(self.machine, req)

    @workflow.update
    @timer_counted_first
    def promise(self, req: PromiseChange) -> PromiseAck:
        """合理承诺,有诺必行: make a promise, record it kept, change its due time, or (director) waive."""
        promise_id = self.machine.change_promises(req, workflow.now())
        return PromiseAck(**self.acknowledge().model_dump(), promise=promise_id)

    @promise.validator
    def validate_promise(self, req: PromiseChange) -> None:
        promise_checks.check_promise(self.machine, req, workflow.now())

    @workflow.update
    @timer_counted_first
    def tell(self, req: TellComplainant) -> Ack:
        """进度告知: tell the lead complainant progress, a delay, a visit or a short text, at any time."""
        self.machine.tell(req, workflow.now())
        return self.acknowledge()

    @tell.validator
    def validate_tell(self, req: TellComplainant) -> None:
        tell_checks.check_tell(self.machine, req, workflow.now())

    @workflow.update
    @timer_counted_first
    def amend_registration(self, req: AmendRegistration) -> Ack:
        """Correct the registration (headcount, category, type, address, 户号, demands, media, the lead):
        before/after on the timeline; the keys that find the incident are published again."""
        self.machine.amend_registration(req, workflow.now())
        return self.acknowledge()

    @amend_registration.validator
    def validate_amend_registration(self, req: AmendRegistration) -> None:
        amend_checks.check_amend(self.machine, req)

    @workflow.update
    @timer_counted_first
    def finding(self, req: RecordFinding) -> Ack:
        """有效投诉的认定: record or correct the finding (founded or not, cause, who and which unit)."""
        self.machine.record_finding(req, workflow.now())
        return self.acknowledge()

    @finding.validator
    def validate_finding(self, req: RecordFinding) -> None:
        finding_checks.check_finding(self.machine, req)

    @workflow.update
    @timer_counted_first
    def from_complainant(self, req: FromComplainant) -> Ack:
        """The lead complainant's status page: a visit (at most one an hour per link) or information they add."""
        self.machine.from_complainant(req, workflow.now())
        return self.acknowledge()

    @from_complainant.validator
    def validate_from_complainant(self, req: FromComplainant) -> None:
        tell_checks.check_from_complainant(self.machine, req)

    @workflow.update
    @timer_counted_first
    def evidence_added(self, req: EvidenceAdded) -> Ack:
        """A file stored for the incident (groupdesk attach, the console, the API): kept with both hashes for the
        archive record, and on the timeline."""
        self.machine.evidence_added(req, workflow.now())
        return self.acknowledge()

    @evidence_added.validator
    def validate_evidence_added(self, req: EvidenceAdded) -> None:
        checks.check_evidence(self.machine, req)

    @workflow.signal
    @timer_counted_first
    def add_note(self, note: AddNote) -> None:
        # Signals cannot be refused, so a note from someone outside the hall's roster is dropped,
        # and so is one over the bounds the CLI and the console enforce (sent straight to Temporal).
        if not checks.roles_of(self.machine, note.actor, note.roles) or checks.bounds.note_problem(note.text, "empty") \
                or checks.bounds.room_problem(self.machine.state.timeline, note.text):
            workflow.logger.warning("note dropped: actor not in the hall roster, empty text or over the bounds")
            return
        self.machine.add_note(note, workflow.now())
        self.woken = True

    @workflow.signal
    @timer_counted_first
    def report_delivery(self, report: DeliveryReport) -> None:
        """A message that the provider accepted but could not deliver: staff must see it."""
        if self.machine.report_delivery(report, workflow.now()):
            self.woken = True

    @workflow.query
    def playbook(self) -> Playbook:
        """The snapshot this incident runs (after any migration)."""
        return self.machine.pb

    @workflow.query
    def state(self) -> IncidentState:
        """What staff see: never an approval code nor its hash (the director has it by SMS)."""
        return self.machine.shown_state()

    @workflow.query
    def wakes_at(self) -> datetime | None:
        """When the incident's one timer is due to wake it (None when none runs)."""
        return self.timer.wakes_at()

    def acknowledge(self) -> Ack:
        self.woken = True
        s = self.machine.state
        return Ack(status=s.status, stage=s.stage, current_steps=list(s.current_steps), warning_tier=s.warning_tier)
