"""Working-day arithmetic as an activity, so its answer is recorded in the incident's history."""

from __future__ import annotations

from datetime import datetime


from groupdesk.core import activities as declared
from groupdesk.core.activities import implements
from groupdesk.core.models import WorkingDeadline
from groupdesk.core.workcal import add_working_days


@implements(declared.working_day_deadline)
async def working_day_deadline(request: WorkingDeadline) -> datetime:
    return add_working_days(request.start, request.working_days)
