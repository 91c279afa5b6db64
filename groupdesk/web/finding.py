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


def panel(settings, directory, viewer: Viewer, state, playbook, lang: str) -> dict:
    """What the incident page's finding section shows and offers (the form: the owner, the hall lead or the
    director, while the finding may still change)."""
    from groupdesk.core.finding import REVIEW_STEP, close_step
    from groupdesk.playbooks.causes import cause_label, load_causes
    from groupdesk.web.labels import hall_name, person_name

    causes = load_causes(settings.playbooks_dir)
    f = state.finding
    review = state.steps.get(REVIEW_STEP)
    may_record = (state.status == "open" and state.follow_up is None and viewer.id != state.registration.person_involved
                  and not (review and review.status == "active") and viewer.may_tell(state))
    units = [{"id": h.id, "name": hall_name(directory, h.id, lang)} for h in directory.halls] + \
        [{"id": u.id, "name": (u.name_en or u.name) if lang == "en" else u.name} for u in directory.units]
    hall_staff = {s.id for role, staff in directory.roster(state.hall_id).items() if role != "ops" for s in staff}
    unit_name = next((u["name"] for u in units if f and u["id"] == f.responsible_unit), f.responsible_unit if f else "")
    return {"finding": {
        "required": close_step(playbook) is not None and not state.drill, "may_record": may_record,
        "causes": [{"id": c, "label": labels.get(lang) or labels["zh-CN"]} for c, labels in causes.items()],
        "cause_label": cause_label(causes, f.cause, lang) if f else "",
        "people": ", ".join(person_name(directory, p, lang) or p for p in f.responsible_people) if f else "",
        "unit_name": unit_name,
        "recorded_by": person_name(directory, f.recorded_by, lang) if f else "",
        "confirmed_by": person_name(directory, f.confirmed_by, lang) if f and f.confirmed_by else "",
        "staff": [{"id": p.id, "name": p.name} for p in directory.people if p.id in hall_staff],
        "units": units,
    }}
