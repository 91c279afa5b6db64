"""groupdesk's Temporal Schedules (the weekly and monthly reports), created if missing: idempotent."""

from __future__ import annotations

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleSpec,
)

from groupdesk.runtime.config import Settings
from groupdesk.core.models import PeriodicReport

# Monday 08:00 and the 1st of the month 08:00, Beijing time.
SCHEDULES = {"weekly": "0 8 * * 1", "monthly": "0 8 1 * *"}


def schedule_id(kind: str) -> str:
    return f"groupdesk-{kind}-report"


async def ensure_schedules(client: Client, settings: Settings) -> list[str]:
    """Create the report schedules that do not exist yet; the ids created (none when all exist)."""
    from workflows.periodic_report import PeriodicReportWorkflow

    created = []
    for kind, cron in SCHEDULES.items():
        try:
            await client.create_schedule(schedule_id(kind), Schedule(
                action=ScheduleActionStartWorkflow(PeriodicReportWorkflow.run, PeriodicReport(kind=kind),
                                                   id=schedule_id(kind), task_queue=settings.task_queue),
                spec=ScheduleSpec(cron_expressions=[cron], time_zone_name="Asia/Shanghai")))
            created.append(schedule_id(kind))
        except ScheduleAlreadyRunningError:
            pass
    return created
