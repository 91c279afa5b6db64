"""Playbook durations: "5m", "1h30m", "2d", and working days on the Chinese calendar, "5wd"."""

from __future__ import annotations

import re

from pydantic import BaseModel

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d{1,9})\s*(wd|[smhd])")
MAX_DAYS = 90  # no playbook duration, deadline or follow-up runs longer than a quarter
MAX_WORKING_DAYS = 60


class Span(BaseModel):
    """A playbook duration: clock seconds, or working days (never both)."""

    seconds: int = 0
    working_days: int = 0

    def __str__(self) -> str:
        if self.working_days:
            return f"{self.working_days}wd"
        return format_seconds(self.seconds)


def parse_duration(text: str) -> Span:
    """Parse a duration; raise ValueError saying what is accepted."""
    raw = str(text).strip().lower().replace(" ", "")
    text = text if len(str(text)) <= 40 else str(text)[:40] + "…"
    pos, seconds, working_days = 0, 0, 0
    for match in _PART.finditer(raw):
        if match.start() != pos:
            break
        value, unit = int(match.group(1)), match.group(2)
        if unit == "wd":
            working_days += value
        else:
            seconds += value * _UNIT_SECONDS[unit]
        pos = match.end()
    if not raw or pos != len(raw):
        raise ValueError(
            f"duration {text!r} does not parse; write it like 30s, 5m, 1h30m, 2d or 5wd (working days)"
        )
    if working_days and seconds:
        raise ValueError(f"duration {text!r} mixes working days with clock time; use one or the other")
    if not working_days and seconds <= 0:
        raise ValueError(f"duration {text!r} must be longer than zero")
    if seconds > MAX_DAYS * 86400 or working_days > MAX_WORKING_DAYS:
        raise ValueError(f"duration {text!r} is too long; keep it within {MAX_DAYS}d ({MAX_WORKING_DAYS}wd)")
    return Span(seconds=seconds, working_days=working_days)


def format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)
