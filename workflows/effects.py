"""Carrying out the machine's effects: each transition's messages in one local activity, and the rest.

- Working-day deadlines are counted on the calendar snapshot the start carries (an activity only without one).
- The messages one transition calls for go out in ONE local activity (`send_batch`): a marker in the history.
  One local activity of an incident runs at a time; a batch decided meanwhile waits for the one in flight.
  The outbox keeps them exactly-once (a message is stored and taken under its idempotency key before the
  provider is called), so a crashed worker's successor running the batch again sends nothing twice.
- A request that failed is retried by the workflow, alone, on SMS_RETRY's backoff; after the last attempt it
  is parked for ops. The archive is a local activity too; a hand-over starts a
  child workflow (workflows/child_runner.py).
- The clock: a timer armed in a workflow task starts only when the task completes, after its local
  activities; `clock()` is the later of workflow.now() and when the last batch finished (the worker's clock,
  read from the batch's marker on replay), so deadlines are counted from when the messages went out. In the
  task a batch landed in, it is the landing itself: core may hand a landing to the next task (it answered a
  query meanwhile) where replay hands it to the task that ran the batch, and both must count the same.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from groupdesk.core import activities as declared, workdays
    from groupdesk.core.batch import SendBatch
    from groupdesk.core.models import ArchiveIncident, SendMessages, WorkingDeadline
    from workflows.machine.incident import IncidentMachine
    from workflows.machine.record import ResolveWorkingDays, StartChild

from workflows.child_runner import run_child

# The workflow's own retries of a request the provider refused for now (a rate limit, a gateway down).
SMS_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                        maximum_interval=timedelta(minutes=1), maximum_attempts=8)
# A local activity that did not return at all (its worker died, it timed out) runs again whole;
# what it had already sent is found in the outbox and not sent again.
WHOLE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30),
                          maximum_attempts=5)
# Short, so a batch held by a worker that died is run soon by another.
SMS_TIMEOUT = timedelta(seconds=10)
# The archive waits for its database as long as it takes: a closed incident is never left out of it.
ARCHIVE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
ARCHIVE_TIMEOUT = timedelta(seconds=30)


def sms_retry(time_scale: float) -> RetryPolicy:
    """A drill on compressed time also compresses the backoff between attempts (not the attempts)."""
    if time_scale <= 1:
        return SMS_RETRY
    return RetryPolicy(initial_interval=max(SMS_RETRY.initial_interval / time_scale, timedelta(milliseconds=20)),
                       backoff_coefficient=2.0, maximum_attempts=SMS_RETRY.maximum_attempts,
                       maximum_interval=max(SMS_RETRY.maximum_interval / time_scale, timedelta(milliseconds=100)))


def backoff(policy: RetryPolicy, attempt: int) -> timedelta:
    """The wait before attempt `attempt + 1`, as Temporal's own retry policy would have it."""
    wait = policy.initial_interval * (policy.backoff_coefficient ** (attempt - 1))
    return min(wait, policy.maximum_interval) if policy.maximum_interval else wait


