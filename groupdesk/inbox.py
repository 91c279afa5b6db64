"""Inbound SMS already handled, by Twilio MessageSid: a redelivered webhook is answered, not redone."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from groupdesk.datafiles import private_file

SCHEMA = """
CREATE TABLE IF NOT EXISTS inbound (
    message_sid TEXT PRIMARY KEY,
    from_masked TEXT NOT NULL,
    reply       TEXT,
    received_at TEXT NOT NULL
);
"""


class Inbox:
    def __init__(self, path: Path):
        self.path = Path(path)
        private_file(self.path)  # 0600 in a 0700 dir: full SMS text and phones
        with self._connect() as db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def claim(self, message_sid: str, from_masked: str) -> bool:
        """True for the first delivery of this MessageSid, False for a redelivery."""
        with self._connect() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO inbound (message_sid, from_masked, received_at) VALUES (?, ?, ?)",
                (message_sid, from_masked, datetime.now(timezone.utc).isoformat()),
            )
            return cursor.rowcount == 1

    def answer(self, message_sid: str, reply: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE inbound SET reply = ? WHERE message_sid = ?", (reply, message_sid))

    def reply_for(self, message_sid: str) -> str:
        with self._connect() as db:
            row = db.execute("SELECT reply FROM inbound WHERE message_sid = ?", (message_sid,)).fetchone()
        return (row[0] if row else None) or ""
