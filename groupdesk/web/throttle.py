"""Sign-in throttling: failures counted per account and per client address in a sliding window.

The counts live in groupdesk's database (one table), so every console replica sees the same.
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass
from typing import Callable

import structlog
from sqlalchemy import delete, insert, select

from groupdesk.storage import Database, open_database
from groupdesk.storage.schema import sign_in_failures as failures

log = structlog.get_logger("groupdesk.web.sign_in")


@dataclass(frozen=True)
class Limits:
    per_account: int = 5
    per_address: int = 20
    window: float = 15 * 60  # seconds


def mask_address(address: str) -> str:
    """Enough of the client address to see a pattern in the log, not enough to name a household."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "?"
    if ip.version == 4:
        return ".".join(str(ip).split(".")[:2]) + ".*.*"
    return ":".join(ip.exploded.split(":")[:3]) + ":*"


class SignInThrottle:
    """How long a sign-in must wait (`retry_after`), and what a failure or a success changes."""

    def __init__(self, target, limits: Limits = Limits(), clock: Callable[[], float] = time.time):
        """`target`: a Database, settings, a database URL, or the path of a SQLite file."""
        self.db: Database = open_database(target)
        self.limits, self.clock = limits, clock

    def _keys(self, account: str, address: str) -> list[tuple[str, int]]:
        return [(f"account:{account[:64].lower()}", self.limits.per_account),
                (f"address:{address[:64]}", self.limits.per_address)]

    def retry_after(self, account: str, address: str) -> int:
        """0 if a sign-in may be tried now, else the seconds until one may."""
        now, wait = self.clock(), 0.0
        with self.db.read() as c:
            for key, limit in self._keys(account, address):
                times = list(c.execute(select(failures.c.at).where(
                    failures.c.key == key, failures.c.at > now - self.limits.window)
                    .order_by(failures.c.at.desc()).limit(limit)).scalars())
                if len(times) >= limit:  # the oldest of the last `limit` failures must leave the window
                    wait = max(wait, times[-1] + self.limits.window - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, account: str, address: str) -> None:
        """Count a failure; log once when it locks the account or the address."""
        now = self.clock()
        with self.db.write() as c:
            c.execute(delete(failures).where(failures.c.at <= now - self.limits.window))
            c.execute(insert(failures), [dict(key=key, at=now) for key, _ in self._keys(account, address)])
        wait = self.retry_after(account, address)
        if wait:
            log.warning("sign-in locked", account=account[:64], address=mask_address(address), retry_after=wait)

    def succeeded(self, account: str) -> None:
        """A right password clears the account's count (the address keeps its own)."""
        with self.db.write() as c:
            c.execute(delete(failures).where(failures.c.key == self._keys(account, "")[0][0]))
