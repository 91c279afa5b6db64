"""The durable outbox: every outbound SMS is a row keyed by its idempotency key.

The row is written before any provider is called, so a retried activity or a restarted
worker finds it and never stores or sends the same message twice.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    key         TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL,
    step        TEXT,
    purpose     TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    role        TEXT NOT NULL,
    to_number   TEXT NOT NULL,
    lang        TEXT NOT NULL,
    body        TEXT NOT NULL,
    drill       INTEGER NOT NULL DEFAULT 0,
    provider    TEXT NOT NULL,
    status      TEXT NOT NULL,
    error_code  TEXT,
    error       TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_incident ON messages (incident_id, created_at);
"""

DONE_STATUSES = ("sent", "delivered")


@dataclass(frozen=True)
class OutboxRow:
    key: str
    incident_id: str
    step: str | None
    purpose: str
    recipient: str
    role: str
    to_number: str
    lang: str
    body: str
    drill: bool
    provider: str
    status: str = "queued"
    error_code: str | None = None
    error: str | None = None
    attempts: int = 0
    created_at: str = ""
    updated_at: str = ""

    def as_json(self) -> dict:
        return {
            "key": self.key,
            "incident_id": self.incident_id,
            "step": self.step,
            "purpose": self.purpose,
            "recipient": self.recipient,
            "role": self.role,
            "to": self.to_number,
            "lang": self.lang,
            "body": self.body,
            "drill": self.drill,
            "provider": self.provider,
            "status": self.status,
            "error_code": self.error_code,
            "error": self.error,
            "attempts": self.attempts,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class Outbox:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            yield db
        finally:
            db.close()

    def claim(self, row: OutboxRow) -> tuple[OutboxRow, bool]:
        """Store the row unless its key exists; return the stored row and whether it was new."""
        now = _now()
        with self._connect() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO messages (key, incident_id, step, purpose, recipient, role, to_number, lang,"
                " body, drill, provider, status, attempts, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,'queued',0,?,?)",
                (row.key, row.incident_id, row.step, row.purpose, row.recipient, row.role, row.to_number, row.lang,
                 row.body, int(row.drill), row.provider, now, now),
            )
            created = cursor.rowcount == 1
            stored = db.execute("SELECT * FROM messages WHERE key = ?", (row.key,)).fetchone()
        return _row(stored), created

    def mark(self, key: str, status: str, error_code: str | None = None, error: str | None = None) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE messages SET status = ?, error_code = ?, error = ?, attempts = attempts + 1, updated_at = ?"
                " WHERE key = ?",
                (status, error_code, error, _now(), key),
            )

    def list(self, incident_id: str | None = None, limit: int | None = None) -> list[OutboxRow]:
        sql, args = "SELECT * FROM messages", []
        if incident_id:
            sql += " WHERE incident_id = ?"
            args.append(incident_id)
        sql += " ORDER BY created_at, rowid"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self._connect() as db:
            return [_row(r) for r in db.execute(sql, args).fetchall()]


def _row(r: sqlite3.Row) -> OutboxRow:
    data = dict(r)
    data["drill"] = bool(data["drill"])
    return OutboxRow(**data)
