"""What `show` and the API say of an incident's linked incidents: their status as Temporal knows it now.

The workflow records a link's status when it learns it (a parent that waits hears its child end); a
parent that closed on handing over, or a child, would otherwise show what it knew last."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from groupdesk.core.models import IncidentState

async def with_live_links(describe: Callable[[str], Awaitable[Any]], state: IncidentState) -> IncidentState:
    """The state with each linked incident's current status (open, closed or failed); `describe(id)` is the
    linked workflow's description, as the gateway reaches it."""
    for link in state.linked:
        if link.status == "failed":
            continue
        try:
            described = await describe(link.id)
        except RPCError:
            continue  # not started (yet), or gone from Temporal: keep what the workflow recorded
        if described.status == WorkflowExecutionStatus.RUNNING:
            link.status = "open"
        elif described.status == WorkflowExecutionStatus.COMPLETED:
            link.status = "closed"
        else:
            link.status = "failed"
    return state
