"""Sending an Update so a workflow task that failed under it does not turn into a refused action.

When a timer fires while the workflow task that carries a staff action is running, and that task
closes the incident, the server rejects the task's completion and aborts the Update with
`WorkflowNotReady` (nothing of it was applied: the task that would have accepted it failed). The
action is then simply sent again, under the same Update id, a few times before the error is shown.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

TRIES = 4
PAUSE_S = 0.2  # grows with each try: 0.2, 0.4, 0.6 s


def not_ready(err: RPCError) -> bool:
    """The server aborted the Update because the workflow task under it failed (retryable by the caller)."""
    details = getattr(err.grpc_status, "details", None) or []
    return err.status == RPCStatusCode.FAILED_PRECONDITION and \
        any(d.type_url.endswith("WorkflowNotReadyFailure") for d in details)


async def execute_update(handle: WorkflowHandle, update: Any, arg: Any) -> Any:
    """`handle.execute_update(update, arg)`, sent again while the server says the workflow was not ready."""
    update_id = str(uuid.uuid4())
    for attempt in range(1, TRIES + 1):
        try:
            return await handle.execute_update(update, arg, id=update_id)
        except RPCError as err:
            if attempt == TRIES or not not_ready(err):
                raise
            await asyncio.sleep(PAUSE_S * attempt)
