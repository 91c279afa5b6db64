"""Sensitive periods (敏感时期, seed 000: 两会) as an incident keeps them: the snapshot and its arithmetic.

The calendar file is read outside workflow code (groupdesk/playbooks/periods.py); an incident started inside a
period carries that period in its start request, so editing the calendar never changes a running one.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from pydantic import BaseModel, Field

MIN_FACTOR = 0.1  # a factor below this would leave a step a few seconds: a typing mistake, not a policy
MAX_FACTOR = 1.0  # a sensitive period asks for a faster reaction, never a slower one


class SensitivePeriod(BaseModel):
    """The period an incident started in, as the calendar said at its start."""

    name: str
    first_day: date  # local dates (Asia/Shanghai), both included
    last_day: date
    deadline_factor: float = Field(1.0, ge=MIN_FACTOR, le=MAX_FACTOR)
    responsible: str | None = None  # the staff id named for the incident's hall (None: nobody named there)


def shortened(delta: timedelta, period: SensitivePeriod | None) -> timedelta:
    """A clock deadline (or an escalation's grace) of an incident started in `period`."""
    if period is None or period.deadline_factor == 1.0:
        return delta
    return delta * period.deadline_factor


def shortened_working_days(working_days: int, period: SensitivePeriod | None) -> int:
    """A working-day deadline stays on the working calendar: the factor times the days, rounded up, at
    least one (5wd halved is 3wd: a deadline never lands on a holiday or a half day)."""
    if period is None or period.deadline_factor == 1.0:
        return working_days
    return max(1, math.ceil(working_days * period.deadline_factor - 1e-9))
