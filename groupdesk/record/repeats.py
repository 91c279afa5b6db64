"""Repeat complaints: the same complainant (keyed hash of the phone), account number or community (keyed hashes)
within 90 days, closed or open."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import or_, select

from groupdesk.storage import Database
from groupdesk.storage.schema import archive_records

WINDOW = timedelta(days=90)


@dataclass
class Earlier:
    incident_id: str
    started_at: datetime
    outcome: str  # in words, for the hall lead's SMS
    reasons: tuple[str, ...] = ("same_complainant",)  # what it shares with the new start (core.repeats.REASONS)


MATCHED_BY = {"same_complainant": "complainant_key", "same_account": "account_key",
              "same_community": "community_key", "same_ticket": "ticket_key"}


def archived(db: Database, keys: dict[str, str], now: datetime) -> Earlier | None:
    """The latest archived incident within the window that shares the phone, the account number or the
    community (reason -> keyed hash, groupdesk.record.repeat_keys.match_keys), with every reason that record shares."""
    t = archive_records
    since = (now - WINDOW).astimezone(timezone.utc).isoformat()
    matches = [getattr(t.c, MATCHED_BY[reason]) == value for reason, value in keys.items()]
    with db.read() as c:
        row = c.execute(select(t.c.incident_id, t.c.started_at, t.c.record, t.c.complainant_key, t.c.account_key,
                               t.c.community_key, t.c.ticket_key).where(or_(*matches), t.c.started_at >= since, t.c.kind == "incident")
                        .order_by(t.c.started_at.desc()).limit(1)).first()
    if row is None:
        return None
    record = json.loads(row.record)
    shared = tuple(reason for reason, value in keys.items() if getattr(row, MATCHED_BY[reason]) == value)
    return Earlier(row.incident_id, datetime.fromisoformat(row.started_at), outcome_text(record), shared)


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
    """The most recent; the same incident found twice (archive and visibility) keeps every reason."""
    candidates = [e for e in found if e is not None]
    if not candidates:
        return None
    chosen = max(candidates, key=lambda e: e.started_at)
    reasons = {r for e in candidates if e.incident_id == chosen.incident_id for r in e.reasons}
    return Earlier(chosen.incident_id, chosen.started_at, chosen.outcome,
                   tuple(r for r in MATCHED_BY if r in reasons))
