"""Sign-in throttling: failures counted per account and per client address in a sliding window.

The whole storage is the four methods of SignInThrottle over one table, so moving it to
another database means rewriting this file only.
"""

from __future__ import annotations

import ipaddress
import math
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import structlog

from groupdesk.datafiles import private_file

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

    def __init__(self, path: Path, limits: Limits = Limits(), clock: Callable[[], float] = time.time):
        self.path, self.limits, self.clock = private_file(path), limits, clock
        self._lock = threading.Lock()
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS sign_in_failures (key TEXT NOT NULL, at REAL NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS sign_in_failures_key ON sign_in_failures (key, at)")

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def _keys(self, account: str, address: str) -> list[tuple[str, int]]:
        return [(f"account:{account[:64].lower()}", self.limits.per_account),
                (f"address:{address[:64]}", self.limits.per_address)]

    def retry_after(self, account: str, address: str) -> int:
        """0 if a sign-in may be tried now, else the seconds until one may."""
        now, wait = self.clock(), 0.0
        with self._db() as db:
            for key, limit in self._keys(account, address):
                times = [at for (at,) in db.execute(
                    "SELECT at FROM sign_in_failures WHERE key = ? AND at > ? ORDER BY at DESC LIMIT ?",
                    (key, now - self.limits.window, limit))]
                if len(times) >= limit:  # the oldest of the last `limit` failures must leave the window
                    wait = max(wait, times[-1] + self.limits.window - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, account: str, address: str) -> None:
        """Count a failure; log once when it locks the account or the address."""
        now = self.clock()
        with self._lock, self._db() as db:
            db.execute("DELETE FROM sign_in_failures WHERE at <= ?", (now - self.limits.window,))
            db.executemany("INSERT INTO sign_in_failures VALUES (?, ?)",
                           [(key, now) for key, _ in self._keys(account, address)])
        wait = self.retry_after(account, address)
        if wait:
            log.warning("sign-in locked", account=account[:64], address=mask_address(address), retry_after=wait)

    def succeeded(self, account: str) -> None:
        """A right password clears the account's count (the address keeps its own)."""
        with self._lock, self._db() as db:
            db.execute("DELETE FROM sign_in_failures WHERE key = ?", (self._keys(account, "")[0][0],))
