"""The director's approval request as a WeCom template card (button_interaction), and its two updates.

The card shows the incident, the hall, the headcount, the reason (事由) and the deadline, with
同意 / 不同意 and, for 不同意, a drop-down of the playbook's refusal reasons (groupdesk's own when a
playbook names none). Tapping the card opens the incident page, signed in through WeCom, for a
free-text reason. After a click the card is replaced by `decided_card` (who decided, when) or
`expired_card` ("已失效": the approval was already decided or superseded; nothing changed).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from groupdesk.core.roles import LANGUAGES
from groupdesk.core.workcal import format_local
from groupdesk.runtime.keyed import keyed

APPROVE, REJECT, REASON_QUESTION = "approve", "reject", "reason"
MAX_REASONS = 10  # WeCom's drop-down holds at most 10 options
MAX_REASON_CHARS = 16  # and shows about 16 characters of each
DEFAULT_REASONS = [
    {"zh-CN": "现场秩序可控，暂不启动", "en": "Order on site is under control"},
    {"zh-CN": "已另有处置安排", "en": "Other arrangements are in hand"},
    {"zh-CN": "不符合预案启动条件", "en": "Plan conditions are not met"},
]
WORDS = {
    "zh-CN": {"source": "集体投诉处置", "approve": "同意", "reject": "不同意", "reasons": "不同意理由",
              "incident": "事件", "hall": "营业厅", "people": "人数", "deadline": "审批期限", "result": "审批结果",
              "decide_by": "请于{deadline}前审批", "count": "{n}人", "approved": "已同意", "rejected": "已不同意",
              "decided": "{name} {at} {decision}", "expired": "已失效",
              "expired_desc": "该审批已处理或已被新的请求取代,本次点击未生效", "drill": "【演练】",
              "refused": "未生效", "refused_desc": "您不是该营业厅登记的客户中心主任,审批未生效"},
    "en": {"source": "Group complaints", "approve": "Approve", "reject": "Refuse", "reasons": "Reason to refuse",
           "incident": "Incident", "hall": "Hall", "people": "People", "deadline": "Due", "result": "Decision",
           "decide_by": "Decide by {deadline}", "count": "{n}", "approved": "Approved", "rejected": "Refused",
           "decided": "{decision} by {name}, {at}", "expired": "Expired",
           "expired_desc": "Already decided or superseded: this tap changed nothing", "drill": "【演练】",
           "refused": "Not applied", "refused_desc": "You are not the centre director on record for this hall"},
}


def task_id_for(hash_key: bytes, message_key: str) -> str:
    """The card's task_id: the same for a resend of the same outbox message (so WeCom drops the twin), unique
    per app across deployments sharing it (keyed), and within WeCom's format (letters, digits, _-@; 43 bytes)."""
    return "gd-" + keyed(hash_key, "wecom-task", message_key, 40)


@dataclass(frozen=True)
class ApprovalRequest:
    """What the director reads on the card, in their language."""

    incident_id: str
    hall_name: str
    headcount: int | str
    summary: str
    deadline: str  # local time, already formatted, or "—"
    title: str  # the approval step's title
    reasons: list[str] = field(default_factory=list)  # refusal reasons (the playbook's, in this language)
    url: str = ""  # the incident page through WeCom sign-in
    drill: bool = False
    lang: str = "zh-CN"


def _cut(text: Any, limit: int) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _words(lang: str) -> dict[str, str]:
    return WORDS.get(lang) or WORDS[LANGUAGES[0]]


def pick(text: dict[str, str] | str, lang: str) -> str:
    if isinstance(text, str):
        return text
    return text.get(lang) or text.get(LANGUAGES[0]) or next(iter(text.values()), "")


def reasons_in(reasons: list[dict[str, str]] | None, lang: str) -> list[str]:
    """The playbook's refusal reasons in `lang`, or groupdesk's own when it names none."""
    return [pick(r, lang) for r in (reasons or DEFAULT_REASONS)][:MAX_REASONS]


def incident_link(public_url: str, incident_id: str) -> str:
    """The incident page, reached through WeCom sign-in (the director is signed in on arrival)."""
    if not public_url:
        return ""
    return f"{public_url.rstrip('/')}/auth/wecom?next={quote('/incidents/' + incident_id, safe='')}"


