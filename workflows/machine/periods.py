"""Sensitive periods in the machine: the responsible person told at the start and sent every development.

Shortened deadlines are the record's own arithmetic (`Record.deadline_delta`). Everything here keys off
`start.sensitive_period`, which incidents started outside a period never carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from groupdesk.core.models import SendMessages
from workflows.machine.record import Record

PERIOD_START = MappingProxyType({
    "zh-CN": "敏感时期({{ period_name }})集体投诉:{{ hall_name }} {{ incident_id }},{{ headcount }}人。"
             "您是本时期该厅的责任人;各环节时限已缩短为平时的{{ factor_percent }}%,事件进展将逐一报送您。",
    "en": "Sensitive period ({{ period_name }}): group complaint {{ incident_id }} at {{ hall_name }}, "
          "{{ headcount }} people. You are the hall's responsible person for this period; every deadline is cut "
          "to {{ factor_percent }}% and each development will be reported to you.",
})
PERIOD_PROGRESS = MappingProxyType({
    "zh-CN": "敏感时期进展({{ period_name }}):{{ hall_name }} {{ incident_id }} — {{ event }}。"
             "当前环节:{{ current_steps }}",
    "en": "Sensitive period ({{ period_name }}) update: {{ incident_id }} at {{ hall_name }} — {{ event }}. "
          "Now: {{ current_steps }}",
})


def mark_period(rec: Record, now: datetime) -> None:
    """At the start: the incident carries its period, the timeline says so, the responsible person is told."""
    period = rec.start.sensitive_period
    rec.state.sensitive_period = period
    who = f"; responsible {period.responsible}" if period.responsible else ""
    rec.log(now, "sensitive_period", actor=period.responsible,
            detail=f"{period.name} ({period.first_day}–{period.last_day}): deadlines ×{period.deadline_factor:g}"
                   + who)
    if period.responsible:
        rec.effects.append(_to_responsible(rec, None, "sensitive_period_start", "start", PERIOD_START,
                                           {"factor_percent": round(period.deadline_factor * 100)}))


def report_to_responsible(rec: Record, step_id: str, outcome_name: str, event: dict[str, str],
                          current: dict[str, str]) -> None:
    """Every change of step reaches the period's responsible person, whatever the warning tier."""
    period = rec.start.sensitive_period
    if period and period.responsible:
        rec.effects.append(_to_responsible(rec, step_id, "progress_report", f"period-{outcome_name}",
                                           PERIOD_PROGRESS, {"event": event, "current_steps": current}))


def _to_responsible(rec: Record, step: str | None, purpose: str, discriminator: str, template: Mapping[str, str],
                    extra: dict) -> SendMessages:
    period = rec.start.sensitive_period
    return rec.messages.to_person(step, purpose, period.responsible, discriminator, template,
                                  {"period_name": period.name, **extra})
