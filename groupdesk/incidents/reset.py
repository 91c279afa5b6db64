"""Where to reset an incident to: the point before one of its steps began (groupdesk.incidents.gateway resets)."""

from __future__ import annotations

import json

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory

from groupdesk.core import search_attributes as sa


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
