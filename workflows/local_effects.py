"""Fewer engine operations per incident (issue 18), for incidents started under the "perf-local-effects" patch.

- The messages one transition calls for go out in ONE local activity (`send_batch`): a marker in the
  history instead of three events and a workflow task per message. The outbox keeps them exactly-once
  (a message is stored and taken under its idempotency key before the provider is called), so running
  it as a local activity, which a crashed worker's successor runs again, sends nothing twice.
- A request that failed is retried by the workflow on the same backoff as SMS_RETRY, alone: the others
  are not sent again; after the last attempt it is parked for ops as before.
- Working-day deadlines and the archive are local activities too (pure arithmetic; idempotent by run id).
- One timer for the next due moment, kept while that moment stays the same (not one per wake-up).
- Search attributes are upserted once nothing is in flight, so a workflow task carries one upsert.

Under "perf-timers" (incidents started since; `self.timely`), the timer keeps time with the local activities:
- A timer armed in a workflow task starts only when the task completes, after its local activities. So it
  counts from `clock()`: the later of workflow.now() (behind real time in a task that runs local activities:
  the SDK takes the task's start plus the worker's elapsed time) and when the last batch finished (the
  worker's clock, read from its marker on replay); and a timer armed earlier in the same task is armed again
  once a batch lands (its start was never sent: replacing it costs no event).
- A timer already running is kept when the next due moment (a step's) moves later: no cancel and start per
  staff action; if it fires before anything is due, the next one is armed then.
- `fire_due` runs on `clock()` and before `publish`, so a task that fires a reminder upserts once.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from groupdesk.core import activities as declared
    from groupdesk.core.batch import SendBatch
    from groupdesk.core.models import ArchiveIncident, SendMessages, WorkingDeadline
    from workflows import timers
    from workflows.handover_child import StartChild
    from workflows.incident_machine import ResolveWorkingDays

from workflows.child_runner import run_child

PATCH = "perf-local-effects"
TIMERS = "perf-timers"
# A local activity that did not return at all (its worker died, it timed out) runs again whole;
# what it had already sent is found in the outbox and not sent again.
WHOLE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30),
                          maximum_attempts=5)


class LocalEffects:
    """Mixed into GroupIncidentWorkflow; `self.machine`, `self.in_flight`, `self.woken` are its own."""

    timer: asyncio.Task | None = None
    timer_due = None
    timely = False  # started under TIMERS (set by the workflow)
    timer_task = 0  # the workflow task that armed the timer (its history length when it began)
    timer_clock: datetime | None = None  # the clock it was armed on
    landed_at: datetime | None = None  # when the last batch finished, by the worker's clock

    def clock(self) -> datetime:
        """Now, for arming a timer: never earlier than the last batch's end (workflow.now() waits for it)."""
        now = workflow.now()
        return max(now, self.landed_at) if self.timely and self.landed_at else now

    def launch_local(self) -> None:
        """This transition's effects: working-day deadlines each, and one batch for all its messages."""
        sends: list[SendMessages] = []
        for effect in self.machine.take_effects():
            if isinstance(effect, ResolveWorkingDays):
                self._track(self._working_days(effect))
            elif isinstance(effect, StartChild):  # a hand-over: the other playbook as a child incident
                self._track(run_child(self, effect))
            else:
                sends.append(effect)
        if sends:
            self._track(self._send_batch(sends))

    def _track(self, coro) -> None:
        task = asyncio.create_task(coro)
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)

    async def _working_days(self, effect: ResolveWorkingDays) -> None:
        due = await workflow.execute_local_activity(
            declared.working_day_deadline, WorkingDeadline(start=effect.start, working_days=effect.working_days),
            start_to_close_timeout=timedelta(seconds=10))
        self.machine.apply_working_days(effect, due)
        self.woken = True

    async def _send_batch(self, requests: list[SendMessages]) -> None:
        from workflows.group_incident import SMS_TIMEOUT, sms_retry

        policy = sms_retry(self.machine.start.time_scale)
        pending, attempt = requests, 1
        while pending:
            try:
                result = await workflow.execute_local_activity(
                    declared.send_batch, SendBatch(requests=pending, attempt=attempt),
                    start_to_close_timeout=SMS_TIMEOUT, retry_policy=WHOLE_RETRY)
            except ActivityError as err:
                for request in pending:
                    self.machine.park_failure(request, str(err.cause or err), attempt, workflow.now())
                self.wake_on_failure()
                return
            if self.timely and result.finished_at is not None:
                self.landed_at = max(result.finished_at, self.landed_at or result.finished_at)
            again, wait = [], 0.0
            for request, outcome in zip(pending, result.outcomes):
                if outcome.result is not None:
                    sent = self.machine.record_sent(request, outcome.result, workflow.now())
                    if sent.parked:
                        self.wake_on_failure()
                elif outcome.retryable and attempt < policy.maximum_attempts:
                    again.append(request)
                    wait = max(wait, outcome.retry_after)  # a provider's rate window: not hammered
                else:
                    self.machine.park_failure(request, outcome.error, attempt, workflow.now())
                    self.wake_on_failure()
            self.woken = True  # publish what changed (an approval key, a failure) once nothing is in flight
            if again:
                await workflow.sleep(max(_backoff(policy, attempt), timedelta(seconds=wait)), summary="SMS retry backoff")
                attempt += 1
            pending = again

    async def sleep_on_one_timer(self) -> None:
        """Sleep until woken, or until the next due moment on a timer that is only replaced when it moves."""
        self.woken = False
        due = timers.next_due(self.machine)
        if self.timer is not None and self.timer.done():
            self.timer, self.timer_due = None, None
        if self.timely:
            ahead = timers.upcoming(self.machine)
            # Only while steps are under way: a timer firing for nothing in the task of the answer that closes
            # the incident would fail that task (an update refused), so the follow-up waits on its own timer.
            self._keep_or_arm(due, keep_sooner=bool(ahead) and not ahead[0].kind.startswith("follow_up"))
        else:
            self._arm_unless_settling(due)
        timer, flying = self.timer, len(self.in_flight)
        await workflow.wait_condition(lambda: self.woken or bool(self.machine.effects) or len(self.in_flight) < flying
                                      or (timer is not None and timer.done()))
        if timer is not None and timer.done():
            self.timer, self.timer_due = None, None

    def _keep_or_arm(self, due: datetime | None, keep_sooner: bool) -> None:
        """One timer for `due` on `clock()`; a running one is kept when `due` moved later (it fires early)."""
        task, clock = workflow.info().get_current_history_length(), self.clock()
        if self.timer is not None and self.timer_task == task:  # not sent yet: replace it freely
            if due == self.timer_due and clock == self.timer_clock:
                return
        elif self.timer is not None and keep_sooner and due >= self.timer_due:
            return  # sooner than needed: when it fires with nothing due, the next one is armed
        elif self.timer is None and due is None:
            return
        if self.timer is not None:
            self.timer.cancel()
        self.timer, self.timer_due, self.timer_task, self.timer_clock = None, due, task, clock
        if due is not None:
            self.timer = asyncio.create_task(workflow.sleep(
                max((due - clock).total_seconds(), 0.001), summary="next playbook deadline"))

    def _arm_unless_settling(self, due: datetime | None) -> None:
        """Before "perf-timers": the timer counts from workflow.now() and is replaced whenever `due` moves."""
        # While messages are in flight (they land in this workflow task) a timer due sooner is enough:
        # the deadline may still move, so re-arm once they have landed, not for every step of the way.
        settling = bool(self.in_flight) and self.timer is not None and (due is None or self.timer_due <= due)
        if due != self.timer_due and not settling:
            if self.timer is not None and not self.timer.done():
                self.timer.cancel()
            self.timer, self.timer_due = None, due
            if due is not None:
                self.timer = asyncio.create_task(workflow.sleep(
                    max((due - workflow.now()).total_seconds(), 0.001), summary="next playbook deadline"))

    async def archive_local(self) -> None:
        from workflows.group_incident import ARCHIVE_RETRY, ARCHIVE_TIMEOUT

        await workflow.execute_local_activity(
            declared.archive_incident, ArchiveIncident(start=self.machine.start.model_copy(update={"carried": None}),
                                                       state=self.machine.state, run_id=workflow.info().run_id),
            start_to_close_timeout=ARCHIVE_TIMEOUT, retry_policy=ARCHIVE_RETRY)


def _backoff(policy: RetryPolicy, attempt: int) -> timedelta:
    """The wait before attempt `attempt + 1`, as Temporal's own retry policy would have it."""
    wait = policy.initial_interval * (policy.backoff_coefficient ** (attempt - 1))
    return min(wait, policy.maximum_interval) if policy.maximum_interval else wait
