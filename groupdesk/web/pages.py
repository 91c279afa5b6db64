"""The console's pages: server-rendered, phone-sized, every asset served from here."""

from __future__ import annotations

import secrets
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from groupdesk.core import validation as v
from groupdesk.incidents.actions import actions, step_scripts, waiting_on
from groupdesk.core.warning_plan import PLAN_STEP
from groupdesk.web.event_words import event_text
from groupdesk.web.labels import FAILED_STATUS, error_text, field_label, hall_name, person_name, pick, purpose_label
from groupdesk.runtime.masking import mask_code
from groupdesk.messaging.outbox import Outbox
from groupdesk.playbooks.choice import valid_playbooks
from groupdesk.core.intake import CHANNEL_IDS, channel_label
from groupdesk.playbooks.loader import PlaybookError, find_playbook, load_playbooks
from groupdesk.core.roles import role_label
from groupdesk.web.auth import check_csrf, csrf_token, current_viewer, sign_in, sign_out
from groupdesk.web.diagram import escalation_ladders, escalation_rule, playbook_svg, template_previews
from groupdesk.web.board import current_playbooks
from groupdesk.web.i18n import duration_words, tier_label, translator
from groupdesk.web.incident_view import step_rows, timeline, timeline_steps
from groupdesk.web.permissions import Forbidden, Viewer
from groupdesk.web.promise_console import page_rows as promise_rows
from groupdesk.web.errors import Rejected
from groupdesk.web.service import StartForm
from groupdesk.core.workcal import format_local

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
        "local": lambda moment: _local(moment, lang),
        "role": lambda role: role_label(role, lang), "dev": request.app.state.dev,
        "wecom": request.app.state.console.settings.staff_channel == "wecom",
        "tier": lambda n: tier_label(n, lang), "duration": lambda span: duration_words(span, lang),
        "viewer_title": lambda v: viewer_title(v, lang), "field_label": lambda f: field_label(f, lang),
        "may_register": lambda: _may_register(request, viewer),
        "channel_label": lambda c: channel_label(c, lang), "channels": CHANNEL_IDS,
        "purpose": lambda p: purpose_label(p, lang), "error_text": lambda e: error_text(e, lang), "failed_status": lambda st: pick(FAILED_STATUS.get(st), lang, st),
        **context,
    }, status_code=status)


_STARTERS: dict[str, tuple[float, frozenset[str]]] = {}


def _may_register(request: Request, viewer: Viewer | None) -> bool:
    """The menu's 登记 link: the person holds, at some hall, a role some playbook's `started_by` names
    (the roles read once a minute; the start form and the gateway check the playbook itself)."""
    if viewer is None or not viewer.roles:
        return False
    folder = str(console(request).settings.playbooks_dir)
    cached = _STARTERS.get(folder)
    if cached is None or time.monotonic() - cached[0] > 60:
        roles = frozenset(r for pb in valid_playbooks(console(request).settings.playbooks_dir) for r in pb.started_by)
        _STARTERS[folder] = cached = (time.monotonic(), roles)
    return bool(cached[1] & set(viewer.roles))


def _local(moment, lang: str) -> str:
    """A stored moment (datetime or ISO text) in the hall's local time, or a dash."""
    return format_local(moment if isinstance(moment, datetime) else datetime.fromisoformat(moment), lang) \
        if moment else "—"


def viewer_title(viewer: Viewer, lang: str) -> str:
    t = translator(lang)
    if viewer.ops:
        return t("ops_title")
    if viewer.operator:
        return t("operator_title")
    return "、".join(role_label(r, lang) for r in [*sorted(viewer.roles), *sorted(viewer.units)]) or t("staff_title")


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
    try:
        signed_in = await sign_in(request, person, password)
    except HTTPException as exc:  # throttled (429) or too many at once (503)
        response = page(request, "login.html", None, status=exc.status_code, person=person,
                        error=f"请稍后再试 / {exc.detail}")
        response.headers.update(exc.headers or {})
        return response
    if not signed_in:
        return page(request, "login.html", None, status=401, error="工号或密码错误 / wrong staff id or password",
                    person=person)
    return back_to("/")


@router.post("/logout", dependencies=[Depends(check_csrf)])
async def logout(request: Request):
    sign_out(request)
    return back_to("/login")


@router.get("/lang/{lang}")
async def switch_language(lang: str, request: Request):
    request.session["lang"] = "en" if lang == "en" else "zh-CN"
    return back_to(local_path(request.headers.get("referer") or "/"))


