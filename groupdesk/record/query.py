"""Reading the archive: records of a period (by the local date they started), for export and reports."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from groupdesk.storage import Database
from groupdesk.storage.schema import archive_records

EXPORT_COLUMNS = ["seq", "incident_id", "hall_id", "playbook", "playbook_version", "drill", "started_at", "closed_at",
                  "warning_tier", "deadlines_missed", "escalations", "follow_up", "satisfaction", "repeat_of",
                  "path", "resolution", "complainant_key", "channel", "ticket_no", "row_hash"]


def parse_day(flag: str, raw: str) -> date:
    """A date typed on the command line, or ValueError naming the flag and the form."""
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(f"{flag}: {raw!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-23") from None


def period_problem(first: date, last: date, names: tuple[str, str] = ("--from", "--to")) -> str | None:
    """A period runs forward: its last day is not before its first. The line names the end by `names`."""
    if last < first:
        return f"{names[1]}: {last} is before {names[0]} {first}; give the first day, then the last"
    return None


def records(db: Database, start: date, end: date, hall: str | None = None) -> list[dict]:
    """Archived incidents that started between the two local dates (both included), oldest first (never a
    corrective action's row)."""
    t = archive_records
    query = select(t).where(t.c.started_on >= start.isoformat(), t.c.started_on <= end.isoformat(),
                            t.c.kind == "incident")
    if hall:
        query = query.where(t.c.hall_id == hall)
    with db.read() as c:
        rows = [dict(r) for r in c.execute(query.order_by(t.c.seq)).mappings()]
    out = []
    for row in rows:
        record = json.loads(row["record"])
        out.append({**{k: row[k] for k in EXPORT_COLUMNS if k in row},
                    "path": " > ".join(record.get("path", [])), "resolution": record.get("resolution", "")})
    return out


def by_ticket(db: Database, ticket_keys: list[str]) -> list[dict]:
    """Archived incidents with one of these work-order keys (groupdesk.record.repeat_keys.ticket_key), as
    `groupdesk list` shows a row: the latest run of each, newest first."""
    t = archive_records
    with db.read() as c:
        rows = c.execute(select(t.c.incident_id, t.c.run_id, t.c.hall_id, t.c.playbook, t.c.drill, t.c.started_at,
                                t.c.warning_tier, t.c.record, t.c.channel, t.c.ticket_no)
                         .where(t.c.ticket_key.in_(ticket_keys)).order_by(t.c.seq.desc())).all()
    found: dict[str, dict] = {}
    for row in rows:
        record = json.loads(row.record)
        found.setdefault(row.incident_id, {
            "id": row.incident_id, "run_id": row.run_id, "hall": row.hall_id, "playbook": row.playbook,
            "status": "closed", "stage": "closed", "warning_tier": row.warning_tier,
            "headcount": record.get("headcount"), "drill": bool(row.drill), "started_at": row.started_at,
            "execution": "completed", "archived": True, "channel": row.channel, "ticket_no": row.ticket_no})
    return list(found.values())
