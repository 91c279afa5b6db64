"""Server-side sign-in sessions: the cookie holds only a random id, so signing out ends it for good.

Each session remembers a stamp of the account's password hash; a changed password (a new
hash in GROUPDESK_ACCOUNTS) ends every session of that account. Sessions live in groupdesk's
database, so any console replica honours them and a sign-out ends them everywhere.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Callable

from sqlalchemy import delete, insert, select

from groupdesk.storage import Database, open_database
from groupdesk.storage.schema import sign_in_sessions as sessions


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def account_stamp(password_hash: str) -> str:
    """Changes whenever the account's password does; reveals nothing of the hash."""
    return _digest("stamp:" + password_hash)[:32]


def wecom_stamp(userid: str) -> str:
    """For someone signed in through WeCom without a password: changes when their wecom_userid does."""
    return _digest("wecom:" + userid.lower())[:32]


class SessionStore:
    def __init__(self, target, lifetime: float = 12 * 3600, clock: Callable[[], float] = time.time):
        """`target`: a Database, settings, a database URL, or the path of a SQLite file."""
        self.db: Database = open_database(target)
        self.lifetime, self.clock = lifetime, clock

    def create(self, person: str, stamp: str) -> str:
        """A new session id for the cookie; only its hash is stored, so the table gives away no cookie."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        with self.db.write() as c:
            c.execute(delete(sessions).where(sessions.c.expires <= now))
            c.execute(insert(sessions).values(id_hash=_digest(session_id), person=person, stamp=stamp,
                                              expires=now + self.lifetime))
        return session_id

    def person(self, session_id: str, current_stamp: Callable[[str], str | None]) -> str | None:
        """Who holds this session, if it is still live and the account's password is unchanged."""
        if not session_id:
            return None
        with self.db.read() as c:
            row = c.execute(select(sessions.c.person, sessions.c.stamp, sessions.c.expires)
                            .where(sessions.c.id_hash == _digest(session_id))).first()
        if row is None or row[2] <= self.clock() or current_stamp(row[0]) != row[1]:
            return None
        return row[0]

    def end(self, session_id: str) -> None:
        if session_id:
            with self.db.write() as c:
                c.execute(delete(sessions).where(sessions.c.id_hash == _digest(session_id)))

