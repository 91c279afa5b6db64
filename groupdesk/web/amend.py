"""Amending a registration from the JSON API and the incident page's form; the gateway's `amend_registration` does it."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, Request
from pydantic import ConfigDict

from groupdesk.core import validation as v
from groupdesk.core.models import Ack
from groupdesk.core.validation import InputError
from groupdesk.people.permissions import Viewer
from groupdesk.web.auth import check_csrf, require_viewer
from groupdesk.web.bodies import StrictBody
from groupdesk.web.errors import Invalid, refuse
from groupdesk.web.pages import _act, viewer_or_login

api = APIRouter(prefix="/api")
pages = APIRouter(include_in_schema=False)


class AmendRequest(StrictBody):
    """Only the fields given change (null or absent: as registered); `reason` is required."""

    reason: str
    headcount: Optional[int] = None
    category: Optional[str] = None
    complainant_type: Optional[str] = None
    address: Optional[str] = None
    account_no: Optional[str] = None
    demands: Optional[str] = None
    media_present: Optional[bool] = None
    lead_name: Optional[str] = None
    lead_phone: Optional[str] = None
    channel: Optional[str] = None  # visit, hotline_95598, regulator_12398, gov_12345, letter, website, wechat, referral
    ticket_no: Optional[str] = None  # the work-order number from that channel ("" removes it)
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"reason": "记者到场", "media_present": True}, {"reason": "户号听错", "account_no": "3200123456"},
        {"reason": "补登95598工单", "channel": "hotline_95598", "ticket_no": "2026112300012345"},
        {"reason": "又来了11位邻居", "headcount": 12}]})


async def amend(console, viewer: Viewer, incident_id: str, body: AmendRequest) -> Ack:
    """Checked as typed (one line naming the field, nothing sent), then through the gateway."""
    from groupdesk.incidents.amend import prepare_amend

    refuse("incident_id", v.incident_id_problem(incident_id))
    try:
        req = prepare_amend(viewer.id, body.reason, **body.model_dump(exclude={"reason"}))
    except InputError as exc:
        raise Invalid(exc.field, exc.message) from None
    return await console._update(lambda gateway: gateway.amend_registration(viewer, incident_id, req))


@api.post("/incidents/{incident_id}/registration", dependencies=[Depends(check_csrf)])
async def amend_api(incident_id: str, body: AmendRequest, request: Request,
                    viewer: Viewer = Depends(require_viewer)) -> dict:
    """Amend the registration: the owner, the hall lead or the centre director; before/after on the timeline."""
    return (await amend(request.app.state.console, viewer, incident_id, body)).model_dump()


def _form_body(f: dict[str, str]) -> AmendRequest:
    """The form's fields: an empty one is left as registered; media is '', 'yes' or 'no'."""
    def given(name: str) -> str | None:
        return f.get(name, "").strip() or None

    headcount = given("headcount")
    if headcount is not None and not (headcount.isascii() and headcount.isdigit() and len(headcount) <= 6):
        raise Invalid("headcount", f"{v.shown(headcount)} is not a whole number of people")
    return AmendRequest(
        reason=f.get("reason", ""), headcount=int(headcount) if headcount else None, category=given("category"),
        complainant_type=given("complainant_type"), address=given("address"), account_no=given("account_no"),
        demands=given("demands"), media_present={"yes": True, "no": False}.get(f.get("media", "")),
        lead_name=given("lead_name"), lead_phone=given("lead_phone"), channel=given("channel"),
        ticket_no=given("ticket_no"))


@pages.post("/incidents/{incident_id}/registration", dependencies=[Depends(check_csrf)])
async def amend_page(incident_id: str, request: Request):
    viewer = viewer_or_login(request)
    f = {k: str(value) for k, value in (await request.form()).items()}

    async def go():
        return await amend(request.app.state.console, viewer, incident_id, _form_body(f))

    return await _act(request, incident_id, go())