def local_path(url: str) -> str:
    """Where a redirect may go: a path on this site (the path and query of `url`), never another site; "/" for
    anything else (`//evil.example`, `/\\evil`, `javascript:`)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "/"
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith(("//", "/\\")) or any(c in path for c in "\\\r\n\t"):
        return "/"
    return path + (f"?{parts.query}" if parts.query else "")


def step_titles(request: Request, lang: str) -> list[tuple[str, str]]:
    """(step id, title) of every step the current playbooks have, close steps left out: the board's stage filter."""
    seen: dict[str, str] = {}
    for pb in current_playbooks(console(request).settings.playbooks_dir).values():
        for sid, step in pb.steps.items():
            if step.kind != "close":
                seen.setdefault(sid, pb.step_title(sid, lang))
    return list(seen.items())


# ---- starting an incident ------------------------------------------------------------------

def _start_page(request: Request, viewer: Viewer, form: StartForm, status: int = 200) -> HTMLResponse:
    every = valid_playbooks(console(request).settings.playbooks_dir)
    halls = [h for h in console(request).directory().halls if viewer.may_start_any(h.id, every)]
    # only the playbooks this person may start at one of those halls (their started_by roles)
    playbooks = [pb for pb in every if any(viewer.may_start(h.id, pb) for h in halls)]
    return page(request, "start.html", viewer, status=status, form=form, halls=halls, playbooks=playbooks,
                categories=v.CATEGORIES, complainant_types=v.COMPLAINANT_TYPES)


@router.get("/incidents/new")
async def start_page(request: Request, viewer: Viewer = Depends(viewer_or_login)) -> HTMLResponse:
    every = valid_playbooks(console(request).settings.playbooks_dir)
    halls = [h.id for h in console(request).directory().halls if viewer.may_start_any(h.id, every)]
    return _start_page(request, viewer, StartForm(hall=halls[0] if halls else "", drill=True,
                                                  submit_token=secrets.token_urlsafe(16)))


@router.post("/incidents", dependencies=[Depends(check_csrf)])
async def start(request: Request, viewer: Viewer = Depends(viewer_or_login)):
    f = await request.form()
    form = StartForm(**{k: str(f.get(k, "")).strip() for k in (
        "hall", "headcount", "lead_name", "lead_phone", "summary", "playbook", "time_scale", "submit_token",
        "address", "account_no", "category", "demands", "complainant_type", "person_involved", "channel",
        "ticket_no", "feeder")},
        drill=f.get("drill") == "on", media_present=f.get("media_present") == "on")
    try:
        incident_id = await console(request).start(viewer, form)
    except Forbidden as exc:  # a playbook outside their started_by roles: said on the form, beside the choice (403)
        form.errors["playbook"] = str(exc)
        return _start_page(request, viewer, form, status=403)
    if incident_id is None:
        return _start_page(request, viewer, form, status=422)
    return back_to(f"/incidents/{incident_id}")


# ---- one incident --------------------------------------------------------------------------

