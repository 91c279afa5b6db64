"""The durable outbox: every outbound SMS is a row keyed by its idempotency key.

The row is written before any provider is called, so a retried activity or a restarted
worker finds it and never stores or sends the same message twice.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from groupdesk.datafiles import private_file

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
    provider_id TEXT,
    error_code  TEXT,
    error       TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_incident ON messages (incident_id, created_at);
"""

# Once a message reached one of these, it is never sent again automatically.
DONE_STATUSES = ("sent", "delivered", "undelivered", "failed", "read")
# The provider may hold it: look before sending again.
UNCERTAIN_STATUSES = ("sending", "unknown")
# Delivery reports only ever move a message forward: a late "sent" never overwrites "delivered".
RANK = {"queued": 0, "accepted": 0, "scheduled": 0, "sending": 1, "unknown": 1, "sent": 2,
        "delivered": 3, "undelivered": 3, "failed": 3, "read": 4}


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
    provider_id: str | None = None
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
            "provider_id": self.provider_id,
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
        self._local = threading.local()
        private_file(self.path)  # 0600 in a 0700 dir: full SMS text and phones
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            columns = {row["name"] for row in db.execute("PRAGMA table_info(messages)")}
            if "provider_id" not in columns:  # an outbox from before provider ids
                db.execute("ALTER TABLE messages ADD COLUMN provider_id TEXT")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One connection per thread, kept open: opening one per statement cost a third of the worker's time."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=True)
            # WAL with synchronous=NORMAL survives a killed worker (what the outbox guards against);
            # only a power cut could lose the last marks, and a lost "sent" is reconciled, not resent.
            db.execute("PRAGMA synchronous=NORMAL")
            db.row_factory = sqlite3.Row
            self._local.db = db
        yield db

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

    def mark(self, key: str, status: str, error_code: str | None = None, error: str | None = None,
             provider_id: str | None = None, attempt: bool = False) -> None:
        """Record what the sending activity knows now (it owns the row until it is done)."""
        with self._connect() as db:
            db.execute(
                "UPDATE messages SET status = ?, error_code = ?, error = ?, provider_id = COALESCE(?, provider_id),"
                " attempts = attempts + ?, updated_at = ? WHERE key = ?",
                (status, error_code, error, provider_id, int(attempt), _now(), key),
            )

    def requeue(self, key: str, to_number: str, body: str) -> None:
        """An ops retry of a message refused for good: try again, to the number the directory has now."""
        with self._connect() as db:
            db.execute(
                "UPDATE messages SET status = 'queued', to_number = ?, body = ?, error_code = NULL, error = NULL,"
                " updated_at = ? WHERE key = ? AND status = 'failed'",
                (to_number, body, _now(), key),
            )

    def report(self, key: str, status: str, provider_id: str | None = None, error_code: str | None = None) -> bool:
        """Apply a delivery report; only a move forward changes the row. Return whether it did."""
        if status not in RANK:
            return False
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT status FROM messages WHERE key = ?", (key,)).fetchone()
            moved = row is not None and RANK[status] > RANK.get(row["status"], 0)
            if moved:
                db.execute(
                    "UPDATE messages SET status = ?, provider_id = COALESCE(?, provider_id),"
                    " error_code = COALESCE(?, error_code), updated_at = ? WHERE key = ?",
                    (status, provider_id, error_code, _now(), key),
                )
            elif row is not None and provider_id:
                db.execute("UPDATE messages SET provider_id = COALESCE(provider_id, ?) WHERE key = ?",
                           (provider_id, key))
            db.execute("COMMIT")
        return moved

    def get(self, key: str) -> OutboxRow | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM messages WHERE key = ?", (key,)).fetchone()
        return _row(row) if row else None

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
