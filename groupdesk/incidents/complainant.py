"""The complainant's side of the one door: what their status page reads and sends (mixed into the gateway).

No staff viewer here: the link (groupdesk.messaging.status_links) is the complainant's proof, and what it carries
to the workflow is the keyed hash of their phone it was issued for, which the validators compare with the incident's.
"""

from __future__ import annotations

from groupdesk.core.models import Ack, IncidentState, RecordFollowUp
from groupdesk.core.roles import LEAD_COMPLAINANT
from groupdesk.core.tell import FromComplainant, info_problem
from groupdesk.core.validation import InputError


class ComplainantGateway:
    """Needs `incident(id)` from `groupdesk.incidents.gateway.Gateway`."""

    async def for_complainant(self, incident_id: str) -> IncidentState:
        return await self.incident(incident_id).state()

    async def complainant_visit(self, incident_id: str, phone_key: str) -> Ack:
        return await self.incident(incident_id).from_complainant(FromComplainant(kind="visit", phone_key=phone_key))

    async def complainant_info(self, incident_id: str, phone_key: str, text: str) -> Ack:
        if problem := info_problem(text):
            raise InputError("text", problem)
        return await self.incident(incident_id).from_complainant(
            FromComplainant(kind="info", phone_key=phone_key, text=text))

    async def complainant_answer(self, incident_id: str, phone_key: str, score: int, comment: str = "") -> Ack:
        """The 回访 from the status page: the same update and rules as the SMS answer (actor lead_complainant)."""
        if not 1 <= score <= 5:
            raise InputError("score", "请选择 1 到 5 分 / choose a score from 1 to 5")
        if problem := info_problem(comment or "-"):
            raise InputError("comment", problem)
        return await self.incident(incident_id).follow_up(
            RecordFollowUp(score=score, actor=LEAD_COMPLAINANT, comment=comment, phone_key=phone_key))
