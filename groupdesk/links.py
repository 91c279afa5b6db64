"""What `show` and the API say of an incident's linked incidents: their status as Temporal knows it now.

The workflow records a link's status when it learns it (a parent that waits hears its child end); a
parent that closed on handing over, or a child, would otherwise show what it knew last."""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from groupdesk.core.models import IncidentState

if TYPE_CHECKING:
    from groupdesk.gateway import Incident


async def with_live_links(incident: "Incident", state: IncidentState) -> IncidentState:
    """The state with each linked incident's current status (open, closed or failed)."""
    for link in state.linked:
        if link.status == "failed":
            continue
        try:
            described = await incident.linked(link.id).describe()
        except RPCError:
            continue  # not started (yet), or gone from Temporal: keep what the workflow recorded
        if described.status == WorkflowExecutionStatus.RUNNING:
            link.status = "open"
        elif described.status == WorkflowExecutionStatus.COMPLETED:
            link.status = "closed"
        else:
            link.status = "failed"
    return state
