"""Repeat complaints: the same complainant (keyed hash of the phone) within 90 days, closed or open."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from groupdesk.storage import Database
from groupdesk.storage.schema import archive_records

WINDOW = timedelta(days=90)


@dataclass
class Earlier:
    incident_id: str
    started_at: datetime
    outcome: str  # in words, for the hall lead's SMS


def archived(db: Database, complainant: str, now: datetime) -> Earlier | None:
    """The complainant's latest archived incident that started within the window."""
    t = archive_records
    since = (now - WINDOW).astimezone(timezone.utc).isoformat()
    with db.read() as c:
        row = c.execute(select(t.c.incident_id, t.c.started_at, t.c.record).where(
            t.c.complainant_key == complainant, t.c.started_at >= since).order_by(t.c.started_at.desc())
            .limit(1)).first()
    if row is None:
        return None
    record = json.loads(row.record)
    return Earlier(row.incident_id, datetime.fromisoformat(row.started_at), outcome_text(record))


def outcome_text(record: dict) -> str:
    """How an archived incident ended: its resolution and the follow-up."""
    follow = record.get("follow_up")
    if follow == "answered":
        said = f"满意度 {record.get('satisfaction')}/5"
    elif follow == "expired":
        said = "回访未答复"
    else:
        said = "未回访"
    return f"{record.get('resolution') or '已办结'};{said}"


def latest(*found: Earlier | None) -> Earlier | None:
    candidates = [e for e in found if e is not None]
    return max(candidates, key=lambda e: e.started_at) if candidates else None
