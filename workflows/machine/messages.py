"""Builds the SendMessages requests of an incident: template from the snapshot, context, key.

The idempotency key names the incident, the step and its visit, the purpose and what
distinguishes this message from its siblings; the activity appends the recipient.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from groupdesk.core.models import IncidentState, Purpose, SendMessages, StartIncident
from groupdesk.core.playbook import Outcome, ProgressReports, Step
from groupdesk.core.repeats import reason_words
from groupdesk.core.roles import INCIDENT_OWNER, LANGUAGES, LEAD_COMPLAINANT, PERSON_PREFIX, role_label
from groupdesk.core.warning_plan import PlanNotice, tier_names


def used_by(sources: dict[str, str], context: dict[str, Any]) -> dict[str, Any]:
    """Only the variables the template mentions: free text (the summary, a note) is not copied into
    every activity input, so an incident's history stays small. A name that merely appears in the
    text is kept too; that costs a few bytes, never a missing variable."""
    text = "\n".join(sources.values())
    return {name: value for name, value in context.items()
            if re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text)}


REPEAT_NOTICE = MappingProxyType({
    "zh-CN": "重复投诉({{ repeat_reason }}):{{ incident_id }} 与90天内的投诉 {{ earlier_id }} 相关,"
             "前次结果:{{ earlier_outcome }}",
    "en": "Repeat complaint ({{ repeat_reason }}): {{ incident_id }} follows {{ earlier_id }} within 90 days, "
          "outcome: {{ earlier_outcome }}",
})


HANDOVER = MappingProxyType({
    "zh-CN": "首问负责:事件 {{ incident_id }} 已由 {{ from_owner }} 移交您负责。原因:{{ reason }}",
    "en": "You now own incident {{ incident_id }}, handed over by {{ from_owner }}. Reason: {{ reason }}",
})


# Two texts, not one with {% if %}: Aliyun and Tencent Cloud send only fixed text with values in it.
PUBLICITY_ALERT_MEDIA = MappingProxyType({
    "zh-CN": "舆情提示:{{ hall_name }} 事件 {{ incident_id }}({{ headcount }}人,{{ summary }})现场有媒体,"
             "请立即关注并做好舆情应对。",
    "en": "Publicity alert: incident {{ incident_id }} at {{ hall_name }} ({{ headcount }} people, {{ summary }}):"
          " media are present; act on it now.",
})
PUBLICITY_ALERT_SEEKER = MappingProxyType({
    "zh-CN": "舆情提示:{{ hall_name }} 事件 {{ incident_id }}({{ headcount }}人,{{ summary }})投诉人意在制造"
             "轰动效应,请立即关注并做好舆情应对。",
    "en": "Publicity alert: incident {{ incident_id }} at {{ hall_name }} ({{ headcount }} people, {{ summary }}):"
          " the group seeks publicity; act on it now.",
})


# A group incident registered by a guide, a guard (anyone but a hall lead): the hall's duty lead owns it, told at once.
REGISTERED_BY_OTHER = MappingProxyType({
    "zh-CN": "登记提示:{{ starter_role }}{{ starter_name }}在{{ hall_name }}登记了{{ playbook_title }}"
             "(事件 {{ incident_id }},{{ headcount }}人,{{ summary }}),由您负责处置。",
    "en": "Registered: {{ starter_name }} ({{ starter_role }}) registered {{ playbook_title }} at {{ hall_name }}"
          " (incident {{ incident_id }}, {{ headcount }} people, {{ summary }}); you own it.",
})


REOPENED = MappingProxyType({
    "zh-CN": "客户回访不满意({{ score }}/5,留言:{{ comment or \"无\" }}),事件 {{ incident_id }} "
             "已退回「{{ step_title }}」,请尽快处理。",
    "en": "Follow-up answer dissatisfied ({{ score }}/5, comment: {{ comment or \"none\" }}); incident "
          "{{ incident_id }} is back at \"{{ step_title }}\": please handle it soon.",
})


# A re-promise (the agreed time of a step moved): one message to everyone the time concerns, old and new time.
TIME_CHANGED = MappingProxyType({
    "zh-CN": "{{ hall_name }}:您好,「{{ step_title }}」的约定时间由 {{ previous_at }} 改为 {{ appointment_at }},"
             "请您留意。",
    "en": "{{ hall_name }}: the agreed time for \"{{ step_title }}\" has moved from {{ previous_at }} to"
          " {{ appointment_at }}.",
})


class MessageBuilder:
    def __init__(self, start: StartIncident, state: IncidentState):
        self.start = start
        self.pb = start.playbook
        self.state = state

    def _base(self) -> dict[str, Any]:
        return {
            "incident_id": self.start.incident_id,
            "hall_name": {"zh-CN": self.start.hall_name, "en": self.start.hall_name_en or self.start.hall_name},
            "headcount": self.start.headcount,
            "summary": self.start.summary,
            "playbook_title": dict(self.pb.title),
            "warning_tier": self.state.warning_tier,
            "tier_name": tier_names(self.state.warning_tier),  # 三级 / tier 3; '' when no plan runs
            "topic": dict(self.pb.topic) or "",  # what the complaint is about, named by the playbook
            "rejection_reason": self.state.rejection_reason or "",  # the director's, once a plan was refused
            "drill": self.start.drill,
        }

    def _request(self, step: str | None, purpose: Purpose, recipients: list[str], template: str,
                 discriminator: str, extra: dict[str, Any] | None = None, inline: Mapping[str, str] | None = None,
                 audiences: dict[str, str] | None = None, **fields: Any) -> SendMessages:
        visit = self.state.steps[step].visit if step and step in self.state.steps else 1
        # `incident_owner` is whoever owns the incident now: one person, one message
        recipients = list(dict.fromkeys(PERSON_PREFIX + self.state.owner if r == INCIDENT_OWNER else r
                                        for r in recipients if r != INCIDENT_OWNER or self.state.owner))
        audiences = {(PERSON_PREFIX + self.state.owner if r == INCIDENT_OWNER else r): name
                     for r, name in (audiences or {}).items()}
        key = f"{self.start.incident_id}/{step or '-'}#{visit}/{purpose}/{discriminator}"
        if self.state.resend_epoch:  # after a reset with --resend, messages already sent go out again
            key += f"~resend{self.state.resend_epoch}"
        sources = dict(inline or self.pb.templates[template])
        by_audience = {role: dict(self.pb.templates[name]) for role, name in (audiences or {}).items()
                       if role in recipients}
        every_source = {f"{role}/{lang}": text for role, langs in by_audience.items() for lang, text in langs.items()}
        context = used_by({**sources, **every_source}, {**self._base(), **(extra or {})})
        if step and step in self.pb.steps:  # not the warning plan's actions (step warning_plan)
            state = self.state.steps.get(step)
            context["deadline"] = state.deadline_at.isoformat() if state and state.deadline_at else ""
            fields.setdefault("step_title", dict(self.pb.steps[step].title))
            fields.setdefault("owner_role", self.pb.steps[step].owner)
        if person := self.start.registration.person_involved:  # 更换当事人: never to them; their role goes up
            fields.update(excluded=[person], chain=dict(self.pb.escalation.chain))
        return SendMessages(
            incident_id=self.start.incident_id, hall_id=self.start.hall_id, step=step, purpose=purpose, key=key,
            recipients=list(recipients), template=sources, context=context, audience_templates=by_audience,
            lead=self.start.lead if LEAD_COMPLAINANT in recipients else None, drill=self.start.drill, visit=visit,
            **fields,
        )

    def for_step(self, step: str, purpose: Purpose, recipients: list[str], template: str | None,
                 discriminator: str) -> SendMessages:
        # An approval request's code is made by the send activity, outside workflow code.
        extra = {"refusal_reasons": [dict(r) for r in self.pb.steps[step].refusal_reasons]} \
            if purpose == "approval_request" and self.pb.steps[step].refusal_reasons else {}
        return self._request(step, purpose, recipients, template or "", discriminator,
                             audiences=self.pb.steps[step].audiences, **extra)

    def _round(self, step: str) -> str:
        """After an adjournment the step's deadline comes again: its reminders get new keys."""
        state = self.state.steps.get(step)
        return f"-r{state.adjourned}" if state and state.adjourned else ""

    def reminder(self, step: str, owner: str) -> SendMessages:
        """The step's role and the incident's named owner (首问负责制), one message per person."""
        named = [PERSON_PREFIX + self.state.owner] if self.state.owner else []
        return self._request(step, "reminder", [owner, *named], self.pb.escalation.reminder_template,
                             "deadline" + self._round(step))

    def escalation(self, step: str, level: int, role: str, overdue_seconds: float) -> SendMessages:
        owner = self.pb.steps[step].owner
        return self._request(
            step, "escalation", [role], self.pb.escalation.escalation_template, f"level{level}" + self._round(step),
            extra={"level": level, "overdue": int(overdue_seconds * self.start.time_scale)},
            escalated_from=owner,
        )

    def actor_name(self, actor: str) -> str:
        return next((s.name for staff in self.start.roster.values() for s in staff if s.id == actor), actor)

    def for_outcome(self, step: str, outcome_name: str, outcome: Outcome, actor: str, note: str,
                    appointment_at: str | None = None, number: int = 0) -> SendMessages:
        """An outcome's notice; one that stays on its step (an appointment) is numbered, so a new time is told too."""
        label = {lang: self.pb.outcome_label(step, outcome_name, lang) for lang in LANGUAGES}
        extra = {"outcome_label": label, "actor_name": self.actor_name(actor), "reason": note}
        if appointment_at is not None:
            extra["appointment_at"] = appointment_at
        return self._request(
            step, "progress_report", outcome.notify, outcome.template or "",
            f"outcome-{outcome_name}" + (f"-{number}" if number else ""), extra=extra,
        )

    def time_changed(self, step: str, outcome_name: str, recipients: list[str], previous_at: str, at: str,
                     number: int) -> SendMessages:
        """A stay recorded again with a different time (a re-promise): its one message naming both times,
        numbered like the outcome's notices it stands in for."""
        return self._request(step, "appointment_changed", recipients, "", f"outcome-{outcome_name}-{number}",
                             inline=TIME_CHANGED, extra={"previous_at": previous_at, "appointment_at": at})

    def plan_notice(self, notice: PlanNotice, discriminator: str, actor: str, note: str,
                    plan_tier: dict[str, str]) -> SendMessages:
        """The warning plan was raised or ended: `plan_tier` names the tier it was raised to, or that ended."""
        return self._request(None, "progress_report", notice.notify, notice.template, discriminator,
                             extra={"actor_name": self.actor_name(actor), "reason": note, "plan_tier": plan_tier})

    def appointment_reminder(self, step: str, index: int, recipients: list[str], template: str,
                             at_iso: str, audiences: dict[str, str] | None = None) -> SendMessages:
        return self._request(step, "reminder", recipients, template, f"appointment{index}",
                             extra={"appointment_at": at_iso}, audiences=audiences)

    def progress_report(self, reports: ProgressReports, number: int, event: dict[str, str],
                        current: dict[str, str]) -> SendMessages:
        return self._request(None, "progress_report", reports.notify, reports.template, f"report{number}",
                             extra={"event": event, "current_steps": current})

    def for_close(self, step: str, close: Step, resolution: str, warning_ended: bool,
                  ended_tier: int = 0) -> SendMessages:
        return self._request(step, "step_started", close.notify, close.template or "", "closed",
                             extra={"resolution": resolution, "warning_ended": warning_ended,
                                    "ended_tier": tier_names(ended_tier)}, audiences=close.audiences)

    def repeat_notice(self) -> SendMessages:
        """The hall lead hears that this complainant came before, with that incident's id and outcome."""
        return self._request(None, "repeat_complaint", ["hall_lead"], "", "notice", inline=REPEAT_NOTICE,
                             extra={"earlier_id": self.start.repeat_of, "earlier_outcome": self.start.repeat_outcome,
                                    "repeat_reason": reason_words(self.start.repeat_reasons)})

    def handover(self, to: str, from_owner: str, reason: str, number: int) -> SendMessages:
        """The new owner (one person, as the directory names them now) hears that the incident is theirs."""
        return self._request(None, "handover", [PERSON_PREFIX + to], "", f"handover{number}", inline=HANDOVER,
                             extra={"from_owner": from_owner, "reason": reason})

    def registered_by_other(self, starter_role: str) -> SendMessages:
        """The duty lead owns a group incident someone else registered: who registered what, at once."""
        return self._request(None, "registered_by_other", [PERSON_PREFIX + self.state.owner], "", "registered",
                             inline=REGISTERED_BY_OTHER,
                             extra={"starter_name": self.actor_name(self.start.started_by),
                                    "starter_role": {lang: role_label(starter_role, lang) for lang in LANGUAGES}})

    def publicity_alert(self, recipients: list[str], discriminator: str = "alert") -> SendMessages:
        """Media present, or a group out for publicity: the director and the publicity office, at once."""
        media = self.start.registration.media_present
        return self._request(None, "publicity_alert", recipients, "", discriminator,
                             inline=PUBLICITY_ALERT_MEDIA if media else PUBLICITY_ALERT_SEEKER)

    def inline(self, purpose: Purpose, recipients: list[str], discriminator: str, template: Mapping[str, str],
               extra: dict[str, Any]) -> SendMessages:
        """A message in groupdesk's own words (not the playbook's), of no step, keyed by `discriminator`."""
        return self._request(None, purpose, recipients, "", discriminator, inline=template, extra=extra)

    def to_person(self, step: str | None, purpose: Purpose, person: str, discriminator: str,
                  template: Mapping[str, str], extra: dict[str, Any]) -> SendMessages:
        """A message in groupdesk's own words to one staff member, about `step` (or none)."""
        return self._request(step, purpose, [PERSON_PREFIX + person], "", discriminator, inline=template,
                             extra=extra)

    def reopened(self, step: str, score: int, comment: str, number: int) -> SendMessages:
        """The hall lead hears that a dissatisfied answer sent the incident back to a step."""
        return self._request(step, "reopened", ["hall_lead"], "", f"reopened{number}", inline=REOPENED,
                             extra={"score": score, "comment": comment})

    def follow_up(self, step: str, template: str) -> SendMessages:
        return self._request(step, "follow_up", ["lead_complainant"], template, "survey",
                             extra={"lead_name": self.start.lead.name})
