"""Progress reports: each change of step, told upward while a warning plan runs or a sensitive period lasts."""

from __future__ import annotations

from datetime import datetime

from groupdesk.core.roles import LANGUAGES
from workflows.machine import periods, plan
from workflows.machine.record import Record


def progress_texts(rec: Record, step_id: str, outcome_name: str) -> tuple[dict[str, str], dict[str, str]]:
    """(what happened, which steps are under way now), in every language, for a progress report."""
    pb = rec.start.playbook
    event = {lang: f"{pb.step_title(step_id, lang)}: {plan.plan_or_outcome_label(rec, step_id, outcome_name, lang)}"
             for lang in LANGUAGES}
    current = {lang: "、".join(pb.step_title(s, lang) for s in rec.active_steps()) or "—" for lang in LANGUAGES}
    return event, current


def report_progress(rec: Record, now: datetime, step_id: str, outcome_name: str, tier: int,
                    occasion: str | None = None) -> None:
    """`occasion` tells repeated events of one step apart (the plan raised twice) in message keys."""
    reports = rec.pb.progress_reports
    event, current = progress_texts(rec, step_id, outcome_name)
    periods.report_to_responsible(rec, step_id, occasion or outcome_name, event, current)
    if not plan.reports_at(rec, tier):
        return
    rec.state.progress_reports += 1
    rec.effects.append(rec.messages.progress_report(reports, rec.state.progress_reports, event, current))
