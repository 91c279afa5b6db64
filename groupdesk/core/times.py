"""Times that make sense: one rule for every agreed, promised or appointment time staff give.

A promise's due time, an appointment (the restoration time promised to an outage group, a calibration, a feedback
time), the time a group adjourns to, and `tell --at`: each must lie ahead, and at most 90 days ahead. Giving the
time already recorded again changes nothing and is refused ("no change"); a different time is a re-promise, told
once with the old time and the new. The gateway (CLI exit 2, API 422) and the workflow's validators both ask here,
with `now` passed in. Absolute times are measured against `now` as they are, in drills too (a drill's durations
are scaled; a clock time is the clock time the group was told), as promises' absolute due times always were.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from groupdesk.core.workcal import LOCAL_TZ

AHEAD_MAX = timedelta(days=90)
FORMAT_HELP = "write it like 2026-11-25 17:00 (local time) or 2026-11-25T17:00+08:00"


def shown_time(at: datetime) -> str:
    """A time as staff typed it: local (Asia/Shanghai), to the minute."""
    return at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if at.tzinfo else at.isoformat(timespec="minutes")


def time_problem(at: datetime, now: datetime, before: datetime | None = None) -> str | None:
    """Why `at` cannot be agreed now: no offset, past, more than 90 days ahead, or the time already recorded
    (`before`); None when it makes sense."""
    if at.tzinfo is None:
        return f"{at.isoformat()} has no UTC offset; {FORMAT_HELP}"
    if at <= now:
        return f"{shown_time(at)} has passed; give a time in the future"
    if at > now + AHEAD_MAX:
        return f"{shown_time(at)} is more than 90 days ahead; give a nearer time"
    if before is not None and at == before:
        return f"{shown_time(at)} is the time already recorded: no change (give a different time to re-promise)"
    return None


def parse_time(raw: str) -> datetime | None:
    """An ISO time as the workflow receives it (the clients add the offset); None if it is not one."""
    try:
        return datetime.fromisoformat(str(raw).strip())
    except ValueError:
        return None


def recorded_time(step_data: Mapping[str, str], field: str) -> datetime | None:
    """The time `field` holds in a step's data (its current visit's: an appointment or an adjournment made)."""
    at = parse_time(step_data.get(field, ""))
    return at if at is not None and at.tzinfo is not None else None


def step_time_problems(step_data: Mapping[str, str], fields: Iterable[str], data: Mapping[str, str],
                       now: datetime) -> dict[str, str]:
    """Every problem of the times an outcome records (its appointment's, its adjournment's), by field;
    `step_data` is what the step's current visit recorded so far (the time already agreed)."""
    problems: dict[str, str] = {}
    for field in dict.fromkeys(fields):
        raw = data.get(field, "")
        at = parse_time(raw)
        if at is None or at.tzinfo is None:
            problems[field] = f"{raw!r} is not a date and time with an offset; {FORMAT_HELP}"
        elif problem := time_problem(at, now, recorded_time(step_data, field)):
            problems[field] = problem
    return problems
