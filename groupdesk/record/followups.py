"""What outlives a report's incidents, per hall: corrective actions (整改) and frequent-outage lines (频繁停电).

Corrective actions opened in the period: verified ones from their own archive rows (kind `corrective`, never counted
as incidents), those still running (open, done awaiting verification, overdue) from Temporal's visibility counts, one
count per hall and figure (None when Temporal does not answer). Lines: the outage incidents of the archive within
the 12 months up to the period's end (drills never), counted by the rule of groupdesk.core.lines over every hall (a
line crosses halls), listed where one of its incidents is in the halls read.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Awaitable, Callable, Collection

from sqlalchemy import select

from groupdesk.core.workcal import LOCAL_TZ
from groupdesk.storage import Database
from groupdesk.storage.schema import archive_records as r

ARCHIVED = ("correctives_verified", "correctives_verified_late")
RUNNING = ("correctives_open", "correctives_awaiting", "correctives_overdue")
LINES = ("lines_warning", "lines_study")


def _in_scope(query, hall: str | None, halls: Collection[str] | None):
    if hall:
        query = query.where(r.c.hall_id == hall)
    if halls is not None:
        query = query.where(r.c.hall_id.in_(sorted(halls)))
    return query


def archived_correctives(db: Database, start: date, end: date, hall: str | None = None, drills: bool = False,
                         halls: Collection[str] | None = None) -> dict[str, dict[str, int]]:
    """hall -> verified corrective actions opened in the period, and those of them verified after their due time
    had passed (the record's `corrective.missed_at`)."""
    query = select(r.c.hall_id, r.c.record).where(
        r.c.kind == "corrective", r.c.started_on >= start.isoformat(), r.c.started_on <= end.isoformat())
    if not drills:
        query = query.where(r.c.drill == 0)
    with db.read() as c:
        rows = c.execute(_in_scope(query, hall, halls)).all()
    found: dict[str, dict[str, int]] = {}
    for hall_id, record in rows:
        figures = found.setdefault(hall_id, dict.fromkeys(ARCHIVED, 0))
        figures["correctives_verified"] += 1
        if (json.loads(record).get("corrective") or {}).get("missed_at"):
            figures["correctives_verified_late"] += 1
    return found


def running_queries(first: date, last: date, hall: str, drills: bool) -> dict[str, str]:
    """The visibility query of each running figure of one hall: corrective actions started in the period."""
    from groupdesk.core import search_attributes as sa
    from groupdesk.core.corrective import WORKFLOW_TYPE
    from groupdesk.engine import visibility

    since = datetime.combine(first, time(), LOCAL_TZ)
    until = datetime.combine(last + timedelta(days=1), time(), LOCAL_TZ)
    base = [f'WorkflowType = "{WORKFLOW_TYPE}"', visibility.RUNNING, f"StartTime >= {visibility.moment(since)}",
            f"StartTime < {visibility.moment(until)}", visibility.equals(sa.HALL, hall, "hall")]
    if not drills:
        base.append(f"{sa.DRILL.name} = false")
    return {"correctives_open": " AND ".join([*base, visibility.equals(sa.STATUS, "open", "status")]),
            "correctives_awaiting": " AND ".join([*base, visibility.equals(sa.STATUS, "done", "status")]),
            "correctives_overdue": " AND ".join([*base, f"{sa.OVERDUE.name} = true"])}


async def running_correctives(count: Callable[[str], Awaitable[int]], first: date, last: date, halls: list[str],
                              drills: bool = False) -> dict[str, dict[str, int]]:
    """hall -> corrective actions opened in the period and still running: open, done awaiting the director's
    verification, overdue (open past their due time). `count` is the gateway's."""
    return {h: {name: await count(query) for name, query in running_queries(first, last, h, drills).items()}
            for h in sorted(halls)}


def line_rows(db: Database, end: date, hall: str | None = None, halls: Collection[str] | None = None,
              now: datetime | None = None) -> list[dict[str, Any]]:
    """The lines on warning or under special study as of the period's end (or now, if sooner), with an incident in
    the halls read: {feeder, outages_12m, status, halls, incidents (those of the halls read)}, most outages first."""
    from groupdesk.core.lines import WINDOW, outages, status_of

    until = datetime.combine(end + timedelta(days=1), time(), LOCAL_TZ)
    until = min(until, now or datetime.now(timezone.utc))
    since = (until - WINDOW).astimezone(timezone.utc).isoformat()
    query = select(r.c.incident_id, r.c.hall_id, r.c.started_at, r.c.record).where(
        r.c.kind == "incident", r.c.drill == 0, r.c.category == "outage", r.c.started_at >= since,
        r.c.started_at < until.astimezone(timezone.utc).isoformat())
    with db.read() as c:
        rows = c.execute(query.order_by(r.c.seq)).all()
    lines: dict[str, dict[str, tuple[str, datetime]]] = {}
    for incident_id, hall_id, started_at, record in rows:
        if feeder := json.loads(record).get("feeder"):
            lines.setdefault(feeder, {})[incident_id] = (hall_id, datetime.fromisoformat(started_at))
    scope = {hall} if hall else (set(halls) if halls is not None else None)
    found = []
    for feeder, seen in lines.items():
        n = len(outages([at for _, at in seen.values()]))
        mine = sorted((at, i, h) for i, (h, at) in seen.items() if scope is None or h in scope)
        if status_of(n) != "none" and mine:
            found.append({"feeder": feeder, "outages_12m": n, "status": status_of(n),
                          "halls": sorted({h for _, _, h in mine}), "incidents": [i for _, i, _ in mine]})
    return sorted(found, key=lambda x: (-x["outages_12m"], x["feeder"]))


def lines_figures(lines: list[dict[str, Any]], halls: Collection[str]) -> dict[str, int]:
    """How many of the lines touch these halls, on warning and under study (a line once, however many halls)."""
    touching = [x for x in lines if set(x["halls"]) & set(halls)]
    return {"lines_warning": sum(1 for x in touching if x["status"] == "warning"),
            "lines_study": sum(1 for x in touching if x["status"] == "study")}


def correctives_section(archived: dict[str, dict[str, int]], running: dict[str, dict[str, int]] | None,
                        halls: Collection[str]) -> dict[str, int | None]:
    """The report's `correctives`: the archived figures summed over the halls, the running ones too (None when
    Temporal did not answer)."""
    out: dict[str, int | None] = {name: sum(archived.get(h, {}).get(name, 0) for h in halls) for name in ARCHIVED}
    for name in RUNNING:
        out[name] = None if running is None else sum(running.get(h, {}).get(name, 0) for h in halls)
    return out


def add_running(report: dict[str, Any], running: dict[str, dict[str, int]] | None, halls_of) -> None:
    """Fill the running corrective-action figures into the report and each roll-up row (`halls_of(row)`: the halls
    a row counts); None stays where Temporal did not answer."""
    counted = report.get("correctives")
    if counted is None:
        return
    for name in RUNNING:
        counted[name] = None if running is None else sum(v.get(name, 0) for v in running.values())
    for row in report.get("rollup") or []:
        for name in RUNNING:
            row[name] = None if running is None else sum(running.get(h, {}).get(name, 0) for h in halls_of(row))
