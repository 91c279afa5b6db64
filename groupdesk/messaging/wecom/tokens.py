"""The WeCom access token, fetched once and shared by every process through groupdesk's database.

WeCom limits `gettoken` and answers every call with the same token while it lasts (7,200 s), so
one process fetches it (it holds a short lease in the table while it does) and every other one
reads it from the row. It is fetched again before it expires, and when an API call says it is
stale (42001, 40014): the first caller to report a token marks *that* token stale, so a hundred
messages failing on the same token cause one fetch, not a hundred. A refused `gettoken` (a wrong
secret) is remembered for a minute, so messages fall back at once instead of asking again each.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Awaitable, Callable

from sqlalchemy import select, update

from groupdesk.storage import Database, open_database
from groupdesk.storage.dialect import insert_new
from groupdesk.storage.schema import wecom_tokens as tokens

REFRESH_BEFORE = 300.0  # seconds before expiry a token is fetched anew
LEASE = 15.0  # how long one process may take to fetch before another may try
REMEMBER_REFUSAL = 60.0  # a refused gettoken (wrong secret) is not asked again within this
WAIT_POLL = 0.05


class TokenUnavailable(Exception):
    """No token now: `gettoken` failed (the reason says why). `refused`: WeCom said no (a setting is wrong)."""

    def __init__(self, reason: str, code: str = "", refused: bool = False):
        super().__init__(reason)
        self.reason, self.code, self.refused = reason, code, refused


@dataclass(frozen=True)
class Fetched:
    token: str
    expires_in: float


Fetch = Callable[[], Awaitable[Fetched]]


class AccessTokens:
    """The token of one app (`app`: corp id / agent id) in the database; `fetch` asks WeCom for a new one."""

    def __init__(self, target, app: str, fetch: Fetch, clock: Callable[[], float] = time.time,
                 wait: float = LEASE + 5):
        """`target`: a Database, settings, a database URL, or the path of a SQLite file."""
        self.db: Database = open_database(target)
        self.app, self.fetch, self.clock, self.wait = app, fetch, clock, wait
        with self.db.write() as c:
            insert_new(c, tokens, "app", dict(app=app, token=None, expires_at=0, lease_until=0, failed_until=0,
                                              error=None, fetches=0))

    def _row(self):
        with self.db.read() as c:
            return c.execute(select(tokens).where(tokens.c.app == self.app)).first()

    async def get(self) -> str:
        """A token good for at least REFRESH_BEFORE more seconds (TokenUnavailable if none can be had)."""
        deadline = time.monotonic() + self.wait
        while True:
            row = await asyncio.to_thread(self._row)
            now = self.clock()
            if row.token and row.expires_at - REFRESH_BEFORE > now:
                return row.token
            if row.failed_until > now:
                code, _, reason = (row.error or "|WeCom refused the app's credentials").partition("|")
                raise TokenUnavailable(reason, code=code, refused=True)
            if await asyncio.to_thread(self._take_lease, now):
                return await self._refresh()
            if row.token and row.expires_at > now + 5:  # someone is refreshing; the old one still works
                return row.token
            if time.monotonic() > deadline:
                raise TokenUnavailable("another process is fetching the WeCom token and has not finished")
            await asyncio.sleep(WAIT_POLL)

    def stale(self, token: str) -> None:
        """An API call said this token is expired or invalid: the next `get` fetches (once, whoever asks)."""
        with self.db.write() as c:
            c.execute(update(tokens).where(tokens.c.app == self.app, tokens.c.token == token).values(expires_at=0))

    def _take_lease(self, now: float) -> bool:
        with self.db.write() as c:
            taken = c.execute(update(tokens).where(
                tokens.c.app == self.app, tokens.c.lease_until < now, tokens.c.failed_until <= now,
                (tokens.c.token.is_(None)) | (tokens.c.expires_at - REFRESH_BEFORE <= now),
            ).values(lease_until=now + LEASE))
            return taken.rowcount == 1

    async def _refresh(self) -> str:
        try:
            fetched = await self.fetch()
        except TokenUnavailable as exc:
            await asyncio.to_thread(self._failed, exc)
            raise
        except BaseException:
            await asyncio.to_thread(self._release)
            raise
        now = self.clock()
        with self.db.write() as c:
            c.execute(update(tokens).where(tokens.c.app == self.app).values(
                token=fetched.token, expires_at=now + fetched.expires_in, lease_until=0, failed_until=0,
                error=None, fetches=tokens.c.fetches + 1))
        return fetched.token

    def _failed(self, exc: TokenUnavailable) -> None:
        values = dict(lease_until=0)
        if exc.refused:
            values.update(failed_until=self.clock() + REMEMBER_REFUSAL, error=f"{exc.code}|{exc.reason}"[:1000])
        with self.db.write() as c:
            c.execute(update(tokens).where(tokens.c.app == self.app).values(**values))

    def _release(self) -> None:
        with self.db.write() as c:
            c.execute(update(tokens).where(tokens.c.app == self.app).values(lease_until=0))

    def fetches(self) -> int:
        """How many tokens were fetched for this app (every process counted): for tests and ops."""
        return int(self._row().fetches)
