"""Approval codes: made here (never in workflow code), known only by their keyed hash, guessed at most 5 times.

The code itself lives only in the director's SMS (and the outbox row that sends it). This
store keeps, per approval request, a random salt from which the code is derived again
under the hash key (so a retried send renders the same code), the code's keyed hash (unique
among open codes, so a reply finds exactly one incident), and wrong tries per sender.
One small interface, so the store can move to another database with the outbox.
"""

from __future__ import annotations

import secrets
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

from groupdesk.datafiles import private_file
from groupdesk.keyed import code_key, keyed, sender_key

WRONG_LIMIT = 5  # wrong codes from one phone ...
WRONG_WINDOW = timedelta(hours=1)  # ... within this long lock it ...
LOCK_FOR = timedelta(hours=1)  # ... for this long
STALE_AFTER = timedelta(days=90)  # an open code this old is retired: its value may be issued again

SCHEMA = """
CREATE TABLE IF NOT EXISTS issued_codes (
    request_key TEXT PRIMARY KEY,   -- the approval request's idempotency key
    incident_id TEXT NOT NULL,
    hall_id     TEXT NOT NULL,      -- whose director may use it: known even after the incident is gone
    salt        TEXT NOT NULL,
    code_key    TEXT NOT NULL,      -- HMAC of the code
    status      TEXT NOT NULL,      -- open, used, expired
    issued_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS issued_codes_open ON issued_codes (code_key) WHERE status = 'open';
CREATE INDEX IF NOT EXISTS issued_codes_by_key ON issued_codes (code_key, issued_at);
CREATE TABLE IF NOT EXISTS wrong_tries (sender TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS wrong_tries_sender ON wrong_tries (sender, at);
CREATE TABLE IF NOT EXISTS locks (sender TEXT PRIMARY KEY, until TEXT NOT NULL);
"""


@dataclass(frozen=True)
class IssuedCode:
    request_key: str
    incident_id: str
    hall_id: str
    code_key: str
    status: str


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc)


class ApprovalCodes:
    def __init__(self, path: Path, key: bytes):
        self.path = Path(path)
        self.key = key
        private_file(self.path)  # 0600, like every data file
        with self._connect() as db:
            db.executescript(SCHEMA)

    @classmethod
    def for_settings(cls, settings) -> "ApprovalCodes":
        return cls(settings.data_dir / "approval_codes.sqlite3", settings.hash_key())

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    def _code(self, request_key: str, salt: str) -> str:
        return str(100000 + int(keyed(self.key, "approval-code-digits", f"{request_key}|{salt}", 16), 16) % 900000)

    # ---- codes --------------------------------------------------------------------------

    def issue(self, request_key: str, incident_id: str, hall_id: str,
              now: datetime | None = None) -> tuple[str, str]:
        """The code for this approval request and its keyed hash; the same again for a retried send."""
        at = _now(now)
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            # A newer request of the same incident supersedes its older codes; very old ones retire.
            db.execute("UPDATE issued_codes SET status = 'expired' WHERE status = 'open' AND request_key != ?"
                       " AND (incident_id = ? OR issued_at < ?)", (request_key, incident_id,
                                                                  (at - STALE_AFTER).isoformat()))
            row = db.execute("SELECT salt, status FROM issued_codes WHERE request_key = ?", (request_key,)).fetchone()
            if row:
                code = self._code(request_key, row[0])
                if row[1] != "open":  # asked for again (an incident reset to before it): it waits again
                    try:
                        db.execute("UPDATE issued_codes SET status = 'open' WHERE request_key = ?", (request_key,))
                    except sqlite3.IntegrityError:
                        pass  # its value is open elsewhere now: it stays closed, the console still decides
                db.execute("COMMIT")
                return code, code_key(self.key, code)
            while True:
                salt = secrets.token_hex(16)
                code = self._code(request_key, salt)
                hashed = code_key(self.key, code)
                try:
                    db.execute("INSERT INTO issued_codes VALUES (?, ?, ?, ?, ?, 'open', ?)",
                               (request_key, incident_id, hall_id, salt, hashed, at.isoformat()))
                    break
                except sqlite3.IntegrityError:  # that code is open elsewhere: draw another
                    continue
            db.execute("COMMIT")
            return code, hashed

    def find(self, code: str) -> IssuedCode | None:
        """The open approval this code belongs to, else the latest that it belonged to, else None."""
        with self._connect() as db:
            row = db.execute(
                "SELECT request_key, incident_id, hall_id, code_key, status FROM issued_codes WHERE code_key = ?"
                " ORDER BY status = 'open' DESC, issued_at DESC LIMIT 1", (code_key(self.key, code),)).fetchone()
        return IssuedCode(*row) if row else None

    def close(self, request_key: str, status: str) -> None:
        """The code was used (or found expired): it never decides anything again."""
        with self._connect() as db:
            db.execute("UPDATE issued_codes SET status = ? WHERE request_key = ? AND status = 'open'", (status, request_key))

    # ---- wrong tries --------------------------------------------------------------------

    def locked_until(self, phone: str, now: datetime | None = None) -> datetime | None:
        with self._connect() as db:
            row = db.execute("SELECT until FROM locks WHERE sender = ? AND until > ?",
                             (sender_key(self.key, phone), _now(now).isoformat())).fetchone()
        return datetime.fromisoformat(row[0]) if row else None

    def wrong(self, phone: str, now: datetime | None = None) -> datetime | None:
        """Count a wrong code from this phone; the time it is locked until if this try locked it."""
        at, sender = _now(now), sender_key(self.key, phone)
        with self._connect() as db:
            db.execute("DELETE FROM wrong_tries WHERE at <= ?", ((at - WRONG_WINDOW).isoformat(),))
            db.execute("INSERT INTO wrong_tries VALUES (?, ?)", (sender, at.isoformat()))
            (count,) = db.execute("SELECT COUNT(*) FROM wrong_tries WHERE sender = ?", (sender,)).fetchone()
            if count < WRONG_LIMIT:
                return None
            until = at + LOCK_FOR
            db.execute("INSERT OR REPLACE INTO locks VALUES (?, ?)", (sender, until.isoformat()))
            db.execute("DELETE FROM wrong_tries WHERE sender = ?", (sender,))
            return until
