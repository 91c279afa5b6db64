"""Outcomes recorded on a step that stays open, with what they set off (pure, given `now`):
the upward report (`notify`, e.g. 信访 to the director and the city emergency office; sent by the
machine's record_stay, logged here) and
adjourning (`wait_until`: the group left with contact details and an agreed time; the step waits
until then, with the appointment's reminder)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from groupdesk.core.playbook import Outcome
from groupdesk.core.roles import LEAD_COMPLAINANT

if TYPE_CHECKING:
    from workflows.incident_machine import IncidentMachine


class StayExtras:
    def after_stay(self: IncidentMachine, step_id: str, outcome_name: str, outcome: Outcome, actor: str,
                   note: str, data: dict[str, str], now: datetime) -> None:
        state = self.state.steps[step_id]
        if data:
            state.data.update(data)
        if outcome.wait_until:
            until = datetime.fromisoformat(data[outcome.wait_until])
            state.adjourned += 1  # its reminder and escalations can come again, under new keys
            state.deadline_at, state.reminded, state.escalation_level = until, False, 0
            self.log(now, "adjourned", step_id, actor, detail=f"waits until {until.isoformat()}")
        staff = [role for role in outcome.notify if role != LEAD_COMPLAINANT]
        if staff:  # the notice itself is sent by record_stay
            self.log(now, "reported_upward", step_id, actor,
                     detail=f"{self.pb.outcome_label(step_id, outcome_name)} -> {', '.join(staff)}")

    def times_recorded(self: IncidentMachine, step_id: str, outcome_name: str) -> int:
        """How often this outcome was recorded on the step so far: numbers its notices, so none is swallowed."""
        label = self.pb.outcome_label(step_id, outcome_name)
        return sum(1 for e in self.state.timeline if e.kind == "recorded" and e.step == step_id
                   and (e.detail == label or e.detail.startswith(label + " — ")))
