"""Frequent-outage lines (频繁停电, seed 003): a line with 2 outages complained of within 12 months is put on
warning with raised control; with 3 or more it gets a special study and a corrective plan (pure: no I/O, no clock).

Outage incidents register their line (`feeder`). Names are normalised (spaces dropped, full-width to half-width,
upper case), so 「10kV 杨柳线」 and 「１０ＫＶ杨柳线」 are one line. Incidents on one line within 24 hours of the
first incident of an outage are that one outage; drills are never counted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

WINDOW = timedelta(days=365)  # the last 12 months
MERGE = timedelta(hours=24)  # incidents on one line within this of an outage's first are that outage
FEEDER_MAX = 40
KEY_PREFIX = "feeder:"  # the line's value in GroupdeskRepeatKeys (running incidents)
WARNING_AT, STUDY_AT = 2, 3
_ALLOWED = re.compile(r"^[\w.+-]+\Z")

LineStatus = Literal["none", "warning", "study"]


def normalise_feeder(raw: str) -> str:
    """A line's name as kept and compared: NFKC (full-width to half-width), no white space, upper case."""
    return "".join(unicodedata.normalize("NFKC", raw or "").split()).upper()


def feeder_problem(raw: str, category: str | None) -> str | None:
    """Why the line as typed cannot be registered (None: it can, or none was given)."""
    if not (raw or "").strip():
        return None
    if category != "outage":
        return "only an outage incident names its line; register it with --category outage (category outage)"
    name = normalise_feeder(raw)
    if len(name) > FEEDER_MAX:
        return f"{len(name)} characters is too long for a line's name; at most {FEEDER_MAX}"
    if not _ALLOWED.match(name):
        return (f"{name[:40]!r} is not a line's name: letters, digits, '-', '+', '.' and '_' only (e.g."
                " 10kV杨柳线 or 10KV-YL-512)")
    return None


def search_values(feeder: str) -> list[str]:
    """What an incident on `feeder` adds to GroupdeskRepeatKeys (at its start, and again when its registration is
    amended): `feeder:<line>`, a name, not a secret."""
    return [KEY_PREFIX + feeder] if feeder else []


def status_of(outages: int) -> LineStatus:
    return "study" if outages >= STUDY_AT else "warning" if outages >= WARNING_AT else "none"


def outages(times: list[datetime]) -> list[datetime]:
    """The first moment of each outage: incidents within 24 hours of an outage's first incident are that outage."""
    firsts: list[datetime] = []
    for at in sorted(times):
        if not firsts or at - firsts[-1] > MERGE:
            firsts.append(at)
    return firsts


@dataclass(frozen=True)
class LineCount:
    outages: int  # within the 12 months, this incident's included
    new_outage: bool  # this incident begins an outage (not within 24 hours of an earlier one)

    @property
    def status(self) -> LineStatus:
        return status_of(self.outages)

    @property
    def alert(self) -> str:
        """What this start sets off: 'warning' (the 2nd outage), 'study' (the 3rd), or ''."""
        if not self.new_outage:
            return ""
        return {WARNING_AT: "warning", STUDY_AT: "study"}.get(self.outages, "")


def count_at_start(earlier: list[datetime], now: datetime) -> LineCount:
    """The line's outages when an incident on it starts at `now`, given the start times of the earlier (non-drill)
    incidents on it, archived and open."""
    recent = [at for at in earlier if now - WINDOW <= at <= now]
    before = outages(recent)
    firsts = outages([*recent, now])
    return LineCount(outages=len(firsts), new_outage=len(firsts) > len(before))
