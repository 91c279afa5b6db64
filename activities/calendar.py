"""Working-day arithmetic as an activity, so its answer is recorded in the incident's history."""

from __future__ import annotations

from datetime import datetime

from temporalio import activity

from groupdesk.models import WorkingDeadline
from groupdesk.workcal import add_working_days


@activity.defn
async def working_day_deadline(request: WorkingDeadline) -> datetime:
    return add_working_days(request.start, request.working_days)
