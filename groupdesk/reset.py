"""Resetting an incident to the point before one of its steps began, with Temporal's reset."""

from __future__ import annotations

import json
import uuid

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, ResetReapplyType
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHistory

from workflows import search_attributes as sa


class ResetError(ValueError):
    pass


def _current_steps(event) -> list[str] | None:
    """The CurrentSteps an upsert set, if this event is such an upsert."""
    if event.event_type != EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        return None
    payload = event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields.get(
        sa.CURRENT_STEPS.name)
    return None if payload is None else (json.loads(payload.data) or [])


def reset_point(history: WorkflowHistory, step: str) -> int:
    """The workflow task in which `step` first became current (its search attributes say so)."""
    reached: list[str] = []
    for event in history.events:
        steps = _current_steps(event)
        if steps is None:
            continue
        if step in steps:
            return event.upsert_workflow_search_attributes_event_attributes.workflow_task_completed_event_id
        reached += [s for s in steps if s not in reached]
    raise ResetError(f"step {step!r} never began in this run; steps it reached: {', '.join(reached) or 'none'}")


async def reset_to_step(client: Client, incident_id: str, step: str, reason: str) -> str:
    """Reset to just before `step` began; later updates and signals are not re-applied. Returns the new run id."""
    handle = client.get_workflow_handle(incident_id)
    history = await handle.fetch_history()
    run_id = (await handle.describe()).run_id
    event_id = reset_point(history, step)
    response = await client.workflow_service.reset_workflow_execution(ResetWorkflowExecutionRequest(
        namespace=client.namespace,
        workflow_execution=WorkflowExecution(workflow_id=incident_id, run_id=run_id),
        reason=reason, workflow_task_finish_event_id=event_id, request_id=str(uuid.uuid4()),
        reset_reapply_type=ResetReapplyType.RESET_REAPPLY_TYPE_NONE,
    ))
    return response.run_id
