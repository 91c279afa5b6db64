"""Talking to Temporal: one module used by the CLI (and later the console)."""

from __future__ import annotations

from datetime import datetime

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from pathlib import Path

from groupdesk.config import Settings
from groupdesk.archive.record import complainant_key
from groupdesk.keyed import follow_up_key, incident_suffix
from groupdesk.models import StartIncident
from groupdesk.visibility import list_query  # noqa: F401 - the one place queries are built
from groupdesk.workcal import LOCAL_TZ
from workflows import search_attributes as sa


async def connect(settings: Settings, runtime=None) -> Client:
    from groupdesk.codec import data_converter

    return await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace, data_converter=data_converter(settings),
        runtime=runtime, **connection_options(settings),
    )


def connection_options(settings: Settings) -> dict:
    """TLS (mTLS client certificate) and API key for a cluster or Temporal Cloud."""
    from temporalio.service import TLSConfig

    options: dict = {}
    if settings.temporal_tls_cert or settings.temporal_tls_ca or settings.temporal_api_key:
        def read(path):
            return Path(path).read_bytes() if path else None

        options["tls"] = TLSConfig(server_root_ca_cert=read(settings.temporal_tls_ca),
                                   client_cert=read(settings.temporal_tls_cert),
                                   client_private_key=read(settings.temporal_tls_key))
    if settings.temporal_api_key:
        options["api_key"] = settings.temporal_api_key
    return options


async def ensure_search_attributes(client: Client) -> list[str]:
    """Register groupdesk's search attributes on a cluster that lacks them; return those added."""
    from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest

    known = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace))
    missing = {name: kind for name, kind in sa.indexed_types().items() if name not in known.custom_attributes}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing))
    return sorted(missing)


def incident_id_for(hall_id: str, lead_phone: str, now: datetime, key: bytes) -> str:
    """The same hall, lead complainant and day give the same id, so a repeated start cannot open a twin;
    its suffix is keyed (settings.hash_key()), so the id says nothing about the phone."""
    day = now.astimezone(LOCAL_TZ)
    return f"{hall_id}-{day:%Y%m%d}-{incident_suffix(key, hall_id, lead_phone, day)}"


async def start_incident(client: Client, settings: Settings, start: StartIncident) -> WorkflowHandle:
    """Start the incident; a repeat complaint is linked to the earlier one and, where the same hall, lead
    and day already had an incident that is resolved or closed, given the next free id (`-2`, `-3`...).

    `start.incident_id`, `start.repeat_of` and `start.repeat_outcome` are set to what was started.
    An incident of the same lead at the same hall and day still being handled refuses the start
    (WorkflowAlreadyStartedError), as before: that is a second click, not a second complaint.
    """
    from groupdesk.repeat_start import start_or_repeat

    return await start_or_repeat(client, settings, start, _start_workflow)


async def _start_workflow(client: Client, settings: Settings, start: StartIncident) -> WorkflowHandle:
    from workflows.group_incident import GroupIncidentWorkflow

    if not start.follow_up_key:  # keyed here: the hash key never enters the workflow
        start = start.model_copy(update={"follow_up_key": follow_up_key(settings.hash_key(), start.lead.phone)})

    attributes = TypedSearchAttributes([
        SearchAttributePair(sa.STATUS, "open"),
        SearchAttributePair(sa.STAGE, "+".join(start.playbook.start)),
        SearchAttributePair(sa.CURRENT_STEPS, list(start.playbook.start)),
        SearchAttributePair(sa.WARNING_TIER, 0),
        SearchAttributePair(sa.HALL, start.hall_id),
        SearchAttributePair(sa.PLAYBOOK, start.playbook.id),
        SearchAttributePair(sa.HEADCOUNT, start.headcount),
        SearchAttributePair(sa.DRILL, start.drill),
        SearchAttributePair(sa.COMPLAINANT, complainant_key(settings.hash_key(), start.lead.phone)),
    ] + ([SearchAttributePair(sa.REPEAT_OF, start.repeat_of)] if start.repeat_of else []))
    return await client.start_workflow(
        GroupIncidentWorkflow.run, start, id=start.incident_id, task_queue=settings.task_queue,
        search_attributes=attributes,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )


RUNNING = WorkflowExecutionStatus.RUNNING


class IncidentUnavailable(LookupError):
    pass


def incident_row(wf) -> dict:
    """One incident as the board and `groupdesk list` show it, from its search attributes alone."""
    attrs = wf.typed_search_attributes
    deadline = attrs.get(sa.NEXT_DEADLINE)
    code = attrs.get(sa.APPROVAL_CODE)
    return {
        "id": wf.id, "hall": attrs.get(sa.HALL), "playbook": attrs.get(sa.PLAYBOOK),
        "status": attrs.get(sa.STATUS), "stage": attrs.get(sa.STAGE),
        "current_steps": list(attrs.get(sa.CURRENT_STEPS) or []),
        "warning_tier": attrs.get(sa.WARNING_TIER), "headcount": attrs.get(sa.HEADCOUNT),
        "drill": attrs.get(sa.DRILL), "started_at": wf.start_time.isoformat() if wf.start_time else None,
        "next_deadline": deadline.isoformat() if deadline else None,
        "overdue": bool(attrs.get(sa.OVERDUE)),
        "approval_pending": bool(code and code != "-"),
        "failed_actions": attrs.get(sa.FAILED_ACTIONS) or 0,
        "repeat_of": attrs.get(sa.REPEAT_OF) or None,
        # running, completed, or how it died (terminated, failed, timed_out, canceled)
        "execution": wf.status.name.lower() if wf.status else "unknown",
    }


async def list_incidents(client: Client, query: str, limit: int | None = None) -> list[dict]:
    rows = []
    async for wf in client.list_workflows(query, limit=limit, page_size=1000):
        rows.append(incident_row(wf))
    return rows


async def incident_state(client: Client, incident_id: str):
    """The incident's state: queried while open, the workflow's result once closed."""
    from groupdesk.models import IncidentState
    from workflows.group_incident import GroupIncidentWorkflow

    handle = client.get_workflow_handle(incident_id, result_type=IncidentState)
    described = await handle.describe()
    if described.status == WorkflowExecutionStatus.COMPLETED:
        return await handle.result()
    if described.status != WorkflowExecutionStatus.RUNNING:
        raise IncidentUnavailable(f"incident {incident_id} ended abnormally ({described.status.name});"
                                  " ask ops to look at its history")
    return await handle.query(GroupIncidentWorkflow.state)
