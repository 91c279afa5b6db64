"""The periodic report workflow: each hall's summary of the period, sent to its director and the office.

Run by a Temporal Schedule, it builds the period's figures from the archive and sends each hall's summary to
its centre director and the emergency leadership office."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from groupdesk.core import activities as declared
    from groupdesk.core.models import PeriodicReport, ReportPeriod
    from groupdesk.core.workcal import LOCAL_TZ


def period_before(kind: str, now) -> ReportPeriod:
    """The 7 local days before today, or the calendar month before this one."""
    today = now.astimezone(LOCAL_TZ).date()
    if kind == "monthly":
        last = today.replace(day=1) - timedelta(days=1)
        return ReportPeriod(kind=kind, first=last.replace(day=1).isoformat(), last=last.isoformat())
    return ReportPeriod(kind=kind, first=(today - timedelta(days=7)).isoformat(),
                        last=(today - timedelta(days=1)).isoformat())


@workflow.defn(name="PeriodicReport")
class PeriodicReportWorkflow:
    @workflow.run
    async def run(self, request: PeriodicReport) -> int:
        """How many summaries were sent (one per hall)."""
        period = period_before(request.kind, workflow.now())
        summaries = await workflow.execute_activity(
            declared.periodic_report_summaries, period, start_to_close_timeout=timedelta(minutes=2))
        for summary in summaries:
            await workflow.execute_activity(declared.send_messages, summary,
                                            start_to_close_timeout=timedelta(seconds=30))
        return len(summaries)
