"""Tencent Cloud's pushes: delivery reports (短信下发状态, a JSON array) and replies (短信回复, one object).
Neither is signed, so the address carries GROUPDESK_WEBHOOK_TOKEN: /tencent/{token}/report and /reply."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from groupdesk.core.phones import Phone
from groupdesk.messaging.outbox import Outbox
from groupdesk.web.push_common import MAX_ITEMS, apply_report, check_token, field_problem, take_reply

router = APIRouter(prefix="/tencent/{token}", include_in_schema=False)
OK = {"result": 0, "errmsg": "OK"}


class Report(BaseModel):
    model_config = ConfigDict(extra="ignore")
    user_receive_time: str = Field("", max_length=32)
    nationcode: str = Field(pattern=r"^\d{1,4}$")
    mobile: str = Field(pattern=r"^\d{4,16}$")
    report_status: str = Field(pattern=r"^(SUCCESS|FAIL)$")
    errmsg: str = Field("", max_length=64)
    description: str = Field("", max_length=256)
    sid: str = Field(min_length=1, max_length=64)


class Reply(BaseModel):
    model_config = ConfigDict(extra="ignore")
    extend: str = Field("", max_length=32)
    mobile: str = Field(pattern=r"^\d{4,16}$")
    nationcode: str = Field(pattern=r"^\d{1,4}$")
    sign: str = Field("", max_length=64)
    text: str = Field(max_length=2000)
    time: int = Field(ge=0, le=10**11)  # unix seconds

    @field_validator("nationcode", "mobile", mode="before")
    @classmethod
    def _digits(cls, value):
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _bad(line: str) -> JSONResponse:
    return JSONResponse({"result": 1, "errmsg": line}, status_code=400)


async def _json(request: Request):
    try:
        return await request.json()
    except ValueError:
        return None


@router.post("/report")
async def reports(token: str, request: Request) -> JSONResponse:
    check_token(request, token, "tencent")
    raw = await _json(request)
    if not isinstance(raw, list) or len(raw) > MAX_ITEMS:
        return _bad(f"body: a JSON array of at most {MAX_ITEMS} reports is expected")
    items = []
    for n, item in enumerate(raw, 1):
        try:
            items.append(Report.model_validate(item))
        except ValidationError as exc:
            return _bad(field_problem(exc, n))
    services = request.app.state.services
    outbox = Outbox(services.settings)
    for item in items:
        row = outbox.find("tencent", provider_id=item.sid)
        if row is None:  # a message parked as maybe-sent: we never learnt its SerialNo; the number tells
            waiting = outbox.unknown_to("tencent", f"+{item.nationcode}{item.mobile}")
            row = waiting[0] if len(waiting) == 1 else None
        delivered = item.report_status == "SUCCESS"
        await apply_report(services, "tencent", row, "delivered" if delivered else "undelivered", item.sid,
                           "" if delivered else (item.errmsg or "FAIL"))
    return JSONResponse(OK)


@router.post("/reply")
async def reply(token: str, request: Request) -> JSONResponse:
    check_token(request, token, "tencent")
    raw = await _json(request)
    try:
        item = Reply.model_validate(raw)
    except ValidationError as exc:
        return _bad(field_problem(exc))
    try:
        sender = Phone.parse(f"+{item.nationcode}{item.mobile}")
    except ValueError:
        return JSONResponse(OK)  # not a phone number: nobody to answer, nothing to decide
    # Tencent's replies carry no id: the same mobile, time and text is the same reply pushed again.
    digest = hashlib.sha256(f"{sender}|{item.time}|{item.text}".encode()).hexdigest()[:40]
    await take_reply(request.app.state.services, "tencent", f"tencent:{digest}", sender, item.text)
    return JSONResponse(OK)
