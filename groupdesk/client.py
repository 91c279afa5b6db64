"""Talking to Temporal: one module used by the CLI (and later the console)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter

from groupdesk.config import Settings
from groupdesk.models import StartIncident
from groupdesk.workcal import LOCAL_TZ
from workflows import search_attributes as sa


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace, data_converter=pydantic_data_converter,
    )


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


def incident_id_for(hall_id: str, lead_phone: str, now: datetime) -> str:
    """The same hall, lead complainant and day give the same id, so a repeated start cannot open a twin."""
    digest = hashlib.sha256(lead_phone.encode()).hexdigest()[:6]
    return f"{hall_id}-{now.astimezone(LOCAL_TZ):%Y%m%d}-{digest}"


async def start_incident(client: Client, settings: Settings, start: StartIncident) -> WorkflowHandle:
    from workflows.group_incident import GroupIncidentWorkflow

    attributes = TypedSearchAttributes([
        SearchAttributePair(sa.STATUS, "open"),
        SearchAttributePair(sa.STAGE, "+".join(start.playbook.start)),
        SearchAttributePair(sa.CURRENT_STEPS, list(start.playbook.start)),
        SearchAttributePair(sa.WARNING_TIER, 0),
        SearchAttributePair(sa.HALL, start.hall_id),
        SearchAttributePair(sa.PLAYBOOK, start.playbook.id),
        SearchAttributePair(sa.HEADCOUNT, start.headcount),
        SearchAttributePair(sa.DRILL, start.drill),
    ])
    return await client.start_workflow(
        GroupIncidentWorkflow.run, start, id=start.incident_id, task_queue=settings.task_queue,
        search_attributes=attributes,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )


def list_query(hall: str | None = None, status: str | None = "open", tier: int | None = None,
               drill: bool | None = None) -> str:
    clauses = ['WorkflowType = "GroupIncident"']
    if status:
        clauses.append(f'{sa.STATUS.name} = "{status}"')
    if hall:
        clauses.append(f'{sa.HALL.name} = "{hall}"')
    if tier is not None:
        clauses.append(f"{sa.WARNING_TIER.name} = {int(tier)}")
    if drill is not None:
        clauses.append(f"{sa.DRILL.name} = {'true' if drill else 'false'}")
    return " AND ".join(clauses)


RUNNING = WorkflowExecutionStatus.RUNNING
