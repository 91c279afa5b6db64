"""Promises in the console and the JSON API: make, keep, re-promise, waive; the incident page's list and the
board's promises due today. The same checks as the CLI (groupdesk.promises, then the workflow's validator)."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Optional

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from groupdesk.core import validation as v
from groupdesk.core.models import IncidentState, PromiseAck, PromiseChange
from groupdesk.core.promise_models import UNRESOLVED
from groupdesk.core.roles import LEAD_COMPLAINANT
from groupdesk.core.workcal import LOCAL_TZ
from groupdesk.directory import Directory
from groupdesk.labels import PROMISE_STATUS, person_name, pick
from groupdesk.permissions import Viewer
from groupdesk.promises import add_problems, normalise_due, parse_when
from groupdesk.web.auth import check_csrf, require_viewer

api = APIRouter(prefix="/api")
pages = APIRouter(include_in_schema=False)


class PromiseRequest(BaseModel):
    what: str
    due: str
    owner: str
    to: str = LEAD_COMPLAINANT


class KeptRequest(BaseModel):
    note: str = ""


class DueRequest(BaseModel):
    due: str
    reason: str


class WaiveRequest(BaseModel):
    reason: str
    promise: str = ""  # empty: every promise not kept


class PromiseConsole:
    """The console's promise operations (mixed into `groupdesk.web.service.Console`)."""

    async def promise(self, viewer: Viewer, incident_id: str, kind: str, promise_id: str = "", what: str = "",
                      due: str = "", owner: str = "", to: str = LEAD_COMPLAINANT, note: str = "") -> PromiseAck:
        from groupdesk.web.service import Invalid, check, refuse

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
        from groupdesk.web.service import Invalid

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
    from groupdesk.promises import rows

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


def _console(request: Request):
    return request.app.state.console


@api.get("/promises")
async def list_promises(request: Request, hall: Optional[str] = None, due_before: Optional[str] = None,
                        viewer: Viewer = Depends(require_viewer)) -> list[dict]:
    """Promises of running incidents the viewer may see; `due_before` (local time): those not kept yet, due before."""
    return await _console(request).promises(viewer, hall, due_before)


@api.post("/incidents/{incident_id}/promises", status_code=201, dependencies=[Depends(check_csrf)])
async def add(incident_id: str, body: PromiseRequest, request: Request, viewer: Viewer = Depends(require_viewer)):
    ack = await _console(request).promise(viewer, incident_id, "add", what=body.what, due=body.due, owner=body.owner,
                                          to=body.to)
    return {"id": ack.promise, **ack.model_dump(exclude={"promise"})}


@api.post("/incidents/{incident_id}/promises/{promise_id}/kept", dependencies=[Depends(check_csrf)])
async def kept(incident_id: str, promise_id: str, body: KeptRequest, request: Request,
               viewer: Viewer = Depends(require_viewer)) -> dict:
    return (await _console(request).promise(viewer, incident_id, "kept", promise_id, note=body.note)).model_dump()


@api.post("/incidents/{incident_id}/promises/{promise_id}/due", dependencies=[Depends(check_csrf)])
async def change_due(incident_id: str, promise_id: str, body: DueRequest, request: Request,
                     viewer: Viewer = Depends(require_viewer)) -> dict:
    return (await _console(request).promise(viewer, incident_id, "change", promise_id, due=body.due,
                                            note=body.reason)).model_dump()


@api.post("/incidents/{incident_id}/promises/waive", dependencies=[Depends(check_csrf)])
async def waive(incident_id: str, body: WaiveRequest, request: Request, viewer: Viewer = Depends(require_viewer)):
    return (await _console(request).promise(viewer, incident_id, "waive", body.promise, note=body.reason)).model_dump()


@pages.post("/incidents/{incident_id}/promises", dependencies=[Depends(check_csrf)])
async def from_the_page(incident_id: str, request: Request):
    """The incident page's promise forms: `kind` is add, kept, change or waive."""
    from groupdesk.web.pages import _act, viewer_or_login

    viewer = viewer_or_login(request)
    f = {k: str(value) for k, value in (await request.form()).items()}
    kind = f.get("kind", "")
    if kind not in ("add", "kept", "change", "waive"):
        kind = "add"
    return await _act(request, incident_id, _console(request).promise(
        viewer, incident_id, kind, f.get("promise", ""), what=f.get("what", ""), due=f.get("due", "").strip(),
        owner=f.get("owner", "").strip(), to=f.get("to", "").strip() or LEAD_COMPLAINANT,
        note=f.get("note", "") or f.get("reason", "")))
