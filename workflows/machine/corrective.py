"""A corrective action (整改) as its workflow keeps it: pure, given `now`; messages to send are returned.

- Its owner is reminded once 80 % of the time from its start to its due time has passed (`corrective_reminder`).
- At the due time, if not recorded done, it is missed: the owner and the first role up the incident's escalation
  chain (the snapshot taken when it was opened) are told (`corrective_missed`), each next rung a grace later.
- The owner records it done (a note, optionally an attachment's hash as its proof); the centre director verifies it
  (`corrective_verified` to the owner and whoever opened it) or sends it back (`corrective_rejected` to the owner),
  and it is open again; its timers go on from where they were (a rung already told is not told twice).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from groupdesk.core.corrective import REMIND_AT, CorrectiveDone, CorrectiveState, CorrectiveVerify, StartCorrective
from groupdesk.core.models import SendMessages, TimelineEntry
from groupdesk.core.roles import PERSON_PREFIX

REMINDER = MappingProxyType({
    "zh-CN": "整改提醒 {{ recipient_name }}:整改事项「{{ what }}」({{ corrective_id }},事件 {{ incident_id }})将于"
             " {{ deadline }} 到期,请按时完成并记录。{{ hall_name }}",
    "en": "Corrective action reminder {{ recipient_name }}: \"{{ what }}\" ({{ corrective_id }}, incident"
          " {{ incident_id }}) is due at {{ deadline }}; finish it and record it. {{ hall_name }}",
})
MISSED = MappingProxyType({
    "zh-CN": "整改逾期 {{ recipient_name }}:{{ hall_name }} 整改事项「{{ what }}」({{ corrective_id }},责任人"
             " {{ owner_name }})已于 {{ deadline }} 到期未完成,请督办。",
    "en": "Corrective action overdue {{ recipient_name }}: \"{{ what }}\" ({{ corrective_id }}, owner {{ owner_name }})"
          " at {{ hall_name }} was due at {{ deadline }} and is not done; please follow it up.",
})
REJECTED = MappingProxyType({
    "zh-CN": "整改退回 {{ recipient_name }}:整改事项「{{ what }}」({{ corrective_id }})未通过验收,原因:{{ reason }}。"
             "请重新整改并记录。",
    "en": "Corrective action sent back {{ recipient_name }}: \"{{ what }}\" ({{ corrective_id }}) was not accepted:"
          " {{ reason }}. Please correct it and record it again.",
})
VERIFIED = MappingProxyType({
    "zh-CN": "整改验收 {{ recipient_name }}:整改事项「{{ what }}」({{ corrective_id }},事件 {{ incident_id }})已验收通过。"
             "{{ hall_name }}",
    "en": "Corrective action verified {{ recipient_name }}: \"{{ what }}\" ({{ corrective_id }}, incident"
          " {{ incident_id }}) is accepted. {{ hall_name }}",
})


class CorrectiveMachine:
    def __init__(self, start: StartCorrective, state: CorrectiveState | None = None):
        self.start = start
        self.state = state or CorrectiveState(
            id=start.id, incident_id=start.incident_id, hall_id=start.hall_id, what=start.what, owner=start.owner,
            made_by=start.made_by, made_at=start.made_at, due_at=start.due_at, drill=start.drill,
            source=start.source, feeder=start.feeder,
            remind_at=start.made_at + (start.due_at - start.made_at) * REMIND_AT
            if start.due_at > start.made_at else start.due_at)
        if state is None:
            self.log(start.made_at, "corrective_opened", start.made_by, f"{start.what} (owner {start.owner}, due"
                                                                       f" {start.due_at.isoformat()})")

    # ---- time -------------------------------------------------------------------------------------------------

    def rungs(self) -> list[tuple[datetime, str]]:
        """(when, role) of each escalation rung: the first at the due time, then each grace."""
        grace = timedelta(seconds=self.start.grace_seconds)
        return [(self.state.due_at + grace * level, role) for level, role in enumerate(self.start.chain)]

    def next_due(self) -> datetime | None:
        """The next moment something is due (None once done or verified, or when nothing is left)."""
        s = self.state
        if s.status != "open":
            return None
        if not s.reminded and s.remind_at < s.due_at:
            return s.remind_at
        if s.missed_at is None:
            return s.due_at
        ahead = [at for level, (at, _) in enumerate(self.rungs(), start=1) if level > s.escalation_level]
        return ahead[0] if ahead else None

    def fire_due(self, now: datetime) -> list[SendMessages]:
        """Every timer due at `now`: the reminder, the miss, the escalation rungs reached."""
        s, out = self.state, []
        if s.status != "open":
            return out
        if not s.reminded and now >= s.remind_at and now < s.due_at:
            s.reminded = True
            self.log(now, "corrective_reminder", None, f"reminded {s.owner}")
            out.append(self.message("corrective_reminder", [PERSON_PREFIX + s.owner], "reminder", REMINDER))
        if s.missed_at is None and now >= s.due_at:
            s.missed_at, s.reminded = now, True
            self.log(now, "corrective_missed", None, f"due {s.due_at.isoformat()}, not done (owner {s.owner})")
            out.append(self.message("corrective_missed", [PERSON_PREFIX + s.owner], "missed", MISSED))
        for level, (at, role) in enumerate(self.rungs(), start=1):
            if level > s.escalation_level and now >= at:
                s.escalation_level = level
                self.log(now, "corrective_escalation", None, f"level {level}: escalated to {role}")
                out.append(self.message("corrective_missed", [role], f"missed-level{level}", MISSED))
        return out

    # ---- what people do ---------------------------------------------------------------------------------------

    def done(self, req: CorrectiveDone, now: datetime) -> None:
        s = self.state
        s.status, s.done_by, s.done_at, s.note, s.evidence = "done", req.actor, now, req.note.strip(), req.evidence
        late = " (late)" if now > s.due_at else ""
        self.log(now, "corrective_done", req.actor, f"{s.note}{late}" + (f" [evidence {req.evidence[:12]}]"
                                                                        if req.evidence else ""))

    def verify(self, req: CorrectiveVerify, now: datetime) -> list[SendMessages]:
        s = self.state
        if req.decision == "reject":
            s.status, s.rejections = "open", s.rejections + 1
            self.log(now, "corrective_rejected", req.actor, req.reason.strip())
            return [self.message("corrective_rejected", [PERSON_PREFIX + s.owner], f"rejected{s.rejections}",
                                 REJECTED, {"reason": req.reason.strip()})]
        s.status, s.verified_by, s.verified_at = "verified", req.actor, now
        self.log(now, "corrective_verified", req.actor, "")
        told = [PERSON_PREFIX + s.owner] + ([PERSON_PREFIX + s.made_by] if s.made_by != s.owner else [])
        return [self.message("corrective_verified", told, "verified", VERIFIED)]

    # ---- primitives -------------------------------------------------------------------------------------------

    def log(self, at: datetime, kind: str, actor: str | None, detail: str) -> None:
        self.state.timeline.append(TimelineEntry(at=at, kind=kind, actor=actor, detail=detail))

    def message(self, purpose: Any, recipients: list[str], discriminator: str, template: Mapping[str, str],
                extra: dict[str, Any] | None = None) -> SendMessages:
        """One message in groupdesk's own words, keyed by the corrective action (the outbox sends it once)."""
        st = self.start
        context = {"corrective_id": st.id, "incident_id": st.incident_id, "what": st.what,
                   "owner_name": st.owner_name or st.owner, "deadline": self.state.due_at.isoformat(),
                   "hall_name": {"zh-CN": st.hall_name, "en": st.hall_name_en or st.hall_name}, **(extra or {})}
        return SendMessages(incident_id=st.id, hall_id=st.hall_id, step=None, purpose=purpose,
                            key=f"{st.id}/-#1/{purpose}/{discriminator}", recipients=recipients,
                            template=dict(template), context=context, drill=st.drill, visit=1)
