"""What the complainant's status page shows, in plain Chinese: a pure function of the incident and the directory.

Only what is theirs and public: what they registered (their words), how it came in and the work-order number they
were given there, where the matter stands, the promises made to them, the next contact, the hall's phone. No staff
name (roles at most), no incident id, nothing internal.
"""

from __future__ import annotations

from datetime import datetime

from groupdesk.core.intake import channel_label
from groupdesk.core.models import IncidentState
from groupdesk.core.roles import LEAD_COMPLAINANT
from groupdesk.core.workcal import format_local
from groupdesk.people.directory import Directory

STANDING = {
    "open": "我们正在处理您反映的问题。",
    "waiting_child": "您的问题已转交上级部门继续处理。",
    "follow_up": "您的问题已处理完毕,请您对我们的处理进行评价。",
    "closed": "您的问题已办结。感谢您的理解与支持。",
}
PROMISE_WORDS = {"open": "待兑现", "kept": "已兑现", "kept_late": "已兑现(晚于约定时间)", "missed": "未按约定时间兑现",
                 "waived": "已取消"}


def local(moment: datetime | None) -> str:
    return format_local(moment, "zh-CN") if moment else ""


def standing(state: IncidentState) -> str:
    if state.status == "closed":
        return STANDING["closed"]
    if state.stage == "waiting_child":
        return STANDING["waiting_child"]
    if state.follow_up is not None and state.follow_up.sent and state.follow_up.outcome == "pending":
        return STANDING["follow_up"]
    return STANDING["open"]


def survey_due(state: IncidentState) -> bool:
    """The 回访 may be answered here once the survey went out and until it is answered or expires (as by SMS)."""
    follow = state.follow_up
    return state.status == "open" and follow is not None and follow.sent and follow.outcome == "pending"


def promises(state: IncidentState) -> list[dict]:
    found = []
    for p in state.promises:
        if p.to != LEAD_COMPLAINANT:
            continue
        late = p.status == "kept" and p.due_at is not None and p.resolved_at is not None and p.resolved_at > p.due_at
        found.append({"what": p.what, "due": local(p.due_at),
                      "status": PROMISE_WORDS["kept_late" if late else p.status],
                      "kept": p.status == "kept", "missed": p.status == "missed"})
    return found


def next_contact(state: IncidentState, now: datetime) -> str:
    """The soonest time we said we would be back to them: a promise to them, an appointment, the survey."""
    if state.status != "open":
        return ""
    times = [p.due_at for p in state.promises if p.to == LEAD_COMPLAINANT and p.status == "open" and p.due_at]
    times += [a.at for a in state.appointments]
    if state.follow_up is not None and not state.follow_up.sent and state.follow_up.send_at:
        times.append(state.follow_up.send_at)
    ahead = sorted(t for t in times if t > now)
    return local(ahead[0]) if ahead else ""


def view(state: IncidentState, directory: Directory | None, now: datetime) -> dict:
    hall = directory.hall(state.hall_id) if directory is not None else None
    return {
        "hall_name": state.hall_name, "hall_phone": hall.phone if hall else "",
        "registered_at": local(state.started_at), "summary": state.summary,
        "demands": state.registration.demands, "standing": standing(state), "closed": state.status == "closed",
        # the number 95598, 12398 or 12345 gave them: what they quote when they call about it again
        "channel": channel_label(state.registration.channel), "ticket_no": state.registration.ticket_no,
        "promises": promises(state), "next_contact": next_contact(state, now), "survey_due": survey_due(state),
        "answered": state.follow_up is not None and state.follow_up.outcome == "answered",
        "may_add": state.status == "open",
    }
