"""What the domestic providers' pushes share: the secret path token, delivery reports applied forward
only, and replies done once each, handled as a Twilio reply is, and answered by an approved template."""

from __future__ import annotations

import hmac
import uuid

import structlog
from fastapi import HTTPException, Request
from pydantic import ValidationError
from temporalio.service import RPCError, RPCStatusCode

from groupdesk.core.models import DeliveryReport
from groupdesk.core.roles import LEAD_COMPLAINANT
from groupdesk.people.directory import current_directory
from groupdesk.messaging.inbox import Inbox
from groupdesk.runtime.masking import mask_phone
from groupdesk.messaging.outgoing import prepare
from groupdesk.messaging.reply_handling import handle_reply
from groupdesk.messaging.reply_texts import Answer
from groupdesk.messaging.sms_templates import cached_registry
from groupdesk.messaging.outbox import DONE_STATUSES, Outbox, OutboxRow
from groupdesk.messaging.errors import PermanentSmsError, RetryableSmsError, UnknownOutcomeError

log = structlog.get_logger("groupdesk.web.push")
MAX_ITEMS = 500  # one pushed batch; the providers send far fewer


def check_token(request: Request, token: str, provider: str) -> None:
    """A push address carries GROUPDESK_WEBHOOK_TOKEN; anything else is not found (and only that is logged)."""
    expected = request.app.state.services.settings.webhook_token
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        log.warning("push with a wrong token", provider=provider)
        raise HTTPException(status_code=404, detail="Not Found")


def field_problem(exc: ValidationError, item: int | None = None) -> str:
    """The first problem of a pushed item, as one line naming the item and the field."""
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"] if p != "__root__") or "body"
    return f"{'' if item is None else f'item {item}: '}{where}: {error['msg']}"


async def apply_report(services, provider: str, row: OutboxRow | None, status: str, provider_id: str,
                       error_code: str = "") -> bool:
    """A delivery report: moves the message forward only. An undelivered one to staff goes on the incident's
    timeline; a delivered one settles a message parked as maybe-sent. True if the message moved."""
    if row is None:
        log.info("delivery report for no message of ours", provider=provider)
        return False
    outbox = Outbox(services.settings)
    moved = outbox.report(row.key, status, provider_id or None, error_code or None)
    if not moved or row.incident_id == REPLIES:
        return moved
    settled = status == "delivered" and row.status == "unknown"
    if settled or (status in ("undelivered", "failed") and row.recipient != LEAD_COMPLAINANT):
        gateway = await services.gateway()
        try:
            await gateway.incident(row.incident_id).report_delivery(
                DeliveryReport(key=row.key, status=status, error_code=error_code))
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            log.info("delivery report after the incident ended", provider=provider)  # the outbox has it
    return moved


REPLIES = "replies"  # the incident id of the outbox rows that answer replies (they belong to none)


async def take_reply(services, provider: str, inbound_id: str, sender: str, text: str) -> Answer | None:
    """One reply, done once per inbound id (a repeated push item does nothing again); the answer is sent
    back through `provider` as an approved template, stored in the outbox like every message."""
    inbox = Inbox(services.settings)
    if not inbox.claim(inbound_id, mask_phone(sender)):
        return None
    answer = await handle_reply(services, sender, text)
    inbox.answer(inbound_id, answer.text if answer else "")
    if answer is not None:
        await send_answer(services, provider, inbound_id, sender, answer)
    return answer


async def send_answer(services, provider_name: str, inbound_id: str, to: str, answer: Answer) -> OutboxRow:
    """Stored before it is sent, once per reply; tried once (a failure stays in `groupdesk sms list`)."""
    provider = services.channels().named(provider_name) or services.channels().for_number(to)
    settings = services.settings
    key = f"{REPLIES}/{provider_name}/{inbound_id}"
    prepared = prepare(provider, answer.source, answer.values, False, key,
                       lambda: cached_registry(settings.playbooks_dir))
    staff = [p.id for p in current_directory(settings.directory).people if p.mobile == to]
    outbox = Outbox(settings)
    claim = outbox.claim_to_send(OutboxRow(
        key=key, incident_id=REPLIES, step=None, purpose="reply_answer", recipient=staff[0] if staff else "sender",
        role="-", to_number=to, lang=answer.lang, body=prepared.body, drill=False, provider=provider.name,
        channel=provider.channel, template_code=prepared.template_code, params=prepared.params,
        out_id=prepared.out_id), f"console/{uuid.uuid4().hex[:8]}")
    if not claim.owned or claim.row.status in DONE_STATUSES:
        return claim.row
    if prepared.problem:
        outbox.mark(key, "failed", *prepared.problem)
        return outbox.get(key)
    try:
        outbox.mark(key, "sent", provider_id=await provider.send(claim.row))
    except PermanentSmsError as exc:
        outbox.mark(key, "failed", exc.code, exc.reason)
    except RetryableSmsError as exc:
        outbox.mark(key, "queued", None, str(exc))
    except UnknownOutcomeError as exc:
        outbox.mark(key, "unknown", None, str(exc))
    log.info("reply answered", provider=provider.name, to=mask_phone(to), answer=answer.name)
    return outbox.get(key)