def approval_card(task_id: str, request: ApprovalRequest) -> tuple[dict, dict[str, str]]:
    """The card to send, and its refusal reasons by option id (kept to read the click's choice)."""
    w = _words(request.lang)
    limit = MAX_REASON_CHARS if request.lang == "zh-CN" else 2 * MAX_REASON_CHARS
    reasons = {f"r{n}": _cut(text, limit) for n, text in enumerate(request.reasons or
                                                                   reasons_in(None, request.lang), 1)}
    title = (w["drill"] if request.drill else "") + request.title
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": {"desc": w["source"], "desc_color": 2 if not request.drill else 0},
        "main_title": {"title": _cut(title, 36), "desc": _cut(w["decide_by"].format(deadline=request.deadline), 44)},
        "sub_title_text": _cut(request.summary, 160),
        "horizontal_content_list": [
            {"keyname": w["incident"], "value": _cut(request.incident_id, 30)},
            {"keyname": w["hall"], "value": _cut(request.hall_name, 30)},
            {"keyname": w["people"], "value": w["count"].format(n=request.headcount)},
            {"keyname": w["deadline"], "value": _cut(request.deadline, 30)},
        ],
        "task_id": task_id,
        "button_selection": {"question_key": REASON_QUESTION, "title": w["reasons"],
                             "option_list": [{"id": k, "text": v} for k, v in reasons.items()],
                             "selected_id": next(iter(reasons))},
        "button_list": [{"text": w["approve"], "style": 1, "key": APPROVE},
                        {"text": w["reject"], "style": 2, "key": REJECT}],
    }
    if request.url:
        card["card_action"] = {"type": 1, "url": request.url}
    return card, reasons


def _closed(card: dict, replace_text: str, desc: str, result: str | None, lang: str) -> dict:
    updated = copy.deepcopy(card)
    updated["main_title"] = {**updated.get("main_title", {}), "desc": _cut(desc, 44)}
    if result:
        rows = [r for r in updated.get("horizontal_content_list", []) if r.get("keyname") != _words(lang)["result"]]
        updated["horizontal_content_list"] = [*rows, {"keyname": _words(lang)["result"], "value": _cut(result, 30)}][:6]
    if "button_selection" in updated:
        updated["button_selection"] = {**updated["button_selection"], "disable": True}
    updated["replace_text"] = replace_text
    return updated


def decided_card(card: dict, approve: bool, name: str, at: datetime, lang: str = "zh-CN") -> dict:
    """The card after its click decided: greyed buttons saying the decision, and who decided when."""
    w = _words(lang)
    decision = w["approved"] if approve else w["rejected"]
    line = w["decided"].format(name=name, at=format_local(at, lang), decision=decision)
    return _closed(card, decision, line, line, lang)


def expired_card(card: dict, lang: str = "zh-CN") -> dict:
    """The card of an approval already decided or superseded: "已失效", and the click changed nothing."""
    w = _words(lang)
    return _closed(card, w["expired"], w["expired_desc"], None, lang)


def refused_card(card: dict, lang: str = "zh-CN") -> dict:
    """The card of someone who may not decide it (not the director on record now): nothing changed."""
    w = _words(lang)
    return _closed(card, w["refused"], w["refused_desc"], None, lang)


def approval_request(send, lang: str, reasons: list[dict[str, str]] | None, public_url: str) -> ApprovalRequest:
    """The card's words from the approval request's SendMessages (as workflows/messages.py builds it) for a
    director reading `lang`; `reasons`: the approval step's refusal_reasons from the playbook snapshot."""
    context = send.context

    def text(name: str) -> str:
        value = context.get(name, "")
        return pick(value, lang) if isinstance(value, dict) else str(value if value is not None else "")

    deadline = context.get("deadline") or ""
    return ApprovalRequest(
        incident_id=send.incident_id, hall_name=text("hall_name") or send.hall_id,
        headcount=context.get("headcount", "—"), summary=text("summary"),
        deadline=format_local(datetime.fromisoformat(deadline), lang) if deadline else "—",
        title=pick(send.step_title, lang) if send.step_title else "", reasons=reasons_in(reasons, lang),
        url=incident_link(public_url, send.incident_id), drill=send.drill, lang=lang)
