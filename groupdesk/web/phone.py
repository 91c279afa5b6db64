"""Dev only, ops only: a phone simulator over the outbox, replying as any number on record.

Replying as the director's phone approves as the director, so the router is mounted only
by `groupdesk dev` (create_app's dev flag, never a setting) and each route is for ops.
With GROUPDESK_STAFF_CHANNEL=wecom it shows each person's WeCom messages beside their SMS, and
presses an approval card's buttons as the member it was sent to: the click is encrypted and
signed with the app's own keys and posted to /wecom/callback, the path WeCom's clicks take.
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
    return page(request, "phone.html", viewer, phones=by_phone, names=names, cards=_cards(request, by_phone),
                replies=request.session.pop("phone_replies", {}))


def _cards(request: Request, by_phone: dict[str, list]) -> dict:
    """The approval cards among the WeCom messages shown, by outbox key (their buttons can be pressed)."""
    settings = console(request).settings
    if settings.staff_channel != "wecom":
        return {}
    from groupdesk.messaging.wecom.cards import task_id_for
    from groupdesk.messaging.wecom.store import WecomCards

    store, found = WecomCards(settings), {}
    for items in by_phone.values():
        for m in items[-8:]:
            if m.channel == "wecom" and m.purpose == "approval_request":
                card = store.get(task_id_for(settings.hash_key(), m.key))
                if card is not None:
                    found[m.key] = card
    return found


@router.post("/phone/wecom", dependencies=[Depends(check_csrf)])
async def phone_card_click(request: Request, viewer: Viewer = Depends(ops_only)):
    """Press 同意 / 不同意 on a card as the member it went to, through WeCom's callback path, encrypted."""
    import httpx

    from groupdesk.messaging.wecom.settings import wecom_app
    from groupdesk.messaging.wecom.simulator import click_xml, sealed
    from groupdesk.messaging.wecom.store import WecomCards

    f = await request.form()
    number, task_id = str(f.get("phone", "")), str(f.get("task_id", ""))[:128]
    button, reason = str(f.get("button", "")), str(f.get("reason", ""))[:16]
    settings = console(request).settings
    card = WecomCards(settings).get(task_id) if settings.staff_channel == "wecom" else None
    if card is None or button not in ("approve", "reject"):
        request.session["phone_replies"] = {number: [button or "?", "no such card or button"]}
        return back_to(f"/phone#{number}")
    app = wecom_app(settings)
    query, body = sealed(app, click_xml(app, card.userid, task_id, button, reason if button == "reject" else ""))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=request.app), base_url=str(request.base_url)) as web:
        answer = await web.post("/wecom/callback", params=query, content=body)
    after = WecomCards(settings).get(task_id)
    said = f"{answer.status_code} {after.status}" + (f": {after.outcome}" if after.outcome else "")
    label = card.card["button_list"][0 if button == "approve" else 1]["text"] + \
        (f" · {card.reasons.get(reason, '')}" if button == "reject" else "")
    request.session["phone_replies"] = {number: [label, said]}
    return back_to(f"/phone#{number}")


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
