"""Frequent-outage lines (频繁停电) from the client side: the count at an outage incident's start (archive and open
incidents; drills never), the special study's corrective action at the 3rd outage, and `groupdesk lines`.

A running incident keeps its line as `feeder:<line>` in GroupdeskRepeatKeys (no keyword attribute of its own: SQL
visibility allows at most 10); the archive keeps it in the sealed record (`feeder`)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

from sqlalchemy import select
from temporalio.client import Client

from groupdesk.core import search_attributes as sa
from groupdesk.core.lines import KEY_PREFIX, WINDOW, count_at_start, outages, status_of
from groupdesk.core.models import StartIncident
from groupdesk.engine.visibility import equals, incidents
from groupdesk.storage import Database
from groupdesk.storage.schema import archive_records as t

STUDY_DUE = "30d"  # the special study and its corrective plan


def key_of(feeder: str) -> str:
    return KEY_PREFIX + feeder


def archived(db: Database, now: datetime, feeder: str | None = None) -> list[tuple[str, str, datetime]]:
    """(line, incident, started) of archived outage incidents with a line, within 12 months, drills left out."""
    since = (now - WINDOW).astimezone(timezone.utc).isoformat()
    query = select(t.c.incident_id, t.c.started_at, t.c.record).where(
        t.c.kind == "incident", t.c.drill == 0, t.c.category == "outage", t.c.started_at >= since)
    with db.read() as c:
        rows = c.execute(query.order_by(t.c.seq)).all()
    found = {}
    for r in rows:
        line = json.loads(r.record).get("feeder")
        if line and (feeder is None or line == feeder):
            found[r.incident_id] = (line, r.incident_id, datetime.fromisoformat(r.started_at))
    return list(found.values())


async def running(client: Client, feeder: str | None = None) -> list[tuple[str, str, datetime]]:
    """(line, incident, started) of running incidents (drills left out) on `feeder`, or on any line."""
    clauses = [f"{sa.DRILL.name} = false"]
    clauses.append(equals(sa.REPEAT_KEYS, key_of(feeder), "feeder") if feeder else f"{sa.REPEAT_KEYS.name} IS NOT NULL")
    found = []
    async for wf in client.list_workflows(incidents(*clauses), page_size=1000):
        for value in wf.typed_search_attributes.get(sa.REPEAT_KEYS) or []:
            if value.startswith(KEY_PREFIX) and wf.start_time is not None:
                found.append((value[len(KEY_PREFIX):], wf.id, wf.start_time))
    return found


async def mark_line(client: Client, db: Database, start: StartIncident, now: datetime) -> None:
    """Give an outage incident's start its line's count (12 months, this one included) and what it sets off."""
    feeder = start.registration.feeder
    if not feeder or start.drill:
        return
    found = await asyncio.gather(asyncio.to_thread(archived, db, now, feeder), running(client, feeder))
    earlier = {incident: at for rows in found for _, incident, at in rows if incident != start.incident_id}
    counted = count_at_start(list(earlier.values()), now)
    start.feeder_outages, start.feeder_alert = counted.outages, counted.alert


def line_rows(rows: list[tuple[str, str, datetime]], on_warning: bool = False) -> list[dict]:
    """`{feeder, outages_12m, status, incidents}` per line, most outages first."""
    by_line: dict[str, dict[str, datetime]] = {}
    for line, incident, at in rows:
        by_line.setdefault(line, {})[incident] = at
    out = []
    for line, seen in by_line.items():
        n = len(outages(list(seen.values())))
        out.append({"feeder": line, "outages_12m": n, "status": status_of(n),
                    "incidents": [i for i, _ in sorted(seen.items(), key=lambda kv: (kv[1], kv[0]))]})
    if on_warning:
        out = [r for r in out if r["status"] != "none"]
    return sorted(out, key=lambda r: (-r["outages_12m"], r["feeder"]))


class LinesGateway:
    """Mixed into the gateway (needs `client`, `settings`)."""

    async def lines(self, on_warning: bool = False, now: datetime | None = None) -> list[dict]:
        from groupdesk.storage import open_database

        now = now or datetime.now(timezone.utc)
        stored, live = await asyncio.gather(asyncio.to_thread(archived, open_database(self.settings), now),
                                            running(self.client))
        return line_rows(stored + [r for r in live if now - r[2] <= WINDOW], on_warning)

    async def open_line_study(self, start: StartIncident) -> str | None:
        """The 3rd outage on a line: a corrective action for a special study and plan, owned by the first
        grid_operations person of the hall (None, logged, when the directory names nobody)."""
        from groupdesk.people.directory import current_directory

        directory = current_directory(self.settings.directory)
        staff = directory.staff(start.hall_id, "grid_operations")
        if not staff:  # the directory names nobody: the line shows as `study` in `groupdesk lines` all the same
            return None
        feeder, n = start.registration.feeder, start.feeder_outages
        what = f"线路 {feeder} 12个月内第{n}次停电引发投诉:开展专项分析,制定整改方案并落实"
        return await self.open_corrective_for(
            incident_id=start.incident_id, hall_id=start.hall_id, hall_name=start.hall_name, drill=start.drill,
            time_scale=start.time_scale, person_involved=start.registration.person_involved,
            playbook=start.playbook, what=what, owner=staff[0].id, due=STUDY_DUE, made_by=start.started_by,
            source="line_study", feeder=feeder)
