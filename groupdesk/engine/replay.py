"""Replaying incident histories against the current workflow code."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.group_incident import GroupIncidentWorkflow
from workflows.periodic_report import PeriodicReportWorkflow
from workflows.sandbox import workflow_runner

WORKFLOWS = (GroupIncidentWorkflow, PeriodicReportWorkflow)


@dataclass
class ReplayOutcome:
    workflow_id: str
    source: str
    events: int
    error: str | None = None
    diverged_at: str | None = None  # the first history event the current code disagrees with


def history_from_file(path: Path) -> WorkflowHistory:
    raw = Path(path).read_text(encoding="utf-8")
    try:
        first = json.loads(raw)["events"][0]
    except (ValueError, KeyError, IndexError):
        raise ValueError(f"{path}: not a Temporal history JSON (export one with `groupdesk history export`)")
    workflow_id = first.get("workflowExecutionStartedEventAttributes", {}).get("workflowId") or Path(path).stem
    return WorkflowHistory.from_json(workflow_id, raw)


def replayer(workflows=WORKFLOWS, converter=None) -> Replayer:
    return Replayer(workflows=list(workflows), data_converter=converter or pydantic_data_converter,
                    workflow_runner=workflow_runner())


async def replay(history: WorkflowHistory, source: str, workflows=WORKFLOWS,
                 converter=None) -> ReplayOutcome:
    """Replay one history; `converter` must hold the codec keys if the history is encrypted."""
    result = await replayer(workflows, converter).replay_workflow(history, raise_on_replay_failure=False)
    outcome = ReplayOutcome(workflow_id=history.workflow_id, source=source, events=len(history.events))
    if result.replay_failure:
        outcome.error = str(result.replay_failure)
        outcome.diverged_at = await first_divergence(history, workflows, converter)
    return outcome


async def first_divergence(history: WorkflowHistory, workflows, converter=None) -> str | None:
    """Bisect over prefixes that end after a workflow task's commands: the first failing one
    names the task whose commands the current code no longer produces."""
    events = list(history.events)
    completed = [i for i, e in enumerate(events) if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED]

    def end_of_commands(task: int) -> int:
        after = completed[task] + 1
        while after < len(events) and events[after].event_type != EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
            after += 1
        return after

    async def fails_with(length: int) -> bool:
        prefix = WorkflowHistory(history.workflow_id, events[:length])
        result = await replayer(workflows, converter).replay_workflow(prefix, raise_on_replay_failure=False)
        return result.replay_failure is not None

    async def fails(task: int) -> bool:
        return await fails_with(end_of_commands(task))

    lo, hi = 0, len(completed) - 1
    if not completed or not await fails(hi):
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if await fails(mid):
            hi = mid
        else:
            lo = mid + 1
    # Within that task's commands, the first event whose presence makes the replay fail.
    culprit = completed[lo]
    for length in range(completed[lo] + 2, end_of_commands(lo) + 1):
        if await fails_with(length):
            culprit = length - 1
            break
    event = events[culprit]
    kind = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
    return f"event {event.event_id} ({kind}), a command of the workflow task completed at event " \
           f"{events[completed[lo]].event_id}"
