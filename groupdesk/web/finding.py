"""The finding (有效投诉的认定) from the JSON API and the incident page's form; the gateway's `record_finding` does it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import ConfigDict, Field

from groupdesk.core import validation as v
from groupdesk.core.finding import RecordFinding, split_people
from groupdesk.core.models import Ack
from groupdesk.people.permissions import Viewer
from groupdesk.web.auth import check_csrf, require_viewer
from groupdesk.web.bodies import StrictBody
from groupdesk.web.errors import refuse
from groupdesk.web.pages import _act, viewer_or_login

api = APIRouter(prefix="/api")
pages = APIRouter(include_in_schema=False)


class FindingRequest(StrictBody):
    founded: str = Field(description="yes, no or partly")
    cause: str = Field(description="a cause id of playbooks/finding_causes.yaml")
    responsible_people: list[str] = Field(default_factory=list, description="staff ids (required when founded)")
    responsible_unit: str = Field("", description="a hall or unit id (required when founded)")
    reason: str = Field(description="what was found")
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"founded": "no", "cause": "metering", "reason": "现场校验电表合格,投诉不属实"},
        {"founded": "yes", "cause": "business_handling", "responsible_people": ["zhao.min"],
         "responsible_unit": "xicheng", "reason": "未一次性告知所需材料"}]})


async def record(console, viewer: Viewer, incident_id: str, req: RecordFinding) -> Ack:
    """Checked as typed (one line naming the field, nothing recorded), then through the gateway."""
    refuse("incident_id", v.incident_id_problem(incident_id))
    return await console._update(lambda gateway: gateway.record_finding(viewer, incident_id, req))


@api.post("/incidents/{incident_id}/finding", dependencies=[Depends(check_csrf)])
async def finding_api(incident_id: str, body: FindingRequest, request: Request,
                      viewer: Viewer = Depends(require_viewer)) -> dict:
    """有效投诉的认定: the owner, the hall lead or the centre director records whether the complaint was founded, its
    cause, and who and which unit were responsible; a founded one goes to the director's review at close."""
    req = RecordFinding(actor=viewer.id, **body.model_dump())
    return (await record(request.app.state.console, viewer, incident_id, req)).model_dump()


@pages.post("/incidents/{incident_id}/finding", dependencies=[Depends(check_csrf)])
async def finding_page(incident_id: str, request: Request):
    viewer = viewer_or_login(request)
    f = {k: str(value) for k, value in (await request.form()).items()}
    req = RecordFinding(actor=viewer.id, founded=f.get("founded", ""), cause=f.get("cause", ""),
                        responsible_people=split_people(f.get("responsible_people", "")),
                        responsible_unit=f.get("responsible_unit", "").strip(), reason=f.get("reason", ""))
    return await _act(request, incident_id, record(request.app.state.console, viewer, incident_id, req))

