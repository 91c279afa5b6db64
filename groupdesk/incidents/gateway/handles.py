"""One incident's workflow handle: its updates (sent again while the workflow was not ready), queries, history."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any, Callable

from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from groupdesk.core.amend import AmendRegistration
from groupdesk.core.evidence import EvidenceAdded
from groupdesk.core.finding import RecordFinding
from groupdesk.core.models import (
    Ack, AddNote, DecideApproval, DeliveryReport, HandOver, IncidentState, MigratePlaybook, PromiseAck, PromiseChange,
    RecordFollowUp, RecordOutcome, RecordReset, RetryAction, SkipAction,
)
from groupdesk.core.playbook import Playbook
from groupdesk.core.tell import FromComplainant, TellComplainant
from groupdesk.core.validation import normal_fields
from groupdesk.engine.client import IncidentUnavailable
from groupdesk.incidents.links import with_live_links


def incident_workflow():
    from workflows.group_incident import GroupIncidentWorkflow

    return GroupIncidentWorkflow

# A staff action whose workflow task failed under it (a timer fired while the task closing the incident ran: the
# server aborts the Update with WorkflowNotReady, nothing applied) is sent again under the same Update id, a few times.
UPDATE_TRIES = 4
UPDATE_PAUSE_S = 0.2  # grows with each try: 0.2, 0.4, 0.6 s


def not_ready(err: RPCError) -> bool:
    """The server aborted the Update because the workflow task under it failed (retryable by the caller)."""
    details = getattr(err.grpc_status, "details", None) or []
    return err.status == RPCStatusCode.FAILED_PRECONDITION and \
        any(d.type_url.endswith("WorkflowNotReadyFailure") for d in details)


async def execute_update(handle: WorkflowHandle, update: Any, arg: Any) -> Any:
    """`handle.execute_update(update, arg)` with the text as kept (NFC), sent again while the workflow was not ready."""
    update_id, arg = str(uuid.uuid4()), normal_fields(arg)
    for attempt in range(1, UPDATE_TRIES + 1):
        try:
            return await handle.execute_update(update, arg, id=update_id)
        except RPCError as err:
            if attempt == UPDATE_TRIES or not not_ready(err):
                raise
            await asyncio.sleep(UPDATE_PAUSE_S * attempt)


class Incident:
    """One incident's workflow: its updates, signals, queries, result and history."""

    def __init__(self, handle: WorkflowHandle):
        self._handle = handle

    @classmethod
    def of(cls, target: "Incident | WorkflowHandle") -> "Incident":
        """An Incident from an Incident or from a handle a test started with start_incident."""
        return target if isinstance(target, Incident) else cls(target)

    @property
    def id(self) -> str:
        return self._handle.id

    def linked(self, incident_id: str) -> "Incident":
        """A linked incident (a hand-over's child or parent), reached through the same client."""
        return Incident(self._handle._client.get_workflow_handle(incident_id, result_type=IncidentState))

    async def describe_linked(self, incident_id: str):
        return await self.linked(incident_id).describe()

    async def live_state(self) -> IncidentState:
        """The running workflow's state (a query)."""
        return await self._handle.query(incident_workflow().state)

    async def state(self) -> IncidentState:
        """The incident's state: queried while open, the workflow's result once closed."""
        described = await self.describe()
        if described.status == WorkflowExecutionStatus.COMPLETED:
            return await with_live_links(self.describe_linked, await self.result())
        if described.status != WorkflowExecutionStatus.RUNNING:
            raise IncidentUnavailable(f"incident {self.id} ended abnormally ({described.status.name});"
                                      " ask ops to look at its history")
        return await with_live_links(self.describe_linked, await self.live_state())

    async def playbook(self) -> Playbook:
        return await self._handle.query(incident_workflow().playbook)

    async def result(self) -> IncidentState:
        return await self._handle.result()

    async def history(self) -> WorkflowHistory:
        return await self._handle.fetch_history()

    async def describe(self):
        """What Temporal says of the execution: status, start time, search attributes, run id."""
        return await self._handle.describe()

    async def run_id(self) -> str:
        return (await self.describe()).run_id

    async def wait_for(self, predicate: Callable[[IncidentState], bool], timeout: float = 120,
                       poll: float = 0.1) -> IncidentState:
        """Poll the state until `predicate` holds; TimeoutError naming the stage if it never does."""
        deadline = time.monotonic() + timeout
        while True:
            state = await self.live_state()
            if predicate(state):
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.id}: still at {state.stage}")
            await asyncio.sleep(poll)

    async def record_outcome(self, req: RecordOutcome) -> Ack:
        return await execute_update(self._handle, incident_workflow().record_outcome, req)

    async def decide(self, req: DecideApproval) -> Ack:
        return await execute_update(self._handle, incident_workflow().decide_approval, req)

    async def follow_up(self, req: RecordFollowUp) -> Ack:
        return await execute_update(self._handle, incident_workflow().record_follow_up, req)

    async def retry(self, req: RetryAction) -> Ack:
        return await execute_update(self._handle, incident_workflow().retry_action, req)

    async def hand_over(self, req: HandOver) -> Ack:
        return await execute_update(self._handle, incident_workflow().hand_over, req)

    async def skip(self, req: SkipAction) -> Ack:
        return await execute_update(self._handle, incident_workflow().skip_action, req)

    async def promise(self, req: PromiseChange) -> PromiseAck:
        return await execute_update(self._handle, incident_workflow().promise, req)

    async def tell(self, req: TellComplainant) -> Ack:
        return await execute_update(self._handle, incident_workflow().tell, req)

    async def amend_registration(self, req: AmendRegistration) -> Ack:
        return await execute_update(self._handle, incident_workflow().amend_registration, req)
    async def finding(self, req: RecordFinding) -> Ack:
        return await execute_update(self._handle, incident_workflow().finding, req)

    async def evidence_added(self, req: EvidenceAdded) -> Ack:
        return await execute_update(self._handle, incident_workflow().evidence_added, req)

    async def from_complainant(self, req: FromComplainant) -> Ack:
        return await execute_update(self._handle, incident_workflow().from_complainant, req)

    async def migrate(self, req: MigratePlaybook) -> Ack:
        return await execute_update(self._handle, incident_workflow().migrate_playbook, req)

    async def record_reset(self, req: RecordReset) -> Ack:
        return await execute_update(self._handle, incident_workflow().record_reset, req)

    async def note(self, req: AddNote) -> None:
        await self._handle.signal(incident_workflow().add_note, normal_fields(req))

    async def report_delivery(self, req: DeliveryReport) -> None:
        await self._handle.signal(incident_workflow().report_delivery, req)
