"""Telling the complainant (进度告知) at any time: the four texts, the timeline entry and the message.

Seed 003 wants the company to report progress back to the complainant. Staff choose one of four fixed texts
(fixed, so a domestic provider can approve each); `custom` carries one short parameter of their own words.
"""

from __future__ import annotations

from datetime import datetime
from types import MappingProxyType

from groupdesk.core.roles import LEAD_COMPLAINANT
from groupdesk.core.tell import FromComplainant, TellComplainant
from workflows.machine.record import Record

TOLD = "told"  # the timeline entry's kind; their count numbers the next message's key

TELL_PROGRESS = MappingProxyType({
    "zh-CN": "{{ hall_name }}:您好,您反映的问题我们正在处理中,有结果会第一时间告知您。",
    "en": "{{ hall_name }}: we are working on the matter you raised and will tell you as soon as there is news.",
})
TELL_DELAY = MappingProxyType({
    "zh-CN": "{{ hall_name }}:您好,您反映的问题处理时间有所调整,我们将于 {{ appointment_at }} 前给您答复,"
             "给您带来不便,敬请谅解。",
    "en": "{{ hall_name }}: the matter you raised needs more time; we will answer you by {{ appointment_at }}."
          " We are sorry for the wait.",
})
TELL_VISIT = MappingProxyType({
    "zh-CN": "{{ hall_name }}:您好,我们的工作人员将于 {{ appointment_at }} 上门,请您届时留意。",
    "en": "{{ hall_name }}: our staff will visit you at {{ appointment_at }}.",
})
TELL_CUSTOM = MappingProxyType({
    "zh-CN": "{{ hall_name }}:您好,{{ text }}",
    "en": "{{ hall_name }}: {{ text }}",
})
TELL_LINK = MappingProxyType({  # the new status link is appended to it, as to every message the complainant reads
    "zh-CN": "{{ hall_name }}:您好,您的办理进度查询链接已更新,原链接已失效。",
    "en": "{{ hall_name }}: the link to follow your matter has changed; the old one no longer works.",
})
TEMPLATES = MappingProxyType({"progress": TELL_PROGRESS, "delay": TELL_DELAY, "visit": TELL_VISIT, "custom": TELL_CUSTOM,
             "link": TELL_LINK})
WORDS = MappingProxyType({"progress": "progress", "delay": "a delay", "visit": "a visit", "custom": "a message",
         "link": "a new status link (the old ones revoked)"})


def told(rec: Record) -> int:
    return sum(1 for entry in rec.state.timeline if entry.kind == TOLD)


def tell(rec: Record, req: TellComplainant, now: datetime) -> None:
    """On the timeline (what was said, by whom) and one message to the lead complainant, keyed by its number."""
    number = told(rec) + 1
    extra: dict = {}
    detail = f"told the complainant {WORDS[req.message]}"
    if req.at is not None:
        extra["appointment_at"] = req.at.isoformat()
        detail += f" at {req.at.isoformat(timespec='minutes')}"
    if req.message == "custom":
        extra["text"] = req.text.strip()
        detail += f": {req.text.strip()}"
    rec.log(now, TOLD, actor=req.actor, detail=detail)
    rec.effects.append(rec.messages.inline("tell", [LEAD_COMPLAINANT], f"tell{number}", TEMPLATES[req.message],
                                           extra))


def from_complainant(rec: Record, req: FromComplainant, now: datetime) -> None:
    """The lead complainant opened their status page, or added information there: on the timeline."""
    if req.kind == "visit":
        rec.log(now, "status_page_visit", actor=LEAD_COMPLAINANT, detail="the complainant opened the status page")
    else:
        rec.log(now, "complainant_info", actor=LEAD_COMPLAINANT, detail=req.text.strip())
