"""One incident as people read it: steps in words, the timeline oldest first with every SMS inline."""

from __future__ import annotations

from datetime import datetime, timezone

from groupdesk.people.directory import Directory
from groupdesk.web.event_words import event_text
from groupdesk.web.labels import delivery_label, event_label, person_name, purpose_label, step_status
from groupdesk.runtime.masking import mask_phone
from groupdesk.core.models import IncidentState
from groupdesk.core.playbook import Playbook
from groupdesk.core.roles import role_label
from groupdesk.messaging.wecom.channel import FELL_BACK

BAD_EVENTS = {"sms_failed", "sms_undelivered", "escalation", "reminder"}
BAD_DELIVERY = {"failed", "undelivered"}


def step_rows(state: IncidentState, pb: Playbook, lang: str) -> list[dict]:
    """Every step of the playbook in order: title, owner, state in words, the outcome, the deadline if under way."""
    rows = []
    for sid, step in pb.steps.items():
        st = state.steps.get(sid)
        status = st.status if st else "future"
        if state.status == "closed" and status == "active":
            status = "done"
        rows.append({
            "id": sid, "title": pb.step_title(sid, lang), "owner": role_label(step.owner, lang),
            "status": status, "status_label": step_status(status, lang),
            "outcome": pb.outcome_label(sid, st.outcome, lang) if st and st.outcome else "",
            "deadline": st.deadline_at if st and status == "active" else None,
            "finished": st.finished_at if st and status == "done" else None,
            "data": dict(st.data) if st else {},  # what the outcome recorded (e.g. the accountability entry)
        })
    return rows


def _moment(raw) -> datetime:
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=timezone.utc)
    moment = datetime.fromisoformat(str(raw))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def timeline(state: IncidentState, pb: Playbook, directory: Directory | None, messages: list, lang: str,
             step: str | None = None) -> list[dict]:
    """Events and SMS merged in reading order (oldest first), optionally of one step only."""
    items = []
    for order, e in enumerate(state.timeline):
        items.append({
            "at": e.at, "order": (0, order), "type": "event", "kind": event_label(e.kind, lang), "step": e.step,
            "step_title": pb.step_title(e.step, lang) if e.step else "",
            "who": person_name(directory, e.actor, lang), "text": event_text(e, pb, directory, lang),
            "bad": e.kind in BAD_EVENTS,
        })
    for order, m in enumerate(messages):
        person = directory.person(m.recipient) if directory else None
        name = person.name if person else ("" if m.recipient == "lead_complainant" else m.recipient)
        items.append({
            "at": _moment(m.created_at), "order": (1, order), "type": "sms", "kind": purpose_label(m.purpose, lang),
            "step": m.step, "step_title": pb.step_title(m.step, lang) if m.step else "",
            "to": f"{name}({role_label(m.role, lang)})" if name else role_label(m.role, lang),
            "number": mask_phone(m.to_number), "state": fell_back_label(lang) if fell_back(m) else delivery_label(
                m.status, lang),
            "code": m.error_code or "", "body": m.body, "lang": m.lang,
            "bad": m.status in BAD_DELIVERY and not fell_back(m),  # the SMS went instead: it shows beside
            "provider": m.provider, "template": m.template_code or "",  # a domestic provider's approved template
            "channel": m.channel,  # sms, or wecom (a staff message as a WeCom message)
        })
    items.sort(key=lambda i: (i["at"], i["order"]))
    if step:
        items = [i for i in items if i["step"] == step]
    return items


def fell_back(m) -> bool:
    """A staff message WeCom did not take, sent by SMS instead (that SMS is its own row)."""
    return m.channel == "wecom" and m.status == "failed" and (m.error or "").startswith(FELL_BACK)


def fell_back_label(lang: str) -> str:
    return "已改发短信" if lang == "zh-CN" else "sent by SMS instead"


def timeline_steps(state: IncidentState, pb: Playbook, lang: str) -> list[tuple[str, str]]:
    """The steps the timeline can be filtered by: those the incident has reached, in playbook order."""
    return [(sid, pb.step_title(sid, lang)) for sid in pb.steps if sid in state.steps]
