"""Archive incidents that closed before the archive existed, from the closed workflows Temporal still shows.

Each completed incident's start (the first event of its last run, decoded with the client's converter, so
encrypted payloads too) and its result give the same record the `archive_incident` activity would have
written; one already in the archive (same incident and run) is left alone, so running it twice adds nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy import select

from groupdesk.engine import visibility
from groupdesk.record.chain import append
from groupdesk.record.archive_record import build_record
from groupdesk.core.models import StartIncident
from groupdesk.storage import Database
from groupdesk.storage.schema import archive_records

COMPLETED = 'ExecutionStatus = "Completed"'


@dataclass
class Backfilled:
    added: list[str] = field(default_factory=list)
    present: int = 0  # already in the archive
    failed: list[str] = field(default_factory=list)  # "id: why", one line each


async def backfill(gateway, db: Database, key: bytes, dry_run: bool = False) -> Backfilled:
    """Every completed incident visible in Temporal that the archive lacks, oldest first, appended to the chain."""
    done = Backfilled()
    with db.read() as c:
        archived = {(r.incident_id, r.run_id) for r in c.execute(
            select(archive_records.c.incident_id, archive_records.c.run_id))}
    rows = await gateway.list(visibility.incidents(COMPLETED, running=False))
    for row in sorted(rows, key=lambda r: (r["started_at"] or "", r["id"])):
        if (row["id"], row["run_id"]) in archived:
            done.present += 1
            continue
        try:
            start, state = await _start_and_result(gateway, row["id"], row["run_id"])
        except Exception as exc:  # noqa: BLE001 - one unreadable incident is named, the others still go in
            done.failed.append(f"{row['id']}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        if not dry_run:
            await asyncio.to_thread(append, db, key, build_record(start, state, row["run_id"], key))
        done.added.append(row["id"])
    return done


async def _start_and_result(gateway, incident_id: str, run_id: str):
    """The run's start request (as its first event holds it) and its final state (the workflow's result)."""
    incident = gateway.incident(incident_id, run_id=run_id)
    history = await incident.history()
    payloads = history.events[0].workflow_execution_started_event_attributes.input.payloads
    (start,) = await gateway.client.data_converter.decode(list(payloads), [StartIncident])
    return start.model_copy(update={"carried": None}), await incident.result()
