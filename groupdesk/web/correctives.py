"""Corrective actions (整改) and frequent-outage lines (频繁停电) in the JSON API; the gateway does them."""

from __future__ import annotations

from typing import Literal, Optional

from fastapi import APIRouter, Depends, Request
from pydantic import ConfigDict

from groupdesk.core import validation as v
from groupdesk.core.corrective import cid_problem
from groupdesk.incidents.correctives import add_problems
from groupdesk.people.permissions import Viewer
from groupdesk.web.auth import check_csrf, require_viewer
from groupdesk.web.bodies import StrictBody
from groupdesk.web.errors import Invalid, check, refuse

api = APIRouter(prefix="/api")


class CorrectiveRequest(StrictBody):
    what: str
    owner: str
    due: str  # 30m, 2h, 5wd (scaled in drills) or a local time 2026-12-20 17:00
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"what": "更换故障表计并复核电量", "owner": "sun.li", "due": "5wd"}]})


class DoneRequest(StrictBody):
    note: str
    evidence: str = ""  # the SHA-256 (or its first 8+ characters) of an attachment of the incident
    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "已更换表计并复核电量"}]})


class VerifyRequest(StrictBody):
    decision: Literal["verify", "reject"] = "verify"
    reason: str = ""  # required to reject (send it back to its owner)
    model_config = ConfigDict(json_schema_extra={"examples": [{"decision": "verify"},
                                                              {"decision": "reject", "reason": "缺少复核记录"}]})


def _console(request: Request):
    return request.app.state.console


async def _call(request: Request, action):
    try:
        return await _console(request)._update(action)
    except LookupError as exc:
        raise Invalid("cid", str(exc.args[0] if exc.args else exc), 404) from None


@api.get("/correctives")
async def list_correctives(request: Request, hall: Optional[str] = None, overdue: bool = False,
                           viewer: Viewer = Depends(require_viewer)) -> list[dict]:
    """Corrective actions of the halls the viewer sees: running (Temporal) and verified (the archive)."""
    if hall and _console(request).directory().hall(hall) is None:
        raise Invalid("hall", f"unknown hall {v.shown(hall)}", 400)
    gateway = await _console(request).gateway()
    return await gateway.correctives(viewer, hall=hall, overdue=overdue)


@api.post("/incidents/{incident_id}/correctives", status_code=201, dependencies=[Depends(check_csrf)])
async def add(incident_id: str, body: CorrectiveRequest, request: Request,
              viewer: Viewer = Depends(require_viewer)) -> dict:
    """Open a corrective action: the incident's owner, the hall lead or the centre director."""
    refuse("incident_id", v.incident_id_problem(incident_id))
    check(add_problems(body.what, body.due, body.owner))
    cid = await _call(request, lambda g: g.add_corrective(viewer, incident_id, body.what, body.owner, body.due))
    return {"id": cid, "incident": incident_id, "status": "open"}


@api.post("/correctives/{cid}/done", dependencies=[Depends(check_csrf)])
async def done(cid: str, body: DoneRequest, request: Request, viewer: Viewer = Depends(require_viewer)) -> dict:
    """Its owner records it done."""
    refuse("cid", cid_problem(cid))
    refuse("note", v.note_problem(body.note, "say what was done"))
    state = await _call(request, lambda g: g.corrective_done(viewer, cid, body.note, body.evidence))
    return state.model_dump(mode="json", exclude={"timeline"})


@api.post("/correctives/{cid}/verify", dependencies=[Depends(check_csrf)])
async def verify(cid: str, body: VerifyRequest, request: Request, viewer: Viewer = Depends(require_viewer)) -> dict:
    """The centre director verifies it, or sends it back to its owner with a reason."""
    refuse("cid", cid_problem(cid))
    if body.decision == "reject":
        refuse("reason", v.note_problem(body.reason, "say why it is sent back"))
    state = await _call(request, lambda g: g.corrective_verify(viewer, cid, body.decision == "reject", body.reason))
    return state.model_dump(mode="json", exclude={"timeline"})


@api.get("/lines")
async def lines(request: Request, on_warning: bool = False, viewer: Viewer = Depends(require_viewer)) -> list[dict]:
    """Frequent-outage lines: `{feeder, outages_12m, status: none|warning|study, incidents}`."""
    gateway = await _console(request).gateway()
    return await gateway.lines(on_warning=on_warning)
