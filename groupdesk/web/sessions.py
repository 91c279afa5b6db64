"""Server-side sign-in sessions: the cookie holds only a random id, so signing out ends it for good.

Each session remembers a stamp of the account's password hash; a changed password (a new
hash in GROUPDESK_ACCOUNTS) ends every session of that account. As with the throttle, the
storage is this file only.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Callable

from groupdesk.datafiles import private_file


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def account_stamp(password_hash: str) -> str:
    """Changes whenever the account's password does; reveals nothing of the hash."""
    return _digest("stamp:" + password_hash)[:32]


class SessionStore:
    def __init__(self, path: Path, lifetime: float = 12 * 3600, clock: Callable[[], float] = time.time):
        self.path, self.lifetime, self.clock = private_file(path), lifetime, clock
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS sign_in_sessions (id_hash TEXT PRIMARY KEY, person TEXT NOT NULL,"
                       " stamp TEXT NOT NULL, expires REAL NOT NULL)")

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def create(self, person: str, stamp: str) -> str:
        """A new session id for the cookie; only its hash is stored, so the table gives away no cookie."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        with self._db() as db:
            db.execute("DELETE FROM sign_in_sessions WHERE expires <= ?", (now,))
            db.execute("INSERT INTO sign_in_sessions VALUES (?, ?, ?, ?)",
                       (_digest(session_id), person, stamp, now + self.lifetime))
        return session_id

    def person(self, session_id: str, current_stamp: Callable[[str], str | None]) -> str | None:
        """Who holds this session, if it is still live and the account's password is unchanged."""
        if not session_id:
            return None
        with self._db() as db:
            row = db.execute("SELECT person, stamp, expires FROM sign_in_sessions WHERE id_hash = ?",
                             (_digest(session_id),)).fetchone()
        if row is None or row[2] <= self.clock() or current_stamp(row[0]) != row[1]:
            return None
        return row[0]

    def end(self, session_id: str) -> None:
        if session_id:
            with self._db() as db:
                db.execute("DELETE FROM sign_in_sessions WHERE id_hash = ?", (_digest(session_id),))
