"""Twilio's webhooks: delivery reports and inbound SMS replies, both signature-checked."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from groupdesk.core.models import DeliveryReport
from groupdesk.core.phones import Phone
from groupdesk.core.roles import LEAD_COMPLAINANT
from groupdesk.messaging.callback_fields import TWILIO_INBOUND, TWILIO_STATUS, Field, callback_problem
from groupdesk.messaging.inbox import Inbox
from groupdesk.runtime.masking import mask_phone
from groupdesk.messaging.reply_handling import handle_reply as shared_reply
from groupdesk.messaging.outbox import Outbox

router = APIRouter(prefix="/twilio")


def twiml(text: str | None) -> Response:
    reply = MessagingResponse()
    if text:
        reply.message(text)
    return Response(str(reply), media_type="application/xml")


OUR_KEY = (Field("key", 512, required=True, what="an outbox key"),)  # in the status callback URL we gave Twilio


def refused(problem: str) -> Response:
    return Response(problem, status_code=400, media_type="text/plain")


async def signed_form(request: Request) -> dict[str, str] | None:
    """The form, if X-Twilio-Signature matches it for our public URL; otherwise None."""
    settings = request.app.state.services.settings
    form = {k: str(v) for k, v in (await request.form()).items()}
    url = settings.public_url.rstrip("/") + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.twilio_auth_token:
        return None
    return form if RequestValidator(settings.twilio_auth_token).validate(url, form, signature) else None


@router.post("/status")
async def delivery_status(request: Request) -> Response:
    form = await signed_form(request)
    if form is None:
        return Response("invalid signature", status_code=403)
    if problem := callback_problem(form, TWILIO_STATUS) or callback_problem(request.query_params, OUR_KEY):
        return refused(problem)  # signed, but not what Twilio sends: nothing is stored
    services = request.app.state.services
    key, status = request.query_params.get("key", ""), form.get("MessageStatus", "")
    outbox = Outbox(services.settings)
    moved = outbox.report(key, status, form.get("MessageSid"), form.get("ErrorCode") or None)
    row = outbox.get(key) if moved else None
    if row and status in ("undelivered", "failed") and row.recipient != LEAD_COMPLAINANT:
        gateway = await services.gateway()
        await gateway.incident(row.incident_id).report_delivery(
            DeliveryReport(key=key, status=status, error_code=form.get("ErrorCode") or ""))
    return Response(status_code=204)


@router.post("/inbound")
async def inbound_sms(request: Request) -> Response:
    form = await signed_form(request)
    if form is None:
        return Response("invalid signature", status_code=403)
    if problem := callback_problem(form, TWILIO_INBOUND):
        return refused(problem)  # signed, but not what Twilio sends: nothing is stored or answered
    services = request.app.state.services
    inbox = Inbox(services.settings)
    sid = form.get("MessageSid", "")
    try:
        sender = Phone.parse(form.get("From", ""))
    except ValueError:
        sender = form.get("From", "")
    if not inbox.claim(sid, mask_phone(sender)):
        return twiml(inbox.reply_for(sid))  # redelivered: answered the same, done once
    text = await handle_reply(services, sender, form.get("Body", ""))
    inbox.answer(sid, text)
    return twiml(text)


async def handle_reply(services, sender: str, body: str) -> str:
    """The shared reply handling (groupdesk/messaging/reply_handling.py), answered as text."""
    answer = await shared_reply(services, sender, body)
    return answer.text if answer else ""
