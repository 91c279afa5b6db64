"""Open incidents of a report's period, counted by Temporal's visibility (CountWorkflowExecutions): one count
per hall, never a query of each workflow. The archive holds only closed incidents; this is the rest."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from typing import Awaitable, Callable

from groupdesk.engine import visibility
from groupdesk.core import search_attributes as sa
from groupdesk.core.workcal import LOCAL_TZ


def period_query(first: date, last: date, hall: str | None = None, drills: bool = False) -> str:
    """Running incidents whose workflow started on the local dates first..last (a run continued as new counts
    by the day it continued)."""
    since = datetime.combine(first, time(), LOCAL_TZ)
    until = datetime.combine(last + timedelta(days=1), time(), LOCAL_TZ)
    clauses = [f"StartTime >= {visibility.moment(since)}", f"StartTime < {visibility.moment(until)}"]
    if hall:
        clauses.append(visibility.equals(sa.HALL, hall, "hall"))
    if not drills:
        clauses.append(f"{sa.DRILL.name} = false")
    return visibility.incidents(*clauses)


async def open_incidents(count: Callable[[str], Awaitable[int]], first: date, last: date, halls: list[str],
                         hall: str | None = None, drills: bool = False) -> dict:
    """{"incidents": n, "by_hall": [{"hall_id", "incidents"}]} for the halls asked (or `hall` alone);
    `count` is the gateway's (Gateway.count: every count of incidents goes through it)."""
    chosen = [hall] if hall else halls
    by_hall = [{"hall_id": h, "incidents": await count(period_query(first, last, h, drills))} for h in sorted(chosen)]
    return {"incidents": sum(row["incidents"] for row in by_hall), "by_hall": by_hall}
