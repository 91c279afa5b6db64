"""Connecting to Temporal, and what an incident looks like in its visibility rows (groupdesk.incidents.gateway does the rest)."""

from __future__ import annotations

from datetime import datetime

from temporalio.client import Client, WorkflowExecutionStatus
from pathlib import Path

from groupdesk.runtime.config import Settings
from groupdesk.runtime.keyed import incident_suffix
from groupdesk.engine.visibility import is_overdue, list_query  # noqa: F401 - list_query: the one place queries are built
from groupdesk.core.workcal import LOCAL_TZ
from groupdesk.core import search_attributes as sa


async def connect(settings: Settings, runtime=None) -> Client:
    from groupdesk.engine.codec import data_converter

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


RUNNING = WorkflowExecutionStatus.RUNNING


class IncidentUnavailable(LookupError):
    pass


def incident_row(wf, now: datetime) -> dict:
    """One incident as the board and `groupdesk list` show it at `now`, from its search attributes and Temporal's
    status; overdue when a step's deadline has passed by `now`.

    A closed incident is a completed workflow: it closes without a last upsert (README, "Versioning"), so what
    its attributes still say of steps, deadlines and approvals is what it was before its last task."""
    attrs = wf.typed_search_attributes
    closed = wf.status == WorkflowExecutionStatus.COMPLETED
    deadline = None if closed else attrs.get(sa.NEXT_DEADLINE)
    code = None if closed else attrs.get(sa.APPROVAL_KEY)
    return {
        "id": wf.id, "run_id": wf.run_id, "hall": attrs.get(sa.HALL), "playbook": attrs.get(sa.PLAYBOOK),
        "status": "closed" if closed else attrs.get(sa.STATUS), "stage": "closed" if closed else attrs.get(sa.STAGE),
        "current_steps": [] if closed else list(attrs.get(sa.CURRENT_STEPS) or []),
        "warning_tier": attrs.get(sa.WARNING_TIER), "headcount": attrs.get(sa.HEADCOUNT),
        "drill": attrs.get(sa.DRILL), "started_at": wf.start_time.isoformat() if wf.start_time else None,
        "next_deadline": deadline.isoformat() if deadline else None,
        "overdue": not closed and is_overdue(attrs.get(sa.OVERDUE), deadline, now),
        "approval_pending": bool(code and code != "-"),
        "failed_actions": attrs.get(sa.FAILED_ACTIONS) or 0,
        "repeat_of": attrs.get(sa.REPEAT_OF) or None,
        "sensitive_period": attrs.get(sa.SENSITIVE_PERIOD) or None,
        # running, completed, or how it died (terminated, failed, timed_out, canceled)
        "execution": wf.status.name.lower() if wf.status else "unknown",
    }
