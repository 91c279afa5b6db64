"""One corrective action's workflow handle (整改, groupdesk.incidents.correctives): its state, result and updates."""

from __future__ import annotations

from temporalio.client import WorkflowHandle

from groupdesk.incidents.gateway.handles import execute_update


def corrective_workflow():
    from workflows.corrective import CorrectiveActionWorkflow

    return CorrectiveActionWorkflow


class Corrective:
    """One corrective action's workflow (整改, groupdesk.incidents.correctives): its state, its updates."""

    def __init__(self, handle: WorkflowHandle):
        self._handle = handle

    async def describe(self):
        return await self._handle.describe()

    async def state(self):
        return await self._handle.query(corrective_workflow().state)

    async def result(self):
        return await self._handle.result()

    async def done(self, req):
        return await execute_update(self._handle, corrective_workflow().done, req)

    async def verify(self, req):
        return await execute_update(self._handle, corrective_workflow().verify, req)
