"""Starting an incident's workflow: its first search attributes, its follow-up key, a repeat complaint's next id."""

from __future__ import annotations

from datetime import datetime, timezone

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from groupdesk.core.models import IncidentState, StartIncident
from groupdesk.incidents.gateway.handles import Incident, incident_workflow
from groupdesk.incidents.registration import mark_start
from groupdesk.incidents.repeat_start import start_or_repeat
from groupdesk.incidents.start_attributes import start_attributes
from groupdesk.runtime.config import Settings
from groupdesk.runtime.keyed import follow_up_key


async def start_incident(client: Client, settings: Settings, start: StartIncident) -> WorkflowHandle:
    """Start the incident; a repeat complaint is linked to the earlier one and, where the same hall, lead
    and day already had an incident that is resolved or closed, given the next free id (`-2`, `-3`...).

    `start.incident_id`, `start.repeat_of` and `start.repeat_outcome` are set to what was started. An incident of
    the same lead, hall and day still being handled refuses the start (WorkflowAlreadyStartedError): a second click.
    """
    from groupdesk.incidents.lines import mark_line
    from groupdesk.storage import open_database

    now = datetime.now(timezone.utc)
    mark_start(settings, start, now)
    await mark_line(client, open_database(settings), start, now)  # 频繁停电: the line's outages in 12 months
    return await start_or_repeat(client, settings, start, _start_workflow,
                                 lambda incident_id: Incident(client.get_workflow_handle(incident_id, result_type=IncidentState)))


async def _start_workflow(client: Client, settings: Settings, start: StartIncident) -> WorkflowHandle:
    """Start the incident's workflow with its first search attributes; a twin id is refused by Temporal."""
    if not start.follow_up_key:  # keyed here: the hash key never enters the workflow
        start = start.model_copy(update={"follow_up_key": follow_up_key(settings.hash_key(), start.lead.phone)})
    attributes = start_attributes(settings, start)
    return await client.start_workflow(
        incident_workflow().run, start, id=start.incident_id, task_queue=settings.task_queue,
        search_attributes=attributes,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        # Eager: when this process runs a worker on the queue with this client (`groupdesk dev`, tests), the
        # first workflow task comes back with the start and runs here at once; otherwise a normal start.
        request_eager_start=True,
    )
