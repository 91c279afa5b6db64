"""The corrective-action workflow (整改): one per action, started from an incident, outliving it.

It sleeps on a durable timer until the next thing is due (the owner's reminder, the due time, the next rung up the
escalation chain) or somebody records something (`done`, `verify`), sends what that calls for through the outbox,
and once verified writes its own row into the archive's hash chain and completes. The state changes are the pure
machine's (workflows/machine/corrective.py); the validators beside the updates ask the same rules as the gateway.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from groupdesk.core import activities as declared
    from groupdesk.core import search_attributes as sa
    from groupdesk.core import validation as bounds
    from groupdesk.core.corrective import (
        ArchiveCorrective, CorrectiveDone, CorrectiveState, CorrectiveVerify, StartCorrective, done_problem,
        verify_problem,
    )
    from workflows.checks import rejected
    from workflows.machine.corrective import CorrectiveMachine

SEND_TIMEOUT = timedelta(seconds=60)
SEND_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1),
                         maximum_attempts=8)


@workflow.defn(name="CorrectiveAction")
class CorrectiveActionWorkflow:
    @workflow.init
    def __init__(self, start: StartCorrective) -> None:
        self.machine = CorrectiveMachine(start)
        self.outgoing: list = []
        self.woken = False
        self.wake_at: datetime | None = None

    @workflow.run
    async def run(self, start: StartCorrective) -> CorrectiveState:
        while self.machine.state.status != "verified":
            self.outgoing.extend(self.machine.fire_due(workflow.now()))
            await self.send()
            self.publish()
            if self.machine.state.status == "verified":
                break
            due = self.machine.next_due()
            self.woken = False
            timeout = max((due - workflow.now()).total_seconds(), 0.001) if due is not None else None
            self.wake_at = due
            try:
                await workflow.wait_condition(lambda: self.woken, timeout=timeout,
                                              timeout_summary="next corrective-action deadline")
            except TimeoutError:
                pass
            self.wake_at = None
        await self.send()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await workflow.execute_activity(
            declared.archive_corrective,
            ArchiveCorrective(start=start, state=self.machine.state, run_id=workflow.info().run_id),
            start_to_close_timeout=timedelta(seconds=60))
        self.publish()
        return self.machine.state

    async def send(self) -> None:
        while self.outgoing:
            request = self.outgoing.pop(0)
            await workflow.execute_activity(declared.send_messages, request, start_to_close_timeout=SEND_TIMEOUT,
                                            retry_policy=SEND_RETRY)

    def publish(self) -> None:
        s = self.machine.state
        workflow.upsert_search_attributes([
            sa.STATUS.value_set(s.status),
            sa.OVERDUE.value_set(s.overdue(workflow.now())),
            sa.NEXT_DEADLINE.value_set(s.due_at) if s.status == "open" else sa.NEXT_DEADLINE.value_unset(),
        ])

    # ---- what people do -------------------------------------------------------------------------------------

    @workflow.update
    def done(self, req: CorrectiveDone) -> CorrectiveState:
        self.machine.done(req, workflow.now())
        self.woken = True
        return self.machine.state

    @done.validator
    def validate_done(self, req: CorrectiveDone) -> None:
        if problem := done_problem(self.machine.state, req.actor):
            raise rejected(problem)
        if problem := bounds.note_problem(req.note, "say what was done"):
            raise rejected(f"note: {problem}")

    @workflow.update
    def verify(self, req: CorrectiveVerify) -> CorrectiveState:
        self.outgoing.extend(self.machine.verify(req, workflow.now()))
        self.woken = True
        return self.machine.state

    @verify.validator
    def validate_verify(self, req: CorrectiveVerify) -> None:
        roles = req.roles if req.roles is not None else self.machine.start.directors_fallback(req.actor)
        if problem := verify_problem(self.machine.state, roles, req.decision, req.reason):
            raise rejected(problem)
        if req.reason and (problem := bounds.note_problem(req.reason)):
            raise rejected(f"reason: {problem}")

    @workflow.query
    def state(self) -> CorrectiveState:
        return self.machine.state

    @workflow.query
    def wakes_at(self) -> datetime | None:
        """When the action's timer is due to wake it (None when none runs)."""
        return self.wake_at
