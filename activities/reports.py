"""The periodic report's figures per hall, and each month per unit for its managers (`periodic_report_unit`): stored
(table reports), and one SMS summary each."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone


from groupdesk.core import activities as declared
from groupdesk.core.activities import implements
from groupdesk.record.report import build_report
from groupdesk.core.models import ReportPeriod, SendMessages
from groupdesk.storage import Database
from groupdesk.storage.dialect import insert_new
from groupdesk.storage.schema import reports

SUMMARY = {
    "zh-CN": "【{{ period_name }}统计 {{ first }}至{{ last }}】{{ hall_name }}:集体投诉 {{ incidents }} 起,"
             "超时 {{ breached }} 起,升级 {{ escalations }} 次,重复投诉 {{ repeats }} 起,"
             "三级及以上预警 {{ tier3 }} 起,不满意 {{ dissatisfied }} 起。",
    "en": "{{ period_name }} report {{ first }} to {{ last }}, {{ hall_name }}: {{ incidents }} group complaints, "
          "{{ breached }} past a deadline, {{ escalations }} escalations, {{ repeats }} repeat complaints, "
          "{{ tier3 }} at tier 3 or above, {{ dissatisfied }} dissatisfied.",
}
RECIPIENTS = ["centre_director", "emergency_leadership_office"]
# The monthly roll-up of a unit (city, province...) to the managers held at it (groupdesk/people/units.py).
UNIT_SUMMARY = {
    "zh-CN": "【{{ period_name }}统计 {{ first }}至{{ last }}】{{ unit_name }}(下辖{{ halls }}个营业厅):集体投诉 {{ incidents }} 起,"
             "超时 {{ breached }} 起,升级 {{ escalations }} 次,重复投诉 {{ repeats }} 起,"
             "三级及以上预警 {{ tier3 }} 起,不满意 {{ dissatisfied }} 起。",
    "en": "{{ period_name }} report {{ first }} to {{ last }}, {{ unit_name }} ({{ halls }} halls): {{ incidents }} group"
          " complaints, {{ breached }} past a deadline, {{ escalations }} escalations, {{ repeats }} repeat complaints,"
          " {{ tier3 }} at tier 3 or above, {{ dissatisfied }} dissatisfied.",
}


class ReportActivities:
    def __init__(self, db: Database, directory_loader):
        self.db = db
        self._directory_loader = directory_loader

    @implements(declared.periodic_report_summaries)
    def summaries(self, period: ReportPeriod) -> list[SendMessages]:
        first, last = date.fromisoformat(period.first), date.fromisoformat(period.last)
        out = []
        for hall in self._directory_loader().halls:
            report = build_report(self.db, first, last, hall.id)
            self._keep(f"report/{period.kind}/{period.first}/{hall.id}", period, hall.id, report)
            t, s = report["totals"], report["satisfaction"]
            out.append(SendMessages(
                incident_id=f"report-{period.kind}-{period.first}", hall_id=hall.id, step=None,
                purpose="periodic_report", key=f"report/{period.kind}/{period.first}/{hall.id}",
                recipients=RECIPIENTS, template=dict(SUMMARY), context={
                    "period_name": {"zh-CN": "周" if period.kind == "weekly" else "月", "en": period.kind.title()},
                    "first": period.first, "last": period.last,
                    "hall_name": {"zh-CN": hall.name, "en": hall.name_en or hall.name},
                    "incidents": t["incidents"], "breached": t["sla_breached"], "escalations": t["escalations"],
                    "repeats": t["repeat_complaints"], "tier3": t["warning_tier_3"],
                    "dissatisfied": s["1"] + s["2"]}))
        if period.kind == "monthly":
            out += self.unit_summaries(period, first, last)
        return out

    def unit_summaries(self, period: ReportPeriod, first: date, last: date) -> list[SendMessages]:
        """periodic_report_unit: each unit that has managers and halls below it, its roll-up to its managers."""
        from groupdesk.record.rollup import unit_report

        directory, out = self._directory_loader(), []
        for unit in directory.units:
            managers = sorted({pid for ids in unit.roles.values() for pid in ids})
            halls = directory.halls_below(unit.id)
            if not managers or not halls:
                continue
            report = unit_report(self.db, directory, first, last, unit.id)
            key = f"report/{period.kind}/{period.first}/unit/{unit.id}"
            self._keep(key, period, f"unit:{unit.id}", report)
            t, top = report["totals"], report["rollup"][0]
            out.append(SendMessages(
                incident_id=f"report-{period.kind}-{period.first}", hall_id=halls[0], step=None,
                purpose="periodic_report_unit", key=key, recipients=[f"person:{pid}" for pid in managers],
                template=dict(UNIT_SUMMARY), context={
                    "period_name": {"zh-CN": "月", "en": "Monthly"}, "first": period.first, "last": period.last,
                    "unit_name": {"zh-CN": unit.name, "en": unit.name_en or unit.name}, "halls": len(halls),
                    "incidents": t["incidents"], "breached": t["sla_breached"], "escalations": t["escalations"],
                    "repeats": t["repeat_complaints"], "tier3": t["warning_tier_3"],
                    "dissatisfied": top["dissatisfied"]}))
        return out

    def _keep(self, key: str, period: ReportPeriod, hall_id: str, report: dict) -> None:
        """Store the report as built; a retried activity keeps the first one."""
        with self.db.write() as c:
            insert_new(c, reports, "key", dict(key=key, kind=period.kind, first_day=period.first,
                                                last_day=period.last, hall_id=hall_id,
                                                built_at=datetime.now(timezone.utc).isoformat(),
                                                report=json.dumps(report, ensure_ascii=False, sort_keys=True)))
