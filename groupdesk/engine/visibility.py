"""Temporal visibility queries, built here only: every value is checked and quoted, never pasted.

Open means running: an incident whose workflow was terminated, failed or timed out keeps its
last `GroupdeskStatus = "open"` search attribute, so every "open" query also asks Temporal for
`ExecutionStatus = "Running"`.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from temporalio.common import SearchAttributeKey

from groupdesk.core import search_attributes as sa

WORKFLOW_TYPE = "GroupIncident"
RUNNING = 'ExecutionStatus = "Running"'
DEAD = ("Terminated", "Failed", "TimedOut", "Canceled")
_SAFE = re.compile(r"^[\w.:+@-]{1,128}\Z")  # ids, codes, hashes, step names: no quotes, no spaces


class QueryValueError(ValueError):
    """A filter value that cannot be part of a visibility query; the message names the field."""


def literal(value: str, field: str) -> str:
    """A keyword value as a quoted literal; anything that could end the quote is refused."""
    text = str(value)
    if not _SAFE.match(text):
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise QueryValueError(f"{field}: {shown!r} is not a valid value (letters, digits, '_', '-', '.' only)")
    return f'"{text}"'


def moment(at: datetime) -> str:
    """A datetime as a quoted literal (UTC, RFC 3339), for comparisons with datetime attributes."""
    if at.tzinfo is None:
        raise QueryValueError("a moment needs a time zone")
    return f'"{at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")}"'


def equals(key: SearchAttributeKey, value: str, field: str | None = None) -> str:
    return f"{key.name} = {literal(value, field or key.name)}"


def any_of(key: SearchAttributeKey, values: list[str], field: str | None = None) -> str:
    """The attribute (a keyword list: any of its values) equals one of `values`."""
    return "(" + " OR ".join(equals(key, value, field) for value in values) + ")"


def incidents(*clauses: str, running: bool = True) -> str:
    """GroupIncident executions matching every clause; running ones only unless told otherwise."""
    parts = [f'WorkflowType = "{WORKFLOW_TYPE}"']
    parts.append(RUNNING if running else 'ExecutionStatus != "ContinuedAsNew"')
    return " AND ".join([*parts, *clauses])


def list_query(hall: str | None = None, status: str | None = "open", tier: int | None = None,
               drill: bool | None = None, stage: str | None = None) -> str:
    """The board's and `groupdesk list`'s query: open (running) incidents unless status is None."""
    clauses = []
    if status:
        clauses.append(equals(sa.STATUS, status, "status"))
    if hall:
        clauses.append(equals(sa.HALL, hall, "hall"))
    if tier is not None:
        clauses.append(f"{sa.WARNING_TIER.name} = {int(tier)}")
    if drill is not None:
        clauses.append(f"{sa.DRILL.name} = {'true' if drill else 'false'}")
    if stage:
        clauses.append(equals(sa.CURRENT_STEPS, stage, "stage"))
    return incidents(*clauses, running=status == "open")


def overdue(now: datetime) -> str:
    """Incidents with a step past its deadline at `now`. This release's incidents publish the step's deadline and
    no flag (workflows/board.py); the previous release's published the flag and the next timer's time."""
    return f"({sa.OVERDUE.name} = true OR ({sa.OVERDUE.name} IS NULL AND {sa.NEXT_DEADLINE.name} <= {moment(now)}))"


def due_between(after: datetime, until: datetime) -> str:
    """Incidents whose next deadline falls after `after` and no later than `until`."""
    return f"{sa.NEXT_DEADLINE.name} > {moment(after)} AND {sa.NEXT_DEADLINE.name} <= {moment(until)}"


def is_overdue(flag: bool | None, deadline: datetime | None, now: datetime) -> bool:
    """`overdue(now)` for one incident's attributes: the previous release's flag, else its deadline against `now`."""
    if flag is not None:
        return flag
    return deadline is not None and deadline <= now


def open_with(key: SearchAttributeKey, value: str) -> str:
    """The open incident an SMS reply is about (its approval code or follow-up key)."""
    return incidents(equals(key, value), equals(sa.STATUS, "open"))


def with_failures(hall: str | None = None) -> str:
    """Open incidents with actions parked for ops."""
    clauses = [f"{sa.FAILED_ACTIONS.name} > 0", equals(sa.STATUS, "open")]
    if hall:
        clauses.append(equals(sa.HALL, hall, "hall"))
    return incidents(*clauses)


def dead(since: datetime | None = None, hall: str | None = None) -> str:
    """Incidents whose workflow ended abnormally (terminated, failed, timed out, cancelled)."""
    statuses = ", ".join(f'"{s}"' for s in DEAD)
    clauses = [f"ExecutionStatus IN ({statuses})"]
    if since is not None:
        clauses.append(f'CloseTime > "{since.isoformat()}"')
    if hall:
        clauses.append(equals(sa.HALL, hall, "hall"))
    return incidents(*clauses, running=False)
