"""Starting a hand-over's child incident from the workflow: its playbook loaded, the child workflow started.

The playbook is loaded by an activity; the child runs on when this incident closes, and a parent that waits
reports the child's result to its machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ChildWorkflowError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from groupdesk.core import activities as declared, search_attributes as sa
    from groupdesk.core.links import ChildStart
    from groupdesk.core.models import IncidentState, StartIncident
    from workflows.machine.children import result_of
    from workflows.machine.incident import IncidentMachine
    from workflows.machine.record import StartChild

LOAD_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=5)
# Replaced at the child's start, or published by the child itself: what the board shows of the child is its own.
OWN = frozenset({sa.STATUS.name, sa.STAGE.name, sa.CURRENT_STEPS.name, sa.WARNING_TIER.name, sa.PLAYBOOK.name,
       sa.REPEAT_OF.name, sa.APPROVAL_KEY.name, sa.FOLLOW_UP_KEY.name, sa.FAILED_ACTIONS.name,
       sa.NEXT_DEADLINE.name, sa.OVERDUE.name, sa.ENGINE.name})


def child_attributes(start: StartIncident) -> TypedSearchAttributes:
    """The parent's hall, headcount, drill and complainant hash; the child's own status and steps."""
    kept = [pair for pair in workflow.info().typed_search_attributes if pair.key.name not in OWN]
    return TypedSearchAttributes(kept + [
        SearchAttributePair(sa.STATUS, "open"),
        SearchAttributePair(sa.STAGE, "+".join(start.playbook.start)),
        SearchAttributePair(sa.CURRENT_STEPS, list(start.playbook.start)),
        SearchAttributePair(sa.WARNING_TIER, 0),
        SearchAttributePair(sa.PLAYBOOK, start.playbook.id),
    ])


async def run_child(machine: IncidentMachine, effect: StartChild, wake: Callable[[], None],
                    keep: Callable[[asyncio.Task], None]) -> None:
    """Start the child and tell the machine; `keep` holds the task that awaits a child the parent waits for."""
    try:
        playbook = await workflow.execute_activity(
            declared.load_playbook_snapshot, ChildStart(playbook=effect.spec.playbook),
            start_to_close_timeout=timedelta(seconds=30), retry_policy=LOAD_RETRY)
        start = machine.child_start(effect, playbook)
        handle = await workflow.start_child_workflow(
            "GroupIncident", start, id=effect.child_id, task_queue=workflow.info().task_queue,
            result_type=IncidentState, search_attributes=child_attributes(start),
            # the child is the complaint's next stage: it runs on whether this incident closes or not
            parent_close_policy=ParentClosePolicy.ABANDON)
    except (ActivityError, ChildWorkflowError, WorkflowAlreadyStartedError) as err:
        machine.child_failed(effect.child_id, str(getattr(err, "cause", None) or err), workflow.now())
        wake()
        return
    machine.child_started(effect.child_id, workflow.now())
    wake()
    if effect.spec.parent == "wait":
        # Awaited apart from the messages in flight: those must not look busy (and hold back the board's
        # search attributes) for as long as the child runs.
        keep(asyncio.create_task(await_result(machine, effect.child_id, handle, wake)))


async def await_result(machine: IncidentMachine, child_id: str, handle, wake: Callable[[], None]) -> None:
    """The child's result, recorded by the parent that waits for it."""
    try:
        final = await handle
    except ChildWorkflowError as err:
        machine.child_failed(child_id, str(err.cause or err), workflow.now())
    else:
        machine.child_finished(result_of(final), workflow.now())
    wake()