@router.get("/incidents/{incident_id}")
async def incident_page(incident_id: str, request: Request, viewer: Viewer = Depends(viewer_or_login)):
    lang = lang_of(request)
    state, playbook = await console(request).incident(viewer, incident_id)
    directory = console(request).directory()
    messages = [replace(m, body=mask_code(m.purpose, m.body))  # the approval code reaches the director by SMS only
                for m in Outbox(console(request).settings).list(incident_id)]
    step_filter = request.query_params.get("step") or None
    mine = actions(state, playbook, directory, viewer=viewer.id, lang=lang)
    from groupdesk.web.attachments import panel

    evidence = await panel(console(request), viewer, state, playbook, lang)
    from groupdesk.web.finding_view import panel as finding_panel

    found = finding_panel(console(request).settings, directory, viewer, state, playbook, lang)
    correctives = [{**c, "owner_name": person_name(directory, c["owner"])} for c in
                   await (await console(request).gateway()).correctives(viewer, hall=state.hall_id)
                   if c["incident"] == state.id]  # 整改: running and verified, opened from this incident
    return page(request, "incident.html", viewer, **evidence, **found, correctives=correctives, s=state, pb=playbook, hall=hall_name(directory, state.hall_id, lang),
                steps=step_rows(state, playbook, lang), waits=waiting_on(state, playbook, directory, lang),
                mine={sid: [a for a in mine if a["step"] == sid] for sid in state.current_steps},
                plan_acts=[a for a in mine if a["step"] == PLAN_STEP],  # raise or end the running plan
                events=timeline(state, playbook, directory, messages, lang, step_filter), step_filter=step_filter,
                filter_steps=timeline_steps(state, playbook, lang), started_by=person_name(directory, state.started_by),
                owner=person_name(directory, state.owner) if state.owner else "",
                period_responsible=person_name(directory, state.sensitive_period.responsible)
                if state.sensitive_period and state.sensitive_period.responsible else "",
                involved_name=person_name(directory, state.registration.person_involved),
                type_scripts={x["step"]: x["for_complainant_type"] for x in step_scripts(state, playbook, lang)},
                promises=promise_rows(state, directory, viewer, lang),
                may_decide=viewer.may_decide(state.hall_id), may_note=viewer.may_note(state.hall_id),
                may_follow_up=(viewer.holds("hall_lead", state.hall_id) or viewer.may_decide(state.hall_id))
                and viewer.id != state.registration.person_involved,  # 更换当事人
                now=datetime.now(timezone.utc))


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
    if not (score.isascii() and score.isdigit()):
        return back_to(f"/incidents/{incident_id}", "请选择满意度 1-5 / choose a score from 1 to 5", request)
    return await _act(request, incident_id, console(request).follow_up(
        viewer, incident_id, int(score), str(f.get("comment", ""))))


@router.post("/incidents/{incident_id}/handover", dependencies=[Depends(check_csrf)])
async def handover(incident_id: str, request: Request, viewer: Viewer = Depends(viewer_or_login)):
    f = await request.form()
    return await _act(request, incident_id, console(request).hand_over(
        viewer, incident_id, str(f.get("to", "")).strip(), str(f.get("reason", ""))))


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
    lang, directory, cards = lang_of(request), console(request).directory(), []
    for row in await console(request).approvals(viewer):
        try:
            state, playbook = await console(request).incident(viewer, row["id"])
        except Exception:  # noqa: BLE001 - closed or gone between the list and now: not waiting any more
            continue
        for wait in waiting_on(state, playbook, directory, lang):
            if wait["kind"] == "approval":
                last = next((e for e in reversed(state.timeline) if e.kind == "outcome"), None)
                cards.append({"s": state, "w": wait, "hall": hall_name(directory, state.hall_id, lang),
                              "why": last and f"{playbook.step_title(last.step, lang)}: "
                                              f"{event_text(last, playbook, directory, lang)} · "
                                              f"{person_name(directory, last.actor, lang)}",
                              "acts": actions(state, playbook, directory, viewer=viewer.id, lang=lang)})
    return page(request, "approvals.html", viewer, cards=cards)


@router.get("/failed")
async def failed(request: Request, viewer: Viewer = Depends(viewer_or_login)) -> HTMLResponse:
    if not viewer.ops:
        raise Forbidden("only the ops team sees failed steps")
    lang, directory = lang_of(request), console(request).directory()
    titles = dict(step_titles(request, lang))
    rows = [{**r, "hall_name": hall_name(directory, r["hall"], lang), "step_title": titles.get(r["step"], ""),
             "purpose_label": purpose_label(r["purpose"], lang)} for r in await console(request).failed(viewer)]
    return page(request, "failed.html", viewer, rows=rows)


@router.get("/playbooks")
async def playbooks(request: Request, viewer: Viewer = Depends(viewer_or_login)) -> HTMLResponse:
    found = sorted(load_playbooks(console(request).settings.playbooks_dir).values(), key=lambda p: p.id)
    return page(request, "playbooks.html", viewer, playbooks=found)


@router.get("/playbooks/{playbook_id}")
async def playbook_page(playbook_id: str, request: Request, viewer: Viewer = Depends(viewer_or_login)):
    if v.playbook_id_problem(playbook_id):
        raise HTTPException(status_code=404, detail="no such playbook; see /playbooks")
    try:
        pb = find_playbook(console(request).settings.playbooks_dir, playbook_id)
    except PlaybookError:
        raise HTTPException(status_code=404, detail="no such playbook; see /playbooks") from None
    lang = lang_of(request)
    return page(request, "playbook.html", viewer, pb=pb, svg=playbook_svg(pb, lang), rule=escalation_rule(pb, lang),
                ladders=escalation_ladders(pb, lang), previews=template_previews(pb, lang))

