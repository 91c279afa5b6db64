"""Aliyun's pushes (HTTP 批量推送): delivery reports (SmsReport) and replies (SmsUp), each a JSON array.
Aliyun signs neither, so the address carries GROUPDESK_WEBHOOK_TOKEN: /aliyun/{token}/report and /reply."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from groupdesk.core.phones import Phone
from groupdesk.messaging.outbox import Outbox
from groupdesk.web.push_common import MAX_ITEMS, apply_report, check_token, field_problem, take_reply

router = APIRouter(prefix="/aliyun/{token}", include_in_schema=False)
OK = {"code": 0, "msg": "成功"}


class Report(BaseModel):
    """One SmsReport item (fields Aliyun documents; others are ignored)."""
    model_config = ConfigDict(extra="ignore")
    phone_number: str = Field(min_length=3, max_length=24)
    send_time: str = Field("", max_length=32)
    report_time: str = Field("", max_length=32)
    success: bool
    err_code: str = Field("", max_length=64)
    err_msg: str = Field("", max_length=256)
    biz_id: str = Field(min_length=1, max_length=64)
    out_id: str = Field("", max_length=64)


class Reply(BaseModel):
    """One SmsUp item: `sequence_id` comes as a number or a string; `sign_name` is not always there."""
    model_config = ConfigDict(extra="ignore")
    phone_number: str = Field(min_length=3, max_length=24)
    send_time: str = Field("", max_length=32)
    content: str = Field(max_length=2000)
    dest_code: str = Field("", max_length=32)
    sequence_id: str = Field(min_length=1, max_length=64)
    sign_name: str = Field("", max_length=64)

    @field_validator("sequence_id", mode="before")
    @classmethod
    def _as_text(cls, value):
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


async def _items(request: Request, model) -> list | JSONResponse:
    try:
        raw = await request.json()
    except ValueError:
        return _bad("body: not JSON; Aliyun pushes a JSON array")
    if not isinstance(raw, list) or len(raw) > MAX_ITEMS:
        return _bad(f"body: a JSON array of at most {MAX_ITEMS} items is expected")
    items = []
    for n, item in enumerate(raw, 1):
        try:
            items.append(model.model_validate(item))
        except ValidationError as exc:
            return _bad(field_problem(exc, n))
    return items


def _bad(line: str) -> JSONResponse:
    return JSONResponse({"code": 1, "msg": line}, status_code=400)


@router.post("/report")
async def reports(token: str, request: Request) -> JSONResponse:
    check_token(request, token, "aliyun")
    items = await _items(request, Report)
    if isinstance(items, JSONResponse):
        return items
    services = request.app.state.services
    outbox = Outbox(services.settings)
    for item in items:  # a repeated item moves nothing the second time
        row = (outbox.find("aliyun", out_id=item.out_id) if item.out_id else None) \
            or outbox.find("aliyun", provider_id=item.biz_id)
        await apply_report(services, "aliyun", row, "delivered" if item.success else "undelivered", item.biz_id,
                           "" if item.success else (item.err_code or "UNDELIV"))
    return JSONResponse(OK)


@router.post("/reply")
async def replies(token: str, request: Request) -> JSONResponse:
    check_token(request, token, "aliyun")
    items = await _items(request, Reply)
    if isinstance(items, JSONResponse):
        return items
    services = request.app.state.services
    for item in items:
        try:
            sender = Phone.parse(item.phone_number)
        except ValueError:
            continue  # not a phone number: nobody to answer, nothing to decide
        await take_reply(services, "aliyun", f"aliyun:{item.sequence_id}", sender, item.content)
    return JSONResponse(OK)
