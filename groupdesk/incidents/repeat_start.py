"""Starting an incident that may be a repeat complaint (the same complainant, account number or community within
90 days): link it to the earlier one with the reason, never refuse it when that one is resolved or closed
(the same hall, lead and day then get the next free id)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import structlog
from typing import Any, Awaitable, Callable

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from groupdesk.record.repeats import Earlier, archived, latest, outcome_text
from groupdesk.runtime.config import Settings
from groupdesk.core.models import StartIncident
from groupdesk.record.repeat_keys import search_values, start_keys
from groupdesk.storage import open_database
from groupdesk.engine.visibility import equals, incidents
from groupdesk.core import search_attributes as sa

log = structlog.get_logger("groupdesk.repeats")

SAME_DAY_MAX = 20  # ids -2 ... -20 for one lead at one hall on one day
RESOLVED_STAGES = ("follow_up", "closed")

Starter = Callable[[Client, Settings, StartIncident], Awaitable[WorkflowHandle]]
# The incident holding an id, as the gateway reaches it: `describe()` and `state()`.
IncidentOf = Callable[[str], Any]


async def start_or_repeat(client: Client, settings: Settings, start: StartIncident, starter: Starter,
                          incident_of: IncidentOf) -> WorkflowHandle:
    now = datetime.now(timezone.utc)
    keys = start_keys(settings.hash_key(), start)
    linked = None
    if not start.repeat_of:
        # the archive (a database read, off the event loop) and visibility are asked at once
        linked = latest(*await asyncio.gather(asyncio.to_thread(archived, open_database(settings), keys, now),
                                              _open(client, keys)))
    base = start.incident_id
    for n in range(1, SAME_DAY_MAX + 1):
        start.incident_id = base if n == 1 else f"{base}-{n}"
        _link(start, linked)
        try:
            return await starter(client, settings, start)
        except WorkflowAlreadyStartedError:
            try:
                taken = await _resolved(incident_of(start.incident_id))
            except (RPCError, TypeError, ValueError):  # cannot tell: refuse, as before repeats existed
                taken = None
            if taken is None:  # still being handled: a second click, not a second complaint
                raise
            linked = latest(linked, taken)
    raise WorkflowAlreadyStartedError(base, "GroupIncident")


def _link(start: StartIncident, earlier: Earlier | None) -> None:
    if earlier is not None:
        start.repeat_of, start.repeat_outcome = earlier.incident_id, earlier.outcome
        start.repeat_reasons = list(earlier.reasons)


def _matching(keys: dict[str, str]) -> str:
    """A running incident sharing the phone, the account number or the community."""
    values = search_values(keys)
    shared = [equals(sa.COMPLAINANT, keys["same_complainant"])] + [equals(sa.REPEAT_KEYS, v) for v in values]
    return incidents("(" + " OR ".join(shared) + ")")


async def _open(client: Client, keys: dict[str, str]) -> Earlier | None:
    """The most recent running incident of the same complainant, account or community, at any hall (none if
    visibility cannot answer: finding a repeat never stands in the way of opening an incident)."""
    found = None
    try:
        async for wf in client.list_workflows(_matching(keys), limit=20):
            if found is None or wf.start_time > found.start_time:
                found = wf
    except RPCError as exc:
        log.warning("repeat check: visibility did not answer; open incidents not consulted", error=exc.message)
        return None
    if found is None:
        return None
    attrs = found.typed_search_attributes
    stage = attrs.get(sa.STAGE) or ""
    theirs = set(attrs.get(sa.REPEAT_KEYS) or [])
    reasons = (["same_complainant"] if attrs.get(sa.COMPLAINANT) == keys["same_complainant"] else []) + \
        [f"same_{value.split(':', 1)[0]}" for value in search_values(keys) if value in theirs]
    return Earlier(found.id, found.start_time, "已办结,回访中" if stage in RESOLVED_STAGES else f"处置中({stage})",
                   tuple(reasons) or ("same_complainant",))


async def _resolved(incident) -> Earlier | None:
    """The incident holding this id if it is resolved (awaiting its follow-up) or ended; None if still handled."""
    incident_id = incident.id
    described = await incident.describe()
    stage = described.typed_search_attributes.get(sa.STAGE) or ""
    if described.status == WorkflowExecutionStatus.RUNNING and stage not in RESOLVED_STAGES:
        return None
    if described.status not in (WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.COMPLETED):
        return Earlier(incident_id, described.start_time, f"异常结束({described.status.name.lower()})")
    state = await incident.state()
    follow = state.follow_up
    record = {"resolution": state.resolution, "satisfaction": follow.score if follow else None,
              "follow_up": (follow.outcome if follow.outcome != "pending" else "pending") if follow else "none"}
    text = outcome_text(record) if state.status == "closed" else f"{state.resolution or '已办结'};回访中"
    return Earlier(incident_id, described.start_time, text)
