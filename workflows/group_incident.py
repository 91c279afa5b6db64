"""The group-incident workflow: runs a playbook snapshot until the incident is closed.

It reads like the procedure: start the first steps, then sleep until something is due
or somebody records what happened, send what that calls for, repeat. Every change of the
incident's state is the machine's (`IncidentMachine`): a handler validates, calls the
machine with `workflow.now()`, and acknowledges; `patched` gates stay here.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from groupdesk.core.models import (
        Ack,
        AddNote,
        ArchiveIncident,
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
        SendMessages,
        SkipAction,
        StartIncident,
        WorkingDeadline,
    )
    from groupdesk.core import activities as declared, search_attributes as sa
    from groupdesk.core.playbook import Playbook
    # The machine is pure (tests/test_sandbox_imports.py: it imports nothing but the core) and takes
    # `now` as an argument; passed through, it is not re-imported for every run (about 20 ms of CPU each).
    from groupdesk.core.involved import needs_publicity_alert
    from workflows import checks, people, promise_checks, promises, timers
    from workflows.incident_machine import IncidentMachine, ResolveWorkingDays
    from workflows.handover_child import StartChild

from workflows.child_runner import run_child
from workflows.local_effects import PATCH as LOCAL_EFFECTS, TIMERS, LocalEffects

SMS_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                        maximum_interval=timedelta(minutes=1), maximum_attempts=8)


def sms_retry(time_scale: float) -> RetryPolicy:
    """A drill on compressed time also compresses the backoff between attempts (not the attempts)."""
    if time_scale <= 1:
        return SMS_RETRY
    return RetryPolicy(initial_interval=max(SMS_RETRY.initial_interval / time_scale, timedelta(milliseconds=20)),
                       backoff_coefficient=2.0, maximum_attempts=SMS_RETRY.maximum_attempts,
                       maximum_interval=max(SMS_RETRY.maximum_interval / time_scale, timedelta(milliseconds=100)))
# The archive waits for its database as long as it takes: a closed incident is never left out of it.
ARCHIVE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
ARCHIVE_TIMEOUT = timedelta(seconds=30)
# Short, so a message held by a worker that died is retried soon by another.
SMS_TIMEOUT = timedelta(seconds=10)


@workflow.defn(name="GroupIncident")
class GroupIncidentWorkflow(LocalEffects):
    @workflow.init
    def __init__(self, start: StartIncident) -> None:
        # Incidents started under it take the patches below as given (no marker each) and run local effects;
        # those started under TIMERS (one marker, which implies LOCAL_EFFECTS) arm their timer on the batch's clock.
        self.timely = workflow.patched(TIMERS)
        self.local = self.timely or workflow.patched(LOCAL_EFFECTS)
        # Older incidents drew approval codes from the workflow's random; newer ones get them by activity.
        legacy_codes = None if self.patched("approval-code-activity") else workflow.random()
        if start.carried is not None:  # a continued run picks up exactly where the last one stopped
            self.machine = IncidentMachine(start.model_copy(update={"carried": None}), start.carried, legacy_codes)
        else:
            self.machine = IncidentMachine.new(start, workflow.now(), legacy_codes)
            if needs_publicity_alert(start.registration) and self.patched("publicity-alert"):
                people.alert_publicity(self.machine, workflow.now())  # an SMS at the start: new commands
        self.woken = False
        self.published: tuple | None = None
        self.in_flight: set[asyncio.Task] = set()

    def patched(self, name: str) -> bool:
        return self.local or workflow.patched(name)

    @workflow.run
    async def run(self, start: StartIncident) -> IncidentState:
        while self.machine.state.status == "open":
            if not self.timely:  # perf-timers publishes after firing what is due: one upsert, not two
                self.publish()
            self.launch_effects()
            seen = len(self.machine.state.timeline)
            self.machine.fire_due(self.clock())
            self.count(self.machine.state.timeline[seen:])
            if self.machine.effects or self.machine.state.status != "open":
                continue
            if self.timely:
                self.publish()
            if self.history_too_long() and await self.quiet():
                workflow.continue_as_new(self.machine.continue_as_new(
                    workflow.now(), workflow.info().get_current_history_length()))
            await self.sleep_until_due_or_woken()
        self.publish()
        self.launch_effects()
        await workflow.wait_condition(lambda: not self.in_flight and not self.machine.effects)
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self.local:
            await self.archive_local()
        elif workflow.patched("archive-at-close"):  # incidents that closed before the archive are not in it
            await workflow.execute_activity(
                declared.archive_incident, ArchiveIncident(start=self.machine.start.model_copy(update={"carried": None}),
                                                    state=self.machine.state, run_id=workflow.info().run_id),
                start_to_close_timeout=ARCHIVE_TIMEOUT, retry_policy=ARCHIVE_RETRY)
        return self.machine.state

    def count(self, entries) -> None:
        """groupdesk's own metrics, through the SDK's meter (never emitted while replaying)."""
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
        if workflow.info().get_current_history_length() < self.machine.start.history_budget \
                or self.machine.waiting_child():  # a new run could not hear the child's result
            return False
        return self.patched("continue-as-new-budget")  # incidents recorded before it never continue

    async def quiet(self) -> bool:
        """Wait until no message is in flight and no update is being handled; True if nothing new came."""
        await workflow.wait_condition(lambda: not self.in_flight and workflow.all_handlers_finished())
        return not self.machine.effects and self.machine.state.status == "open"

    async def sleep_until_due_or_woken(self) -> None:
        if self.local:
            return await self.sleep_on_one_timer()
        self.woken = False
        due = timers.next_due(self.machine)
        timeout = None if due is None else max((due - workflow.now()).total_seconds(), 0.001)
        try:
            await workflow.wait_condition(lambda: self.woken or bool(self.machine.effects), timeout=timeout,
                                          timeout_summary="next playbook deadline")
        except asyncio.TimeoutError:
            pass

    # ---- effects: messages and working-day deadlines ------------------------------------

    def launch_effects(self) -> None:
        """Send in the background: a slow SMS gateway must never hold up a deadline."""
        if self.local:
            return self.launch_local()
        for effect in self.machine.take_effects():
            task = asyncio.create_task(self.carry_out(effect))
            self.in_flight.add(task)
            task.add_done_callback(self.in_flight.discard)

    async def carry_out(self, effect: SendMessages | ResolveWorkingDays | StartChild) -> None:
        if isinstance(effect, StartChild):  # a hand-over: another playbook as a child incident
            await run_child(self, effect)
            return
        if isinstance(effect, ResolveWorkingDays):
            due = await workflow.execute_activity(
                declared.working_day_deadline,
                WorkingDeadline(start=effect.start, working_days=effect.working_days), start_to_close_timeout=timedelta(seconds=10),
            )
            self.machine.apply_working_days(effect, due)
            self.woken = True  # a new deadline, and maybe the step's message, now exist
            return
        await self.send(effect)

    async def send(self, request: SendMessages) -> None:
        try:
            result = await workflow.execute_activity(
                declared.send_messages, request,
                start_to_close_timeout=SMS_TIMEOUT, retry_policy=sms_retry(self.machine.start.time_scale),
            )
        except ActivityError as err:
            cause = err.cause or err
            self.machine.park_failure(request, str(cause), SMS_RETRY.maximum_attempts, workflow.now())
            self.wake_on_failure()
            return
        sent = self.machine.record_sent(request, result, workflow.now())
        if sent.key_registered:
            self.woken = True  # publish it, so the director's reply finds this incident
        if sent.parked:
            self.wake_on_failure()

    def wake_on_failure(self) -> None:
        if self.patched("wake-on-failure"):
            self.woken = True  # the failure flag must reach the board now, not at the next deadline

    def publish(self) -> None:
        """Upsert search attributes when what the board filters on has changed."""
        if self.local and (self.in_flight or self.machine.effects) and self.machine.state.status == "open":
            return  # after what is in flight has landed, in the same workflow task: one upsert, not several
        s = self.machine.state
        current = (s.status, s.stage, tuple(s.current_steps), s.warning_tier)
        replies = self.reply_keys()
        flagged = self.failure_flag()
        board = self.board_fields()
        promised = promises.published(self.machine)  # empty until the first promise: old histories unchanged
        if current + replies + flagged + board + promised == self.published:
            return
        self.published = current + replies + flagged + board + promised
        updates = [
            sa.STATUS.value_set(s.status),
            sa.STAGE.value_set(s.stage or "-"),
            sa.CURRENT_STEPS.value_set(list(s.current_steps)),
            sa.WARNING_TIER.value_set(s.warning_tier),
        ]
        if replies:
            code_key, follow_up_key = replies
            updates += [sa.APPROVAL_KEY.value_set(code_key), sa.FOLLOW_UP_KEY.value_set(follow_up_key)]
        if flagged:
            updates.append(sa.FAILED_ACTIONS.value_set(flagged[0]))
        if board:
            next_deadline, overdue = board
            updates += [sa.NEXT_DEADLINE.value_set(next_deadline) if next_deadline else sa.NEXT_DEADLINE.value_unset(),
                        sa.OVERDUE.value_set(overdue)]
        if promised:
            next_due, statuses = promised
            updates += [sa.PROMISE_DUE.value_set(next_due) if next_due else sa.PROMISE_DUE.value_unset(),
                        sa.PROMISES.value_set(list(statuses))]
        workflow.upsert_search_attributes(updates)

    def reply_keys(self) -> tuple:
        """What lets an SMS reply find this incident: keyed hashes made outside the workflow, never a
        code or a number. "pending" while an approval's SMS (and so its code) is on its way; "legacy"
        where an older incident would have shown a code or an unkeyed hash (SMS replies cannot reach
        those). Empty for incidents started before replies existed."""
        if not self.patched("sms-reply-keys"):
            return ()
        m = self.machine
        s = m.state
        follow = s.follow_up
        awaiting = follow is not None and follow.sent and follow.outcome == "pending"
        if s.approval_key or s.approval_code:
            code = s.approval_key or "legacy"
        elif m.legacy_codes is None and m.pending_approvals():
            code = "pending"
        else:
            code = "-"
        return (code, (m.start.follow_up_key or "legacy") if awaiting else "-")

    def board_fields(self) -> tuple:
        """The next deadline and whether a step is overdue; empty for incidents from before the board."""
        if not self.patched("board-attributes"):
            return ()
        ahead = timers.upcoming(self.machine)
        now = workflow.now()
        overdue = any(st.deadline_at is not None and st.deadline_at <= now
                      for sid in self.machine.active_steps() if (st := self.machine.state.steps[sid]))
        return (ahead[0].due_at if ahead else None, overdue)

    def failure_flag(self) -> tuple:
        """How many actions wait for ops; empty for incidents started before the flag existed."""
        if not self.patched("failed-actions-flag"):
            return ()
        return (sum(1 for f in self.machine.state.failed_actions if f.status == "parked"),)

    # ---- what people do -----------------------------------------------------------------

    @workflow.update
    def record_outcome(self, req: RecordOutcome) -> Ack:
        self.machine.record_outcome(req, workflow.now())
        return self.acknowledge()

    @record_outcome.validator
    def validate_outcome(self, req: RecordOutcome) -> None:
        checks.check_outcome(self.machine, req)

    @workflow.update
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
    def record_follow_up(self, req: RecordFollowUp) -> Ack:
        self.machine.answer_follow_up(req, workflow.now())
        return self.acknowledge()

    @record_follow_up.validator
    def validate_follow_up(self, req: RecordFollowUp) -> None:
        checks.check_follow_up(self.machine, req)

    @workflow.update
    def retry_action(self, req: RetryAction) -> Ack:
        """Ops: run a parked action again; messages go to whoever the directory names now."""
        self.machine.retry(req, workflow.now())
        return self.acknowledge()

    @retry_action.validator
    def validate_retry(self, req: RetryAction) -> None:
        checks.check_parked(self.machine, req.step, req.actor, f"retry {req.step}", req.roles)

    @workflow.update
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
    def migrate_playbook(self, req: MigratePlaybook) -> Ack:
        self.machine.migrate(req, workflow.now())
        return self.acknowledge()

    @migrate_playbook.validator
    def validate_migration(self, req: MigratePlaybook) -> None:
        checks.check_migration(self.machine, req)

    @workflow.update
    def record_reset(self, req: RecordReset) -> Ack:
        """Written right after an ops reset, into the new run: who reset, to where, why."""
        self.machine.record_reset(req, workflow.now())
        return self.acknowledge()

    @record_reset.validator
    def validate_reset(self, req: RecordReset) -> None:
        checks.require_bounded("reason", checks.bounds.note_problem(req.reason))
        checks.require_role(self.machine, req.actor, ["ops"], "reset an incident", req.roles)

    @workflow.update
    def hand_over(self, req: HandOver) -> Ack:
        """首问负责制: a new named owner, told by SMS."""
        self.machine.hand_over(req, workflow.now())
        return self.acknowledge()

    @hand_over.validator
    def validate_handover(self, req: HandOver) -> None:
        checks.check_handover(self.machine, req)

    @workflow.update
    def promise(self, req: PromiseChange) -> PromiseAck:
        """合理承诺,有诺必行: make a promise, record it kept, change its due time, or (director) waive."""
        promise_id = self.machine.change_promises(req, workflow.now())
        return PromiseAck(**self.acknowledge().model_dump(), promise=promise_id)

    @promise.validator
    def validate_promise(self, req: PromiseChange) -> None:
        promise_checks.check_promise(self.machine, req, workflow.now())

    @workflow.signal
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

    def acknowledge(self) -> Ack:
        self.woken = True
        s = self.machine.state
        return Ack(status=s.status, stage=s.stage, current_steps=list(s.current_steps), warning_tier=s.warning_tier)
