"""WeCom's callback URL (`GET|POST /wecom/callback`): URL verification, and approval card clicks.

Mounted only with GROUPDESK_STAFF_CHANNEL=wecom. Every request is checked (msg_signature with the
Token, AES with the EncodingAESKey, our corp id and AgentId); one that fails gets 403 and changes
nothing. A click is decided once: a redelivered event (WeCom retries when it has no answer within
5 s) is answered and does nothing more. After a click the clicker's card is replaced, spending
the click's one-time ResponseCode, once the answer is on its way.
"""

from __future__ import annotations

import asyncio

import structlog
from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import PlainTextResponse

from groupdesk.messaging.wecom.callback import CallbackCrypto, CallbackRefused, OtherEvent

router = APIRouter(prefix="/wecom", include_in_schema=False)
log = structlog.get_logger("groupdesk.web.wecom")


class WecomSide:
    """What the WeCom endpoints share, made once per app: the app's settings, crypto, channel and stores."""

    def __init__(self, settings):
        from groupdesk.messaging.approval_codes import ApprovalCodes
        from groupdesk.messaging.wecom.channel import WecomChannel
        from groupdesk.messaging.wecom.settings import wecom_app
        from groupdesk.messaging.wecom.store import WecomCards, WecomEvents

        self.app = wecom_app(settings)
        self.crypto = CallbackCrypto(self.app)
        self.channel = WecomChannel.from_settings(settings)
        self.cards, self.events = WecomCards(settings), WecomEvents(settings)
        self.codes = ApprovalCodes.for_settings(settings)


def side(request: Request) -> WecomSide:
    state = request.app.state
    if getattr(state, "wecom", None) is None:
        state.wecom = WecomSide(state.services.settings)
    return state.wecom


def _forbidden(request: Request, exc: CallbackRefused) -> PlainTextResponse:
    from groupdesk.web.throttle import mask_address

    log.warning("wecom callback refused", reason=str(exc), client=mask_address(request.client.host if request.client
                                                                                  else ""))
    return PlainTextResponse("forbidden", status_code=403)


@router.get("/callback")
async def verify_url(request: Request, msg_signature: str = "", timestamp: str = "", nonce: str = "",
                     echostr: str = "") -> PlainTextResponse:
    """WeCom checks the URL when an admin saves it: the decrypted echostr back, exactly, as plain text."""
    try:  # a '+' of the base64 echostr reaches us as a space if WeCom's encoding of it was lost
        plain = side(request).crypto.echo(msg_signature, timestamp, nonce, echostr.replace(" ", "+"))
    except CallbackRefused as exc:
        return _forbidden(request, exc)
    return PlainTextResponse(plain)


@router.post("/callback")
async def receive(request: Request, background: BackgroundTasks, msg_signature: str = "", timestamp: str = "",
                  nonce: str = "") -> PlainTextResponse:
    wecom = side(request)
    try:
        event = wecom.crypto.event(wecom.crypto.message(await request.body(), msg_signature, timestamp, nonce))
    except CallbackRefused as exc:
        return _forbidden(request, exc)
    if isinstance(event, OtherEvent):
        return PlainTextResponse("")  # entering the app, a typed message: nothing to do
    from groupdesk.people.directory import current_directory
    from groupdesk.messaging.wecom.clicks import decide_click
    from groupdesk.messaging.wecom.store import event_key

    key = event_key(*event.identity)
    if not await asyncio.to_thread(wecom.events.claim, key, event.task_id):
        log.info("wecom event redelivered, already handled", task_id=event.task_id)
        return PlainTextResponse("")
    services = request.app.state.services
    try:
        result = await decide_click(await services.gateway(), current_directory(services.settings.directory),
                                    wecom.cards, wecom.codes, event)
    except Exception as exc:  # noqa: BLE001 - Temporal unreachable: nothing changed, WeCom may deliver it again
        await asyncio.to_thread(wecom.events.release, key)
        log.warning("wecom click not handled", task_id=event.task_id, error=f"{type(exc).__name__}: {exc}"[:300])
        return PlainTextResponse("temporarily unavailable; try again", status_code=503)
    await asyncio.to_thread(wecom.events.done, key, result.outcome)
    log.info("wecom card click", task_id=event.task_id, outcome=result.outcome, detail=result.detail[:200])
    if result.card is not None and event.response_code:
        background.add_task(wecom.channel.update_card, event.userid, event.response_code, result.card)
    return PlainTextResponse("")
