"""Promises in the JSON API and the incident page's forms: make, keep, re-promise, waive (groupdesk.web.promise_console does them)."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, Request
from pydantic import ConfigDict

from groupdesk.core.roles import LEAD_COMPLAINANT
from groupdesk.people.permissions import Viewer
from groupdesk.web.bodies import StrictBody
from groupdesk.web.auth import check_csrf, require_viewer
from groupdesk.web.pages import _act, viewer_or_login

api = APIRouter(prefix="/api")
pages = APIRouter(include_in_schema=False)


class PromiseRequest(StrictBody):
    what: str
    due: str
    owner: str
    to: str = LEAD_COMPLAINANT
    model_config = ConfigDict(json_schema_extra={"examples": [{"what": "一小时内回电", "due": "1h", "owner": "sun.li"}]})


class KeptRequest(StrictBody):
    note: str = ""
    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "已回电"}]})


class DueRequest(StrictBody):
    due: str
    reason: str
    model_config = ConfigDict(json_schema_extra={"examples": [{"due": "2h", "reason": "数据导出需审批"}]})


class WaiveRequest(StrictBody):
    reason: str
    promise: str = ""  # empty: every promise not kept
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "客户已当面确认"}]})


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
    viewer = viewer_or_login(request)
    f = {k: str(value) for k, value in (await request.form()).items()}
    kind = f.get("kind", "")
    if kind not in ("add", "kept", "change", "waive"):
        kind = "add"
    return await _act(request, incident_id, _console(request).promise(
        viewer, incident_id, kind, f.get("promise", ""), what=f.get("what", ""), due=f.get("due", "").strip(),
        owner=f.get("owner", "").strip(), to=f.get("to", "").strip() or LEAD_COMPLAINANT,
        note=f.get("note", "") or f.get("reason", "")))
