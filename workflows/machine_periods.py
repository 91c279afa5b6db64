"""Sensitive periods in the incident machine: shortened deadlines, the responsible person told at the start
and sent every development whatever the warning tier. Pure, like the machine it mixes into.

Everything here keys off `start.sensitive_period`, which incidents started before periods existed never
carry: their deadlines, messages and histories are exactly as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING

from groupdesk.core.durations import Span
from groupdesk.core.models import SendMessages
from groupdesk.core.periods import shortened, shortened_working_days
from groupdesk.core.roles import LANGUAGES, PERSON_PREFIX

if TYPE_CHECKING:
    from groupdesk.core.models import IncidentState, StartIncident
    from workflows.messages import MessageBuilder

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


class PeriodRules:
    """Mixed into IncidentMachine (whose `scaled`, `log` and `active_steps` these use): what a period changes."""

    start: StartIncident
    state: IncidentState
    messages: MessageBuilder
    effects: list

    def deadline_delta(self, span: Span) -> timedelta:
        """A step's deadline or an escalation's grace, shortened by the period's factor."""
        return shortened(self.scaled(span), self.start.sensitive_period)

    def deadline_working_days(self, working_days: int) -> int:
        return shortened_working_days(working_days, self.start.sensitive_period)

    def mark_period(self, now: datetime) -> None:
        """At the start: the incident carries its period, the timeline says so, the responsible person is told."""
        period = self.start.sensitive_period
        self.state.sensitive_period = period
        who = f"; responsible {period.responsible}" if period.responsible else ""
        self.log(now, "sensitive_period", actor=period.responsible,
                 detail=f"{period.name} ({period.first_day}–{period.last_day}): deadlines ×{period.deadline_factor:g}"
                        + who)
        if period.responsible:
            self.effects.append(self._to_responsible(
                None, "sensitive_period_start", "start", PERIOD_START,
                {"factor_percent": round(period.deadline_factor * 100)}))

    def report_to_responsible(self, step_id: str, outcome_name: str, event: dict[str, str],
                              current: dict[str, str]) -> None:
        """Every change of step reaches the period's responsible person, whatever the warning tier."""
        period = self.start.sensitive_period
        if period and period.responsible:
            self.effects.append(self._to_responsible(
                step_id, "progress_report", f"period-{outcome_name}", PERIOD_PROGRESS,
                {"event": event, "current_steps": current}))

    def progress_texts(self, step_id: str, outcome_name: str) -> tuple[dict[str, str], dict[str, str]]:
        """(what happened, which steps are under way now), in every language, for a progress report."""
        pb = self.start.playbook
        event = {lang: f"{pb.step_title(step_id, lang)}: {self.plan_or_outcome_label(step_id, outcome_name, lang)}"
                 for lang in LANGUAGES}
        current = {lang: "、".join(pb.step_title(s, lang) for s in self.active_steps()) or "—" for lang in LANGUAGES}
        return event, current

    def _to_responsible(self, step: str | None, purpose: str, discriminator: str, template: Mapping[str, str],
                        extra: dict) -> SendMessages:
        period = self.start.sensitive_period
        return self.messages._request(step, purpose, [PERSON_PREFIX + period.responsible], "", discriminator,
                                      inline=template, extra={"period_name": period.name, **extra})
