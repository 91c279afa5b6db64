"""The console's pages: server-rendered, phone-sized, every asset served from here."""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import datetime, timezone
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from fastapi.templating import Jinja2Templates

from groupdesk.accounts import check_password, load_accounts
from groupdesk.masking import mask_phone
from groupdesk.outbox import Outbox
from groupdesk.playbook_loader import PlaybookError, find_playbook, load_playbooks
from groupdesk.roles import role_label
from groupdesk.web.auth import check_csrf, csrf_token, current_viewer
from groupdesk.web.diagram import playbook_svg
from groupdesk.web.i18n import translator
from groupdesk.web.permissions import Forbidden, Viewer
from groupdesk.web.service import Rejected, StartForm
from groupdesk.workcal import format_local

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


class SignInRequired(Exception):
    pass


def viewer_or_login(request: Request) -> Viewer:
    viewer = current_viewer(request)
    if viewer is None:
        raise SignInRequired()
    return viewer


def lang_of(request: Request) -> str:
    return request.session.get("lang", "zh-CN")


def page(request: Request, name: str, viewer: Viewer | None, status: int = 200, **context) -> HTMLResponse:
    lang = lang_of(request)
    flash = request.session.pop("flash", None)
    return templates.TemplateResponse(request, name, {
        "viewer": viewer, "t": translator(lang), "lang": lang, "csrf": csrf_token(request), "flash": flash,
        "local": lambda moment: format_local(moment if isinstance(moment, datetime) else
                                             datetime.fromisoformat(moment), lang) if moment else "—",
        "role": lambda role: role_label(role, lang), "dev": request.app.state.console.settings.dev_mode,
        **context,
    }, status_code=status)


def back_to(url: str, flash: str | None = None, request: Request | None = None) -> RedirectResponse:
    if flash and request is not None:
        request.session["flash"] = flash
    return RedirectResponse(url, status_code=303)


def console(request: Request):
    return request.app.state.console


# ---- sign-in and language -------------------------------------------------------------

@router.get("/login")
async def login_page(request: Request) -> HTMLResponse:
    return page(request, "login.html", None)


@router.post("/login", dependencies=[Depends(check_csrf)])
async def login(request: Request):
    form = await request.form()
    person, password = str(form.get("person", "")).strip(), str(form.get("password", ""))
    accounts = load_accounts(console(request).settings.accounts)
    if not check_password(accounts, person, password) or console(request).directory().person(person) is None:
        return page(request, "login.html", None, status=401, error="工号或密码错误 / wrong staff id or password",
                    person=person)
    lang = lang_of(request)
    request.session.clear()
    request.session.update(person=person, lang=lang)
    return back_to("/")


@router.post("/logout", dependencies=[Depends(check_csrf)])
async def logout(request: Request):
    request.session.clear()
    return back_to("/login")


@router.get("/lang/{lang}")
async def switch_language(lang: str, request: Request):
    request.session["lang"] = "en" if lang == "en" else "zh-CN"
    return back_to(request.headers.get("referer") or "/")


# ---- the live board ----------------------------------------------------------------------

def _filters(request: Request) -> dict:
    q = request.query_params
    tier = q.get("tier", "")
    drill = {"drill": True, "real": False}.get(q.get("kind", ""))
    return {"hall": q.get("hall") or None, "tier": int(tier) if tier.isdigit() else None,
            "stage": q.get("stage") or None, "drill": drill}


@router.get("/")
async def board(request: Request, viewer: Viewer = Depends(viewer_or_login)) -> HTMLResponse:
    filters = _filters(request)
    rows = await console(request).incidents(viewer, **filters)
    halls = [h for h in console(request).directory().halls if viewer.may_view(h.id)]
    return page(request, "board.html", viewer, rows=rows, halls=halls, query=request.url.query,
                q=request.query_params, now=datetime.now(timezone.utc).isoformat())


