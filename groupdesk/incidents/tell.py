"""Telling the complainant from the client side: the gateway's `tell`, checked by the role rule before the workflow's validator."""

from __future__ import annotations

from datetime import datetime, timezone

from groupdesk.core.models import Ack
from groupdesk.core.tell import NEW_LINK, TellComplainant, tell_problems
from groupdesk.core.validation import InputError
from groupdesk.people.permissions import Viewer, require, require_uninvolved


def check_tell(req: TellComplainant, now: datetime | None = None) -> None:
    """The first problem of a tell as typed, as InputError naming the field (nothing is sent)."""
    for field, problem in tell_problems(req.message, req.text, req.at, now or datetime.now(timezone.utc)).items():
        raise InputError(field, problem)


class TellGateway:
    """Mixed into `groupdesk.incidents.gateway.Gateway` (needs `incident`, `view` and `_acting`)."""

    async def tell(self, viewer: Viewer, incident_id: str, req: TellComplainant) -> Ack:
        """进度告知: the owner, the hall lead or the centre director tells the lead complainant, by SMS."""
        check_tell(req)
        state, playbook = await self.view(viewer, incident_id)
        require_uninvolved(viewer, state, f"speak to the complainant of {incident_id}")
        roles = self._acting(viewer, state, playbook)
        require(viewer.may_tell(state, roles), viewer.tell_refusal(state))
        return await self.incident(incident_id).tell(req.model_copy(update={"actor": viewer.id, "roles": roles}))

    async def revoke_status_links(self, viewer: Viewer, incident_id: str) -> tuple[int, bool]:
        """End every status link of the incident and, while it is open, text the complainant a new one:
        (links revoked, whether a new one was sent). The owner, the hall lead or the centre director."""
        import asyncio

        from groupdesk.messaging.status_links import StatusLinks

        state, playbook = await self.view(viewer, incident_id)
        require_uninvolved(viewer, state, f"revoke the status links of {incident_id}")
        roles = self._acting(viewer, state, playbook)
        require(viewer.may_tell(state, roles), viewer.tell_refusal(state))
        revoked = await asyncio.to_thread(StatusLinks.for_settings(self.settings).revoke, incident_id)
        if state.status != "open":
            return revoked, False
        await self.incident(incident_id).tell(TellComplainant(actor=viewer.id, message=NEW_LINK, roles=roles))
        return revoked, True
