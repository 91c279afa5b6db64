"""Dev only, ops only: a phone simulator over the outbox, replying as any number on record.

Replying as the director's phone approves as the director, so the router is mounted only
by `groupdesk dev` (create_app's dev flag, never a setting) and each route is for ops.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from groupdesk.messaging.routes import TEMPLATE_PROVIDERS
from groupdesk.messaging.outbox import Outbox
from groupdesk.web.auth import check_csrf
from groupdesk.web.pages import back_to, console, page, viewer_or_login
from groupdesk.web.permissions import Viewer, require

router = APIRouter(include_in_schema=False)


def ops_only(viewer: Viewer = Depends(viewer_or_login)) -> Viewer:
    require(viewer.ops, "the phone simulator is for ops (it can reply as anyone, the director included)")
    return viewer


@router.get("/phone")
async def phone(request: Request, viewer: Viewer = Depends(ops_only)) -> HTMLResponse:
    by_phone: dict[str, list] = {}
    for message in Outbox(console(request).settings).list(limit=2000):
        by_phone.setdefault(message.to_number, []).append(message)
    names = {p.mobile: p.name for p in console(request).directory().people}
    return page(request, "phone.html", viewer, phones=by_phone, names=names,
                replies=request.session.pop("phone_replies", {}))


@router.post("/phone/reply", dependencies=[Depends(check_csrf)])
async def phone_reply(request: Request, viewer: Viewer = Depends(ops_only)):
    """The same reply path as the provider in use for that number: Twilio's, or a domestic provider's
    pushed reply (done once, answered by an approved template through that provider, in the outbox)."""
    f = await request.form()
    sender, body = str(f.get("phone", "")), str(f.get("body", ""))
    services = request.app.state.services
    provider = services.channels().routes.provider_for(sender)
    if provider in TEMPLATE_PROVIDERS:
        from groupdesk.web.push_common import take_reply

        said = await take_reply(services, provider, f"phone:{uuid.uuid4().hex}", sender, body)
        answer = said.text if said else ""
    else:
        from groupdesk.web.twilio_webhooks import handle_reply

        answer = await handle_reply(services, sender, body)
    request.session["phone_replies"] = {sender: [body, answer]}
    return back_to(f"/phone#{sender}")