@router.get("/events/board")
async def board_events(request: Request, viewer: Viewer = Depends(viewer_or_login)) -> StreamingResponse:
    """Server-sent events: the board's rows, each time they change (checked every second)."""
    filters = _filters(request)

    async def stream():
        last = None
        while not await request.is_disconnected():
            rows = await console(request).incidents(viewer, **filters)
            payload = json.dumps(rows, ensure_ascii=False, sort_keys=True)
            if payload != last:
                last = payload
                yield f"event: rows\ndata: {payload}\n\n"
            else:
                yield ": keep-alive\n\n"
            await asyncio.sleep(1)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


# ---- starting an incident ------------------------------------------------------------------

def _start_page(request: Request, viewer: Viewer, form: StartForm, status: int = 200) -> HTMLResponse:
    halls = [h for h in console(request).directory().halls if viewer.may_start(h.id)]
    try:
        playbooks = sorted(load_playbooks(console(request).settings.playbooks_dir).values(), key=lambda p: p.id)
    except PlaybookError:
        playbooks = []
    return page(request, "start.html", viewer, status=status, form=form, halls=halls, playbooks=playbooks)


@router.get("/incidents/new")
async def start_page(request: Request, viewer: Viewer = Depends(viewer_or_login)) -> HTMLResponse:
    halls = sorted(viewer.roles.get("hall_lead", set()))
    return _start_page(request, viewer, StartForm(hall=halls[0] if halls else "", drill=True,
                                                  submit_token=secrets.token_urlsafe(16)))


@router.post("/incidents", dependencies=[Depends(check_csrf)])
async def start(request: Request, viewer: Viewer = Depends(viewer_or_login)):
    f = await request.form()
    form = StartForm(**{k: str(f.get(k, "")).strip() for k in (
        "hall", "headcount", "lead_name", "lead_phone", "summary", "playbook", "time_scale", "submit_token")},
        drill=f.get("drill") == "on")
    incident_id = await console(request).start(viewer, form)
    if incident_id is None:
        return _start_page(request, viewer, form, status=422)
    return back_to(f"/incidents/{incident_id}")


# ---- one incident --------------------------------------------------------------------------

@router.get("/incidents/{incident_id}")
async def incident_page(incident_id: str, request: Request, viewer: Viewer = Depends(viewer_or_login)):
    state, playbook = await console(request).incident(viewer, incident_id)
    messages = Outbox(console(request).settings.outbox_path).list(incident_id)
    return page(request, "incident.html", viewer, s=state, pb=playbook, messages=messages, mask=mask_phone,
                may_record={sid: viewer.may_record(state.hall_id, playbook.steps[sid]) for sid in state.current_steps},
                may_decide=viewer.may_decide(state.hall_id), may_note=viewer.may_note(state.hall_id),
                may_follow_up=viewer.holds("hall_lead", state.hall_id) or viewer.may_decide(state.hall_id))


async def _act(request: Request, incident_id: str, action) -> RedirectResponse:
    try:
        await action
    except Rejected as exc:
        return back_to(f"/incidents/{incident_id}", f"未执行 / not done: {exc}", request)
    return back_to(f"/incidents/{incident_id}")


@router.post("/incidents/{incident_id}/outcome", dependencies=[Depends(check_csrf)])
async def record_outcome(incident_id: str, request: Request, viewer: Viewer = Depends(viewer_or_login)):
    f = await request.form()
    data = {str(k).removeprefix("data_"): str(v) for k, v in f.items() if str(k).startswith("data_") and v}
    return await _act(request, incident_id, console(request).record_outcome(
        viewer, incident_id, str(f.get("step", "")), str(f.get("outcome", "")), str(f.get("note", "")), data))


@router.post("/incidents/{incident_id}/approval", dependencies=[Depends(check_csrf)])
async def decide(incident_id: str, request: Request, viewer: Viewer = Depends(viewer_or_login)):
    f = await request.form()
    return await _act(request, incident_id, console(request).decide(
        viewer, incident_id, f.get("decision") == "approve", str(f.get("reason", ""))))


