"""Telling the complainant (进度告知) from the JSON API and the incident page's form; the gateway's `tell` does it."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

from fastapi import APIRouter, Depends, Request
from pydantic import ConfigDict

from groupdesk.core import validation as v
from groupdesk.core.models import Ack
from groupdesk.core.tell import TELL_KINDS, TellComplainant, tell_problems
from groupdesk.incidents.registration import parse_local_time
from groupdesk.people.permissions import Viewer
from groupdesk.web.auth import check_csrf, require_viewer
from groupdesk.web.bodies import StrictBody
from groupdesk.web.errors import Invalid, check, refuse
from groupdesk.web.pages import _act, viewer_or_login

api = APIRouter(prefix="/api")
pages = APIRouter(include_in_schema=False)


class TellRequest(StrictBody):
    message: str
    text: str = ""
    at: Optional[str] = None  # local time like 2026-11-25 17:00, or ISO with an offset
    model_config = ConfigDict(json_schema_extra={"examples": [{"message": "progress"},
                                                              {"message": "visit", "at": "2026-11-25 17:00"}]})


async def tell(console, viewer: Viewer, incident_id: str, message: str, text: str = "", at: str | None = None) -> Ack:
    """Checked as typed (one line naming the field, nothing sent), then through the gateway."""
    refuse("incident_id", v.incident_id_problem(incident_id))
    if message not in TELL_KINDS:
        raise Invalid("message", f"{v.shown(message)} is not a message; choose one of {', '.join(TELL_KINDS)}")
    when = None
    if at and at.strip():
        try:
            when = parse_local_time(at)
        except ValueError:
            raise Invalid("at", f"{v.shown(at)} is not a date and time; write it like 2026-11-25 17:00") from None
    check(tell_problems(message, text, when, datetime.now(timezone.utc)))
    req = TellComplainant(actor=viewer.id, message=message, text=text, at=when)
    return await console._update(lambda gateway: gateway.tell(viewer, incident_id, req))


@api.post("/incidents/{incident_id}/tell", dependencies=[Depends(check_csrf)])
async def tell_api(incident_id: str, body: TellRequest, request: Request,
                   viewer: Viewer = Depends(require_viewer)) -> dict:
    """进度告知: the owner, the hall lead or the centre director tells the lead complainant by SMS."""
    return (await tell(request.app.state.console, viewer, incident_id, body.message, body.text, body.at)).model_dump()


@pages.post("/incidents/{incident_id}/tell", dependencies=[Depends(check_csrf)])
async def tell_page(incident_id: str, request: Request):
    viewer = viewer_or_login(request)
    f = {k: str(value) for k, value in (await request.form()).items()}
    return await _act(request, incident_id, tell(request.app.state.console, viewer, incident_id,
                                                 f.get("message", ""), f.get("text", ""), f.get("at") or None))
