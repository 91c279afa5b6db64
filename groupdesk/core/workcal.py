"""Working days on the Chinese public-holiday calendar, make-up workdays (调休) included.

Workflow code never calls this directly: it counts on the snapshot its start carries (groupdesk.core.workdays),
or asks an activity, so a later update of the holiday data cannot change how an old incident replays.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

from groupdesk.core.workdays import LOCAL_TZ, WorkdayCalendar, count_working_days

__all__ = ["LOCAL_TZ", "add_working_days", "format_local", "is_working_day", "snapshot"]


@lru_cache(maxsize=64)
def _calendar(year: int) -> holidays.HolidayBase:
    return holidays.China(years=[year])


def is_working_day(day: date) -> bool:
    cal = _calendar(day.year)
    if day in cal:
        return False
    if day in getattr(cal, "weekend_workdays", set()):
        return True
    return day.weekday() < 5


def add_working_days(start: datetime, working_days: int) -> datetime:
    """The same local time of day, `working_days` working days after `start` (Asia/Shanghai).

    Counting starts with the day after `start`, so "within 5 working days" of a request made
    on a Friday afternoon ends the next Friday afternoon, and a holiday week pushes it out.
    """
    return count_working_days(start, working_days, is_working_day)


@lru_cache(maxsize=8)
def snapshot(first_year: int, years: int = 2) -> WorkdayCalendar:
    """The calendar's exceptions for `years` years from `first_year`, for an incident's start (made once)."""
    span = [date(first_year, 1, 1) + timedelta(days=i)
            for i in range((date(first_year + years, 1, 1) - date(first_year, 1, 1)).days)]
    return WorkdayCalendar(first_year=first_year, last_year=first_year + years - 1,
                           off=frozenset(d for d in span if d.weekday() < 5 and not is_working_day(d)),
                           on=frozenset(d for d in span if d.weekday() >= 5 and is_working_day(d)))


def format_local(moment: datetime, lang: str = "zh-CN") -> str:
    local = moment.astimezone(LOCAL_TZ)
    if lang == "zh-CN":
        return f"{local.month}月{local.day}日 {local:%H:%M}"
    return local.strftime("%d %b %H:%M")