class Effects:
    """What is in flight for one incident; `wake` tells the workflow's loop that something changed."""

    def __init__(self, machine: IncidentMachine, wake: Callable[[], None], one_at_a_time: bool = True):
        self.machine = machine
        self.wake = wake
        self.one_at_a_time = one_at_a_time  # False: an incident of the previous release, run as it ran them
        self.in_flight: set[asyncio.Task] = set()
        self.awaiting_children: set[asyncio.Task] = set()  # apart: a waited-for child must not look busy
        self.landed_at: datetime | None = None  # when the last batch finished, by the worker's clock
        self.landed_in = 0  # the workflow task it landed in (its history length)
        self.sent_on: datetime | None = None  # the workflow's clock when the last local activity was scheduled
        self.running = asyncio.Lock()  # held by the local activity in flight: one at a time (`_local`)
        self.local = 0  # local activities running or waiting for the one that runs

    def clock(self, fired: datetime | None = None) -> datetime:
        """Now, for firing what is due and arming a timer: never earlier than the last batch's end. A turn woken
        by the deadline timer counts from the moment it was `fired` for, and a turn in the task a batch landed in
        from the landing: core can hand a fired timer to a task on a stale clock, and a landing to the next task,
        where replay does neither (README, "Replay hazards")."""
        now = workflow.now()
        if not self.one_at_a_time:  # an incident of the previous release: as it counted
            return max(now, self.landed_at) if self.landed_at else now
        if fired is not None:
            now = fired
        elif self.landed_at is not None and self.landed_in == workflow.info().get_current_history_length():
            now = max(self.landed_at, self.sent_on or self.landed_at)  # a worker's clock behind the server's
        return max(now, self.landed_at) if self.landed_at else now

    def busy(self) -> bool:
        """A local activity runs or waits to: what follows from it is decided once it has landed."""
        return self.local > 0

    def launch(self) -> None:
        """This transition's effects: working-day deadlines each, the child starts, one batch for its messages."""
        sends: list[SendMessages] = []
        while effects := self.machine.take_effects():  # a working-day deadline counted here may announce a step
            for effect in effects:
                if isinstance(effect, ResolveWorkingDays):
                    self._resolve(effect)
                elif isinstance(effect, StartChild):  # a hand-over: the other playbook as a child incident
                    self._track(run_child(self.machine, effect, self.wake, self._keep_awaiting))
                else:
                    sends.append(effect)
        if sends:
            self.local += 1  # counted from now: its local activity starts at the event loop's next turn
            self._track(self._send_batch(sends))

    def _track(self, coro) -> None:
        task = asyncio.create_task(coro)
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)

    def _keep_awaiting(self, task: asyncio.Task) -> None:
        self.awaiting_children.add(task)
        task.add_done_callback(self.awaiting_children.discard)

    def _resolve(self, effect: ResolveWorkingDays) -> None:
        """Counted on the start's calendar snapshot (no history event); by an activity when it has none or the
        count leaves the snapshot's years."""
        due = workdays.add_on(self.machine.start.workdays, effect.start, effect.working_days)
        if due is None:
            self.local += 1
            self._track(self._working_days(effect))
        else:
            self.machine.apply_working_days(effect, due)

    async def _working_days(self, effect: ResolveWorkingDays) -> None:
        due = await self._local(
            declared.working_day_deadline, WorkingDeadline(start=effect.start, working_days=effect.working_days),
            counted=True, start_to_close_timeout=timedelta(seconds=10))
        self.machine.apply_working_days(effect, due)
        self.wake()

    async def _local(self, activity, arg, counted: bool = False, **options):
        """Run a local activity once none other of this incident runs. Local activities that run together resolve
        in the order they finish, and on replay in the order they were scheduled (temporalio/sdk-python#1578): a
        batch started beside a slow one could resume the workflow in another order on replay than it ran."""
        if not counted:  # else counted in `local` when its task was made
            self.local += 1
        try:
            async with self.running if self.one_at_a_time else contextlib.nullcontext():
                self.sent_on = workflow.now()
                return await workflow.execute_local_activity(activity, arg, **options)
        finally:
            self.local -= 1

    async def _send_batch(self, requests: list[SendMessages]) -> None:
        policy = sms_retry(self.machine.start.time_scale)
        pending, attempt = requests, 1
        while pending:
            try:
                result = await self._local(
                    declared.send_batch, SendBatch(requests=pending, attempt=attempt), counted=attempt == 1,
                    start_to_close_timeout=SMS_TIMEOUT, retry_policy=WHOLE_RETRY)
            except ActivityError as err:
                for request in pending:
                    self.machine.park_failure(request, str(err.cause or err), attempt, workflow.now())
                self.wake()  # the failure flag must reach the board now, not at the next deadline
                return
            if result.finished_at is not None:
                self.landed_at = max(result.finished_at, self.landed_at or result.finished_at)
                self.landed_in = workflow.info().get_current_history_length()
            now = self.clock() if self.one_at_a_time else workflow.now()
            again, wait = [], 0.0
            for request, outcome in zip(pending, result.outcomes):
                if outcome.result is not None:
                    self.machine.record_sent(request, outcome.result, now)
                elif outcome.retryable and attempt < policy.maximum_attempts:
                    again.append(request)
                    wait = max(wait, outcome.retry_after)  # a provider's rate window: not hammered
                else:
                    self.machine.park_failure(request, outcome.error, attempt, now)
            self.wake()  # publish what changed (an approval key, a failure) once nothing is in flight
            if again:
                await workflow.sleep(max(backoff(policy, attempt), timedelta(seconds=wait)), summary="SMS retry backoff")
                attempt += 1
            pending = again

    async def archive(self) -> None:
        """The closed incident into the archive (idempotent by run id)."""
        await self._local(
            declared.archive_incident, ArchiveIncident(start=self.machine.start.model_copy(update={"carried": None}),
                                                       state=self.machine.state, run_id=workflow.info().run_id),
            start_to_close_timeout=ARCHIVE_TIMEOUT, retry_policy=ARCHIVE_RETRY)
