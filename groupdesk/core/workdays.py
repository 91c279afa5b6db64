"""A snapshot of the holiday calendar taken at an incident's start, so workflow code counts working days itself.

The snapshot travels in the incident's start (its history), so a later update of the holiday data cannot change
how an old incident replays, and no activity (no history event) is needed to add working days.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


class WorkdayCalendar(BaseModel):
    """The working-day exceptions of the years first_year..last_year (Asia/Shanghai)."""

    model_config = ConfigDict(frozen=True)
    first_year: int
    last_year: int
    off: frozenset[date] = frozenset()  # public holidays that fall on a weekday
    on: frozenset[date] = frozenset()  # make-up working days (调休) that fall on a weekend

    def covers(self, day: date) -> bool:
        return self.first_year <= day.year <= self.last_year

    def is_working_day(self, day: date) -> bool:
        if day in self.off:
            return False
        return day in self.on or day.weekday() < 5


def count_working_days(start: datetime, working_days: int, is_working_day: Callable[[date], bool | None]) \
        -> datetime | None:
    """The same local time of day, `working_days` working days after `start`; None when `is_working_day` could
    not tell for a day (None)."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    local = start.astimezone(LOCAL_TZ)
    day, remaining = local.date(), working_days
    while remaining > 0:
        day += timedelta(days=1)
        working = is_working_day(day)
        if working is None:
            return None
        remaining -= 1 if working else 0
    due = datetime.combine(day, local.timetz()).replace(tzinfo=LOCAL_TZ)
    return due.astimezone(start.tzinfo)


def add_on(calendar: WorkdayCalendar | None, start: datetime, working_days: int) -> datetime | None:
    """`working_days` after `start` on the snapshot; None when there is none or the count leaves its years."""
    if calendar is None:
        return None
    return count_working_days(start, working_days,
                              lambda day: calendar.is_working_day(day) if calendar.covers(day) else None)
