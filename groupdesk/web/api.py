"""The JSON API under /api: the same operations and checks as the pages."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ConfigDict

from groupdesk.incidents.actions import actions, step_scripts
from groupdesk.core.models import state_json
from groupdesk.web.bodies import StrictBody
from groupdesk.web.auth import check_csrf, csrf_token, require_viewer
from groupdesk.web.auth import sign_in as start_session, sign_out as end_session
from groupdesk.web.permissions import Viewer
from groupdesk.web.service import StartForm

router = APIRouter(prefix="/api")
TICKET_NO = ("the incidents registered with this work-order number (as `groupdesk list --ticket-no`), closed ones "
             "included: hotlines 8-24 digits, others 1-40 letters, digits and -")
CHANNEL = ("with ticket_no: only that channel's number (visit, hotline_95598, regulator_12398, gov_12345, letter, "
           "website, wechat, referral)")


# Each body's examples are a request that does what it says in some state of an incident (the fuzzer starts
# from them; docs show them): ids of the example directory and the shipped playbooks, never a real password.
class SignIn(StrictBody):
    person: str
    password: str
    model_config = ConfigDict(json_schema_extra={"examples": [{"person": "sun.li", "password": "your password"}]})


class StartRequest(StrictBody):
    hall: str
    headcount: int
    lead_name: str
    lead_phone: str
    summary: str
    playbook: str = ""  # empty: the playbook whose `applies` fits the category and headcount
    drill: bool = False
    time_scale: Optional[float] = None
    submit_token: str = ""
    address: str = ""  # the registration (登记): optional, checked like the form's
    account_no: str = ""
    category: str = ""
    demands: str = ""
    complainant_type: str = ""
    media_present: bool = False
    person_involved: str = ""  # 更换当事人: staff id of whom the complaint is about
    channel: str = "visit"  # how it came in: visit, hotline_95598, regulator_12398, gov_12345, letter, website, wechat, referral
    ticket_no: str = ""  # the work-order number from that channel (hotlines: 8-24 digits; others 1-40 letters, digits, -)
    feeder: str = ""  # 频繁停电: an outage incident's line (线路), e.g. 10kV杨柳线
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"hall": "xicheng", "headcount": 15, "lead_name": "张建国", "lead_phone": "13800138000",
         "summary": "智能电表换装后电量异常", "drill": True, "category": "business"}]})


class OutcomeRequest(StrictBody):
    step: str
    outcome: str
    note: str = ""
    data: dict[str, str] = {}
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"step": "move_to_vip_room", "outcome": "done"}, {"step": "keep_order", "outcome": "done", "note": "秩序良好"}]})


class DecisionRequest(StrictBody):
    approve: bool
    reason: str = ""
    model_config = ConfigDict(json_schema_extra={"examples": [{"approve": True},
                                                              {"approve": False, "reason": "先由计量人员解释"}]})


class FollowUpRequest(StrictBody):
    score: int
    comment: str = ""
    model_config = ConfigDict(json_schema_extra={"examples": [{"score": 5, "comment": "处理及时"}]})


class NoteRequest(StrictBody):
    text: str
    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "客户情绪稳定"}]})


class HandoverRequest(StrictBody):
    to: str
    reason: str
    model_config = ConfigDict(json_schema_extra={"examples": [{"to": "zhao.min", "reason": "交接班"}]})


class SkipRequest(StrictBody):
    reason: str
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "已电话通知"}]})


def console(request: Request):
    return request.app.state.console


@router.post("/session", responses={401: {}, 429: {}, 503: {}})
async def sign_in(body: SignIn, request: Request) -> dict:
    if not await start_session(request, body.person, body.password):
        raise HTTPException(status_code=401, detail="wrong staff id or password")
    return {"person": body.person, "csrf_token": csrf_token(request)}


@router.delete("/session", dependencies=[Depends(check_csrf)])
async def sign_out(request: Request) -> dict:
    end_session(request)
    return {"signed_out": True}


@router.get("/me")
async def me(request: Request, viewer: Viewer = Depends(require_viewer)) -> dict:
    return {"id": viewer.id, "name": viewer.name, "roles": {r: sorted(h) for r, h in viewer.roles.items()},
            "units": {r: sorted(u) for r, u in viewer.units.items()},
            "ops": viewer.ops, "operator": viewer.operator, "csrf_token": csrf_token(request)}


@router.get("/incidents", responses={400: {"description": "an unknown hall, tier or step"},
                                      422: {"description": "ticket_no or channel malformed; the field is named"}})
async def incidents(request: Request, hall: Optional[str] = None, tier: Optional[int] = None,
                    stage: Optional[str] = None, drill: Optional[bool] = None, closed: bool = False,
                    ticket_no: Optional[str] = Query(None, description=TICKET_NO, examples=["2026112300012345"]),
                    channel: Optional[str] = Query(None, description=CHANNEL, examples=["hotline_95598"]),
                    viewer: Viewer = Depends(require_viewer)) -> list[dict]:
    """The incidents the viewer may see: open ones, or with `closed` also closed and dead ones; with `ticket_no`
    those registered with that work-order number, closed ones (from the archive too) included."""
    return await console(request).incidents(viewer, hall=hall, tier=tier, stage=stage, drill=drill, closed=closed,
                                            ticket_no=ticket_no, channel=channel)


@router.post("/incidents", status_code=201, dependencies=[Depends(check_csrf)])
async def start(body: StartRequest, request: Request, viewer: Viewer = Depends(require_viewer)) -> dict:
    form = StartForm(hall=body.hall, headcount=str(body.headcount), lead_name=body.lead_name,
                     lead_phone=body.lead_phone, summary=body.summary, playbook=body.playbook, drill=body.drill,
                     time_scale="" if body.time_scale is None else str(body.time_scale),
                     submit_token=body.submit_token, address=body.address, account_no=body.account_no,
                     category=body.category, demands=body.demands, complainant_type=body.complainant_type,
                     media_present=body.media_present, person_involved=body.person_involved,
                     channel=body.channel, ticket_no=body.ticket_no, feeder=body.feeder)
    incident_id = await console(request).start(viewer, form)
    if incident_id is None:
        return JSONResponse({"detail": "\n".join(f"{k}: {m}" for k, m in form.errors.items()), "errors": form.errors},
                            status_code=422)
    return {"id": incident_id}


@router.get("/incidents/{incident_id}")
async def incident(incident_id: str, request: Request, viewer: Viewer = Depends(require_viewer)) -> dict:
    state, playbook = await console(request).incident(viewer, incident_id)
    lang = "en" if (request.query_params.get("lang") or request.session.get("lang")) == "en" else "zh-CN"
    offered = actions(state, playbook, console(request).directory(), lang=lang)
    return {**state_json(state), "actions": offered,
            "scripts": step_scripts(state, playbook, lang)}


@router.post("/incidents/{incident_id}/outcomes", dependencies=[Depends(check_csrf)])
async def record_outcome(incident_id: str, body: OutcomeRequest, request: Request,
                         viewer: Viewer = Depends(require_viewer)) -> dict:
    ack = await console(request).record_outcome(viewer, incident_id, body.step, body.outcome, body.note, body.data)
    return ack.model_dump()


@router.post("/incidents/{incident_id}/approval", dependencies=[Depends(check_csrf)])
async def decide(incident_id: str, body: DecisionRequest, request: Request,
                 viewer: Viewer = Depends(require_viewer)) -> dict:
    return (await console(request).decide(viewer, incident_id, body.approve, body.reason)).model_dump()


@router.post("/incidents/{incident_id}/follow-up", dependencies=[Depends(check_csrf)])
async def follow_up(incident_id: str, body: FollowUpRequest, request: Request,
                    viewer: Viewer = Depends(require_viewer)) -> dict:
    return (await console(request).follow_up(viewer, incident_id, body.score, body.comment)).model_dump()


@router.post("/incidents/{incident_id}/notes", status_code=202, dependencies=[Depends(check_csrf)])
async def note(incident_id: str, body: NoteRequest, request: Request,
               viewer: Viewer = Depends(require_viewer)) -> dict:
    await console(request).note(viewer, incident_id, body.text)
    return {"accepted": True}


@router.post("/incidents/{incident_id}/handover", dependencies=[Depends(check_csrf)])
async def handover(incident_id: str, body: HandoverRequest, request: Request,
                   viewer: Viewer = Depends(require_viewer)) -> dict:
    return (await console(request).hand_over(viewer, incident_id, body.to, body.reason)).model_dump()


@router.get("/approvals")
async def approvals(request: Request, viewer: Viewer = Depends(require_viewer)) -> list[dict]:
    return await console(request).approvals(viewer)


@router.get("/failed")
async def failed(request: Request, viewer: Viewer = Depends(require_viewer)) -> list[dict]:
    return await console(request).failed(viewer)


@router.post("/incidents/{incident_id}/failed/{step}/retry", dependencies=[Depends(check_csrf)])
async def retry(incident_id: str, step: str, request: Request, viewer: Viewer = Depends(require_viewer)) -> dict:
    return (await console(request).retry(viewer, incident_id, step)).model_dump()


@router.post("/incidents/{incident_id}/failed/{step}/skip", dependencies=[Depends(check_csrf)])
async def skip(incident_id: str, step: str, body: SkipRequest, request: Request,
               viewer: Viewer = Depends(require_viewer)) -> dict:
    return (await console(request).skip(viewer, incident_id, step, body.reason)).model_dump()
