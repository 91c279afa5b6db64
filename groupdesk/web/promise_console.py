"""Promises as the console's service layer: make, keep, re-promise, waive; the incident page's list and the
board's promises due today. The same checks as the CLI (groupdesk.incidents.promises, then the workflow's validator)."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from groupdesk.core import validation as v
from groupdesk.core.models import IncidentState, PromiseAck, PromiseChange
from groupdesk.core.promise_models import UNRESOLVED
from groupdesk.core.roles import LEAD_COMPLAINANT
from groupdesk.core.workcal import LOCAL_TZ
from groupdesk.incidents.promises import add_problems, normalise_due, parse_when, rows
from groupdesk.people.directory import Directory
from groupdesk.people.permissions import Viewer
from groupdesk.web.errors import Invalid, check, refuse
from groupdesk.web.labels import PROMISE_STATUS, person_name, pick


class PromiseConsole:
    """The console's promise operations (mixed into `groupdesk.web.service.Console`)."""

    async def promise(self, viewer: Viewer, incident_id: str, kind: str, promise_id: str = "", what: str = "",
                      due: str = "", owner: str = "", to: str = LEAD_COMPLAINANT, note: str = "") -> PromiseAck:
        refuse("incident_id", v.incident_id_problem(incident_id))
        if kind == "add":
            check(add_problems(what, due, owner, to or LEAD_COMPLAINANT))
        elif promise_id or kind != "waive":
            refuse("promise", v.promise_id_problem(promise_id))
        if kind == "change":
            try:
                due = normalise_due(due)
            except ValueError as exc:
                raise Invalid("due", str(exc)) from None
        elif kind == "add":
            due = normalise_due(due)
        required = {"change": "说明调整原因 / say why the due time changes",
                    "waive": "说明豁免理由 / say why the promise is waived"}.get(kind)
        refuse("note" if kind == "kept" else "reason", v.note_problem(note, required))
        change = PromiseChange(kind=kind, actor=viewer.id, promise=promise_id, what=what, owner=owner,
                               to=to or LEAD_COMPLAINANT, due=due, note=note)
        return await self._update(lambda gateway: gateway.promise(viewer, incident_id, change))

    async def promises(self, viewer: Viewer, hall: str | None = None,
                       due_before: str | datetime | None = None) -> list[dict]:
        if hall and self.directory().hall(hall) is None:
            raise Invalid("hall", f"unknown hall {v.shown(hall)}", 400)
        try:
            before = parse_when(due_before) if isinstance(due_before, str) and due_before else due_before or None
        except ValueError as exc:
            raise Invalid("due_before", str(exc), 400) from None
        return await (await self.gateway()).promises(viewer, hall=hall, due_before=before)


def end_of_today(now: datetime) -> datetime:
    """Midnight after `now`, in the halls' time zone."""
    return datetime.combine(now.astimezone(LOCAL_TZ).date() + timedelta(days=1), time(), LOCAL_TZ)


def shown(rows: list[dict], directory: Directory, lang: str) -> list[dict]:
    """Rows with the owner's name and the status in words."""
    return [{**r, "owner_name": person_name(directory, r["owner"]),
             "status_label": pick(PROMISE_STATUS.get(r["status"]), lang, r["status"])} for r in rows]


def page_rows(state: IncidentState, directory: Directory, viewer: Viewer, lang: str) -> list[dict]:
    """The incident page's promises, each with what the viewer may do to it."""
    hall = state.hall_id
    lead = viewer.holds("hall_lead", hall) or viewer.may_decide(hall)
    found = []
    for r in shown(rows(state), directory, lang):
        open_ = state.status == "open" and r["status"] in UNRESOLVED
        found.append({**r, "may_keep": open_ and (lead or viewer.id == r["owner"]),
                      "may_waive": open_ and viewer.may_decide(hall)})
    return found


async def due_today(console, viewer: Viewer, lang: str) -> list[dict]:
    """For the board: promises not kept yet that fall due before midnight (or are overdue), soonest first."""
    found = await console.promises(viewer, due_before=end_of_today(datetime.now(timezone.utc)))
    return shown(found, console.directory(), lang)
