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
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

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
# A local activity that did not return at all (its worker died, it timed out) runs again whole;
# what it had already sent is found in the outbox and not sent again.
WHOLE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30),
                          maximum_attempts=5)


class LocalEffects:
    """Mixed into GroupIncidentWorkflow; `self.machine`, `self.in_flight`, `self.woken` are its own."""

    timer: asyncio.Task | None = None
    timer_due = None

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
            again = []
            for request, outcome in zip(pending, result.outcomes):
                if outcome.result is not None:
                    sent = self.machine.record_sent(request, outcome.result, workflow.now())
                    if sent.parked:
                        self.wake_on_failure()
                elif outcome.retryable and attempt < policy.maximum_attempts:
                    again.append(request)
                else:
                    self.machine.park_failure(request, outcome.error, attempt, workflow.now())
                    self.wake_on_failure()
            self.woken = True  # publish what changed (an approval key, a failure) once nothing is in flight
            if again:
                await workflow.sleep(_backoff(policy, attempt), summary="SMS retry backoff")
                attempt += 1
            pending = again

    async def sleep_on_one_timer(self) -> None:
        """Sleep until woken, or until the next due moment on a timer that is only replaced when it moves."""
        self.woken = False
        due = timers.next_due(self.machine)
        if self.timer is not None and self.timer.done():
            self.timer, self.timer_due = None, None
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
        timer, flying = self.timer, len(self.in_flight)
        await workflow.wait_condition(lambda: self.woken or bool(self.machine.effects) or len(self.in_flight) < flying
                                      or (timer is not None and timer.done()))
        if timer is not None and timer.done():
            self.timer, self.timer_due = None, None

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
