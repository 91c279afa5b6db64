"""Working days on the Chinese public-holiday calendar, make-up workdays (调休) included.

Workflow code never calls this directly: an activity does, so the answer is recorded in
history and a later update of the holiday data cannot change how an old incident replays.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


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
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    local = start.astimezone(LOCAL_TZ)
    day = local.date()
    remaining = working_days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    due = datetime.combine(day, local.timetz()).replace(tzinfo=LOCAL_TZ)
    return due.astimezone(start.tzinfo)


def format_local(moment: datetime, lang: str = "zh-CN") -> str:
    local = moment.astimezone(LOCAL_TZ)
    if lang == "zh-CN":
        return f"{local.month}月{local.day}日 {local:%H:%M}"
    return local.strftime("%d %b %H:%M")