@router.post("/incidents/{incident_id}/follow-up", dependencies=[Depends(check_csrf)])
async def follow_up(incident_id: str, request: Request, viewer: Viewer = Depends(viewer_or_login)):
    f = await request.form()
    score = str(f.get("score", ""))
    if not score.isdigit():
        return back_to(f"/incidents/{incident_id}", "请选择满意度 1-5 / choose a score from 1 to 5", request)
    return await _act(request, incident_id, console(request).follow_up(
        viewer, incident_id, int(score), str(f.get("comment", ""))))


@router.post("/incidents/{incident_id}/note", dependencies=[Depends(check_csrf)])
async def note(incident_id: str, request: Request, viewer: Viewer = Depends(viewer_or_login)):
    f = await request.form()
    return await _act(request, incident_id, console(request).note(viewer, incident_id, str(f.get("text", ""))))


@router.post("/incidents/{incident_id}/failed/{step}/{action}", dependencies=[Depends(check_csrf)])
async def failed_action(incident_id: str, step: str, action: str, request: Request,
                        viewer: Viewer = Depends(viewer_or_login)):
    f = await request.form()
    if action == "retry":
        call = console(request).retry(viewer, incident_id, step)
    else:
        call = console(request).skip(viewer, incident_id, step, str(f.get("reason", "")))
    return await _act(request, incident_id, call)


# ---- lists ---------------------------------------------------------------------------------

@router.get("/approvals")
async def approvals(request: Request, viewer: Viewer = Depends(viewer_or_login)) -> HTMLResponse:
    return page(request, "approvals.html", viewer, rows=await console(request).approvals(viewer))


@router.get("/failed")
async def failed(request: Request, viewer: Viewer = Depends(viewer_or_login)) -> HTMLResponse:
    if not viewer.ops:
        raise Forbidden("only the ops team sees failed steps")
    return page(request, "failed.html", viewer, rows=await console(request).failed(viewer))


@router.get("/playbooks")
async def playbooks(request: Request, viewer: Viewer = Depends(viewer_or_login)) -> HTMLResponse:
    found = sorted(load_playbooks(console(request).settings.playbooks_dir).values(), key=lambda p: p.id)
    return page(request, "playbooks.html", viewer, playbooks=found)


@router.get("/playbooks/{playbook_id}")
async def playbook_page(playbook_id: str, request: Request, viewer: Viewer = Depends(viewer_or_login)):
    pb = find_playbook(console(request).settings.playbooks_dir, playbook_id)
    return page(request, "playbook.html", viewer, pb=pb, svg=playbook_svg(pb, lang_of(request)))


# ---- dev only: a phone simulator over the outbox -------------------------------------------

@router.get("/phone")
async def phone(request: Request, viewer: Viewer = Depends(viewer_or_login)) -> HTMLResponse:
    if not console(request).settings.dev_mode:
        raise Forbidden("the phone simulator exists in dev mode only")
    by_phone: dict[str, list] = {}
    for message in Outbox(console(request).settings.outbox_path).list(limit=2000):
        by_phone.setdefault(message.to_number, []).append(message)
    names = {p.mobile: p.name for p in console(request).directory().people}
    return page(request, "phone.html", viewer, phones=by_phone, names=names,
                replies=request.session.pop("phone_replies", {}))


@router.post("/phone/reply", dependencies=[Depends(check_csrf)])
async def phone_reply(request: Request, viewer: Viewer = Depends(viewer_or_login)):
    """The same reply logic as a Twilio inbound SMS, from the simulated phone."""
    from groupdesk.web.twilio_webhooks import handle_reply

    if not console(request).settings.dev_mode:
        raise Forbidden("the phone simulator exists in dev mode only")
    f = await request.form()
    sender, body = str(f.get("phone", "")), str(f.get("body", ""))
    answer = await handle_reply(request.app.state.services, sender, body)
    request.session["phone_replies"] = {sender: [body, answer]}
    return back_to(f"/phone#{sender}")
