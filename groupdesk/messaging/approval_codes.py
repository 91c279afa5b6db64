"""Approval codes: made here (never in workflow code), known only by their keyed hash, guessed at most 5 times.

The code itself lives only in the director's SMS (and the outbox row that sends it). This
store keeps, per approval request, a random salt from which the code is derived again
under the hash key (so a retried send renders the same code), the code's keyed hash (unique
among open codes, so a reply finds exactly one incident), and wrong tries per sender.
It lives in groupdesk's database, so the console on one host finds a code a worker issued on another.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from groupdesk.runtime.keyed import code_key, keyed, sender_key
from groupdesk.storage import Database, open_database
from groupdesk.storage.dialect import insert_new
from groupdesk.storage.schema import approval_codes as codes, approval_locks as locks, approval_wrong_tries as tries

WRONG_LIMIT = 5  # wrong codes from one phone ...
WRONG_WINDOW = timedelta(hours=1)  # ... within this long lock it ...
LOCK_FOR = timedelta(hours=1)  # ... for this long
STALE_AFTER = timedelta(days=90)  # an open code this old is retired: its value may be issued again

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
    def __init__(self, target, key: bytes):
        """`target`: a Database, settings, a database URL, or the path of a SQLite file."""
        self.db: Database = open_database(target)
        self.key = key

    @classmethod
    def for_settings(cls, settings) -> "ApprovalCodes":
        return cls(settings, settings.hash_key())

    def _code(self, request_key: str, salt: str) -> str:
        return str(100000 + int(keyed(self.key, "approval-code-digits", f"{request_key}|{salt}", 16), 16) % 900000)

    # ---- codes --------------------------------------------------------------------------

    def issue(self, request_key: str, incident_id: str, hall_id: str,
              now: datetime | None = None) -> tuple[str, str]:
        """The code for this approval request and its keyed hash; the same again for a retried send."""
        return self.issue_many([(request_key, incident_id, hall_id)], now)[0]

    def issue_many(self, requests: list[tuple[str, str, str]], now: datetime | None = None) -> list[tuple[str, str]]:
        """`issue` for each (request key, incident, hall) of a batch of messages, in one transaction."""
        at = _now(now)
        with self.db.write() as c:
            return [self._issue(c, *request, at) for request in requests]

    def _issue(self, c, request_key: str, incident_id: str, hall_id: str, at: datetime) -> tuple[str, str]:
        # A newer request of the same incident supersedes its older codes; very old ones retire.
        c.execute(update(codes).where(codes.c.status == "open", codes.c.request_key != request_key, or_(
            codes.c.incident_id == incident_id, codes.c.issued_at < (at - STALE_AFTER).isoformat()))
            .values(status="expired"))
        while True:
            row = c.execute(select(codes.c.salt, codes.c.status)
                            .where(codes.c.request_key == request_key).with_for_update()).first()
            if row:
                code = self._code(request_key, row.salt)
                if row.status != "open":  # asked for again (an incident reset to before it): it waits again
                    try:
                        with c.begin_nested():  # a savepoint: a clash leaves the transaction usable
                            c.execute(update(codes).where(codes.c.request_key == request_key)
                                      .values(status="open"))
                    except IntegrityError:
                        pass  # its value is open elsewhere now: it stays closed, the console still decides
                return code, code_key(self.key, code)
            salt = secrets.token_hex(16)
            code = self._code(request_key, salt)
            hashed = code_key(self.key, code)
            try:
                with c.begin_nested():
                    added = insert_new(c, codes, "request_key", dict(
                        request_key=request_key, incident_id=incident_id, hall_id=hall_id, salt=salt,
                        code_key=hashed, status="open", issued_at=at.isoformat()))
            except IntegrityError:  # that code is open elsewhere: draw another
                continue
            if added:
                return code, hashed
            # another host issued this request's code a moment ago: read theirs (loop)

    def find(self, code: str) -> IssuedCode | None:
        """The open approval this code belongs to, else the latest that it belonged to, else None."""
        with self.db.read() as c:
            row = c.execute(select(codes.c.request_key, codes.c.incident_id, codes.c.hall_id, codes.c.code_key,
                                   codes.c.status)
                            .where(codes.c.code_key == code_key(self.key, code))
                            .order_by((codes.c.status == "open").desc(), codes.c.issued_at.desc()).limit(1)).first()
        return IssuedCode(*row) if row else None

    def close(self, request_key: str, status: str) -> None:
        """The code was used (or found expired): it never decides anything again."""
        with self.db.write() as c:
            c.execute(update(codes).where(codes.c.request_key == request_key, codes.c.status == "open")
                      .values(status=status))

    # ---- wrong tries --------------------------------------------------------------------

    def locked_until(self, phone: str, now: datetime | None = None) -> datetime | None:
        with self.db.read() as c:
            until = c.execute(select(locks.c.until).where(locks.c.sender == sender_key(self.key, phone),
                                                           locks.c.until > _now(now).isoformat())).scalar()
        return datetime.fromisoformat(until) if until else None

    def wrong(self, phone: str, now: datetime | None = None) -> datetime | None:
        """Count a wrong code from this phone; the time it is locked until if this try locked it."""
        at, sender = _now(now), sender_key(self.key, phone)
        with self.db.write() as c:
            c.execute(delete(tries).where(tries.c.at <= (at - WRONG_WINDOW).isoformat()))
            c.execute(insert(tries).values(sender=sender, at=at.isoformat()))
            count = c.execute(select(func.count()).select_from(tries).where(tries.c.sender == sender)).scalar()
            if count < WRONG_LIMIT:
                return None
            until = at + LOCK_FOR
            if not insert_new(c, locks, "sender", dict(sender=sender, until=until.isoformat())):
                c.execute(update(locks).where(locks.c.sender == sender).values(until=until.isoformat()))
            c.execute(delete(tries).where(tries.c.sender == sender))
            return until
