"""The complainant's status page, `/s/<token>`: no sign-in, in Chinese, made for a phone.

It reads the incident through the gateway and shows groupdesk.web.status_view's plain words; from it the lead
complainant answers the 回访 (once the survey is due, by the same update and rules as the SMS answer) and adds
information, both on the timeline through the gateway. An unknown, mangled, revoked or expired token gets the
same 404. Limits (per console process): 30 requests a minute per token, 300 per client address (429); a
link's visits are on the timeline at most once an hour.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from datetime import datetime, timedelta, timezone

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import UploadFile
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from groupdesk.core.tell import VISIT_EVERY_S
from groupdesk.core.validation import InputError
from groupdesk.engine.client import IncidentUnavailable
from groupdesk.messaging.status_links import StatusLinks, expired
from groupdesk.record.evidence_check import MAX_BYTES, EvidenceRefused
from groupdesk.record.evidence_store import StoreUnavailable
from groupdesk.web.auth import client_address
from groupdesk.web.pages import templates
from groupdesk.web.status_view import view

router = APIRouter(include_in_schema=False)
log = structlog.get_logger("groupdesk.web.status_page")
PER_TOKEN, PER_ADDRESS, WINDOW_S = 30, 300, 60.0
NOT_FOUND = "链接无效或已过期。如需帮助,请致电营业厅或拨打 95598。"
INFO_PATH = r"^/s/[^/]+/info$"  # the add-information form may carry a photo (limits.py): a photo somewhat over
INFO_LIMIT = 2 * MAX_BYTES  # 10 MB still reaches the page and gets its line there; a body over twice that gets it bare
TOO_LARGE = "照片超过 10 MB,请压缩后或换一张再上传。"
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


class Limiter:
    """A sliding window of request times per key (a token's hash, a client address)."""

    def __init__(self) -> None:
        self.seen: dict[str, deque] = defaultdict(deque)

    def allow(self, key: str, limit: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        times = self.seen[key]
        while times and times[0] <= now - WINDOW_S:
            times.popleft()
        if len(times) >= limit:
            return False
        times.append(now)
        if len(self.seen) > 100_000:  # forget idle keys now and then
            for idle in [k for k, q in self.seen.items() if not q or q[-1] <= now - WINDOW_S]:
                del self.seen[idle]
        return True


def _state(request: Request):
    app = request.app.state
    if getattr(app, "status_links", None) is None:
        app.status_links = StatusLinks.for_settings(app.console.settings)
        app.status_limiter = Limiter()
    return app.status_links, app.status_limiter


def _plain(status: int, text: str) -> HTMLResponse:
    return HTMLResponse(f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><meta name="viewport" '
                        f'content="width=device-width, initial-scale=1"><title>办理进度</title><p>{text}</p></html>',
                        status_code=status, headers=HEADERS)


async def _open(request: Request, token: str):
    """(link row, state) or an HTML response: 429 over the limits, the same 404 for anything that opens nothing."""
    links, limiter = _state(request)
    if not limiter.allow("a:" + client_address(request), PER_ADDRESS) or \
            not limiter.allow("t:" + links._hash(token)[:32], PER_TOKEN):
        return None, _plain(429, "访问过于频繁,请稍后再试。")
    row = links.find(token)
    if row is None:
        return None, _plain(404, NOT_FOUND)
    try:
        state = await (await request.app.state.console.gateway()).for_complainant(row["incident_id"])
    except (RPCError, IncidentUnavailable):
        return None, _plain(404, NOT_FOUND)
    if expired(state.closed_at):
        return None, _plain(404, NOT_FOUND)
    return (row, state), None


def _render(request: Request, state, status: int = 200, notice: str = "", error: str = "") -> HTMLResponse:
    directory = request.app.state.console.directory()
    context = {"v": view(state, directory, datetime.now(timezone.utc)), "notice": notice, "error": error,
               "action": request.url.path}
    return templates.TemplateResponse(request, "status.html", context, status_code=status, headers=HEADERS)


@router.get("/s/{token}")
async def status_page(token: str, request: Request):
    opened, refused = await _open(request, token)
    if refused:
        return refused
    row, state = opened
    links, _ = _state(request)
    if state.status == "open" and links.visit_due(token, timedelta(seconds=VISIT_EVERY_S)):
        try:
            await (await request.app.state.console.gateway()).complainant_visit(row["incident_id"], row["phone_key"])
        except (WorkflowUpdateFailedError, RPCError) as exc:  # closed meanwhile: nothing to put on the timeline
            log.info("status page visit not recorded", error=type(exc).__name__)
    done = {"answer": "感谢您的评价!", "info": "您补充的信息已收到,我们会尽快处理。"}.get(request.query_params.get("ok", ""), "")
    return _render(request, state, notice=done)


async def _photo(upload: object) -> bytes:
    """The photo sent with the information (at most the limit and one byte read), or b"" when none was chosen."""
    if not isinstance(upload, UploadFile) or (not upload.filename and not upload.size):
        return b""
    return await upload.read(MAX_BYTES + 1)


async def _send(request: Request, token: str, kind: str):
    if request.headers.get("sec-fetch-site", "") == "cross-site":  # a form posted from another site
        return _plain(403, "请在办理进度页面上提交。")
    opened, refused = await _open(request, token)
    if refused:
        return refused
    row, state = opened
    raw = await request.form(max_files=1, max_fields=10)
    form = {k: str(v) for k, v in raw.items() if not isinstance(v, UploadFile)}
    gateway = await request.app.state.console.gateway()
    try:
        if kind == "info" and (photo := await _photo(raw.get("photo"))):
            # the photo first (every check, nothing stored when refused), then the information on the timeline
            stored = await gateway.attach_from_complainant(row["incident_id"], state.hall_id, photo)
            form["text"] = form.get("text", "").strip() or f"补充了一张照片({stored['stored_sha256'][:12]})"
        if kind == "answer":
            score = form.get("score", "")
            if not (score.isascii() and score.isdigit()):
                raise InputError("score", "请选择满意程度(1 到 5 分)。")
            await gateway.complainant_answer(row["incident_id"], row["phone_key"], int(score), form.get("comment", ""))
        else:
            await gateway.complainant_info(row["incident_id"], row["phone_key"], form.get("text", ""))
    except EvidenceRefused as exc:
        return _render(request, state, exc.status, error=exc.message)
    except StoreUnavailable:
        return _render(request, state, 503, error="照片暂时无法保存,请稍后再试或致电营业厅。")
    except InputError as exc:
        return _render(request, state, 422, error=exc.message.split(" / ")[0])
    except WorkflowUpdateFailedError:
        fresh = await gateway.for_complainant(row["incident_id"])
        return _render(request, fresh, 409, error="当前无法提交,页面已更新,请查看后再试。")
    return RedirectResponse(f"/s/{token}?ok={kind}", status_code=303, headers=HEADERS)


@router.post("/s/{token}/answer")
async def answer(token: str, request: Request):
    """The 回访 from the page (only once the survey is due)."""
    return await _send(request, token, "answer")


@router.post("/s/{token}/info")
async def add_information(token: str, request: Request):
    return await _send(request, token, "info")
