"""For ops, across incidents: workflows that died and actions parked as failed (mixed into the gateway)."""

from __future__ import annotations

from datetime import datetime

from groupdesk.core import search_attributes as sa
from groupdesk.engine import visibility


class FailuresGateway:
    """Needs `client` and `incident(id)` from `groupdesk.incidents.gateway.Gateway`."""

    async def failures(self, hall: str | None = None, since: datetime | None = None) -> list[dict]:
        """For ops: incidents whose workflow died, then actions parked as failed across open incidents."""
        return await self._dead(hall, since) + await self.parked(hall, since)

    async def parked(self, hall: str | None = None, since: datetime | None = None) -> list[dict]:
        rows = []
        async for wf in self.client.list_workflows(visibility.with_failures(hall)):
            state = await self.incident(wf.id).state()
            for action in state.failed_actions:
                if action.status == "parked" and (since is None or action.at >= since):
                    rows.append({"incident_id": state.id, "hall": state.hall_id, "step": action.step or "-",
                                 "purpose": action.purpose, "recipients": action.request.get("recipients", []),
                                 "attempts": action.attempts, "error": action.error, "at": action.at.isoformat()})
        return rows

    async def _dead(self, hall: str | None, since: datetime | None) -> list[dict]:
        rows = []
        async for wf in self.client.list_workflows(visibility.dead(since, hall), limit=500):
            rows.append({"incident_id": wf.id, "hall": wf.typed_search_attributes.get(sa.HALL), "step": "-",
                         "purpose": "incident", "recipients": [], "attempts": 0,
                         "error": f"workflow {wf.status.name.lower()}; the incident is not running (see its history)",
                         "at": (wf.close_time or wf.start_time).isoformat(), "execution": wf.status.name.lower()})
        return rows
