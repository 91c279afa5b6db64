"""Staff messages on WeCom (GROUPDESK_STAFF_CHANNEL=wecom): one outbox row of channel `wecom` per message,
and, when WeCom cannot take it, the SMS instead at once, with the reason for the timeline.

The WeCom row (key: the SMS key + "/wecom") is claimed before WeCom is called, as an SMS is. WeCom
cannot be asked whether it has a message, so a row left `sending` by a dead worker is sent again,
and WeCom's duplicate check (content unique per key) drops the twin. What WeCom's answer means
(groupdesk/messaging/wecom/channel.py):
- sent: the row is `sent` with WeCom's msgid;
- rate limited or busy (45009, 45033, -1, no answer, 5xx): the row goes back to `queued` and the
  send is retried later; after MAX_BUSY_ATTEMPTS tries the SMS goes instead;
- the member is unknown (81013, invaliduser), the Secret is refused (40001), any other refusal, or
  no `wecom_userid` in the directory: the row is `failed` with FELL_BACK and the reason, and the
  caller sends the SMS (its own row, its own exactly-once rules). A retry finds that and sends the
  SMS only (once).
Escalations to the centre director and above go by both channels (`both_channels`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from groupdesk.core.models import Delivery, SendMessages
from groupdesk.core.roles import UNIT_ROLE_LABELS
from groupdesk.messaging.outbox import DONE_STATUSES, Outbox, OutboxRow
from groupdesk.messaging.wecom.channel import FELL_BACK, REASONS, FallBackToSms, RetryLater, Sent, WecomChannel, WecomMessage
from groupdesk.messaging.wecom.outgoing import send_approval_card
from groupdesk.messaging.wecom.store import WecomCards
from groupdesk.runtime.masking import mask_phone

log = structlog.get_logger("groupdesk.activities.wecom")

CHANNEL = "wecom"
SUFFIX = "/wecom"  # a WeCom row's key: the SMS key of the same message + this
MAX_BUSY_ATTEMPTS = 5  # WeCom rate-limited or busy this many times: the SMS goes instead
# Escalations to these go by WeCom and by SMS: the centre director and everyone above a hall.
SENIOR_ROLES = frozenset({"centre_director", "city_emergency_office", "emergency_leadership_office",
                          *UNIT_ROLE_LABELS})


def both_channels(request: SendMessages, role: str) -> bool:
    """An escalation to the centre director or above: it must not be missed, so it goes both ways."""
    return request.purpose == "escalation" and role in SENIOR_ROLES


@dataclass(frozen=True)
class WecomOutcome:
    delivery: Delivery | None  # the WeCom message (sent now, or already): None when it fell back
    fallback: str = ""  # why the SMS goes instead ("": it does not)


@dataclass
class WecomRoute:
    channel: WecomChannel
    outbox: Outbox
    cards: WecomCards
    hash_key: bytes
    public_url: str

    @classmethod
    def from_settings(cls, settings, outbox: Outbox) -> "WecomRoute":
        return cls(WecomChannel.from_settings(settings, timeout=5.0), outbox, WecomCards(settings),
                   settings.hash_key(), settings.public_url)

    async def deliver(self, request: SendMessages, role: str, person_id: str, userid: str | None, phone: str,
                      lang: str, text: str, code_key: str | None) -> WecomOutcome:
        """The message to one staff member on WeCom; `code_key`: an approval request to its owner (a card)."""
        if not userid:
            return WecomOutcome(None, REASONS["no_userid"])
        key = f"{request.key}/{person_id}{SUFFIX}"
        info = activity.info()
        claim = await asyncio.to_thread(self.outbox.claim_to_send, OutboxRow(
            key=key, incident_id=request.incident_id, step=request.step, purpose=request.purpose,
            recipient=person_id, role=role, to_number=phone, lang=lang, body=text, drill=request.drill,
            provider=CHANNEL, channel=CHANNEL), f"{info.workflow_id}/{info.activity_id}#{info.attempt}", request.retry)
        row = claim.row
        masked = mask_phone(phone)
        bound = log.bind(key=key, role=role, userid=userid)
        if row.status in DONE_STATUSES:
            if row.status == "failed" and (row.error or "").startswith(FELL_BACK):
                return WecomOutcome(None, row.error[len(FELL_BACK):])  # the SMS went (or goes now) instead
            return WecomOutcome(Delivery(key=key, recipient=person_id, role=role, to_masked=masked,
                                         status="duplicate", channel=CHANNEL))
        if not claim.owned:
            raise ApplicationError("being sent by another worker, will check again", type="SmsRetryable")
        if code_key is not None:
            result = await send_approval_card(
                self.channel, self.cards, hash_key=self.hash_key, send=request, message_key=key,
                person_id=person_id, userid=userid, lang=lang, code_key=code_key, public_url=self.public_url,
                reasons=request.refusal_reasons)
        else:
            # the text as first stored: a workflow task run again after a crash may render another deadline minute,
            # and WeCom's duplicate check knows a resend only by the same content
            result = await self.channel.send(WecomMessage(key=key, userid=userid, purpose=request.purpose,
                                                          text=row.body, drill=request.drill))
        if isinstance(result, Sent):
            await asyncio.to_thread(self.outbox.mark, key, "sent", provider_id=result.msgid[:64] or None)
            return WecomOutcome(Delivery(key=key, recipient=person_id, role=role, to_masked=masked, status="sent",
                                         channel=CHANNEL))
        if isinstance(result, RetryLater):
            if row.attempts < MAX_BUSY_ATTEMPTS:
                await asyncio.to_thread(self.outbox.mark, key, "queued", result.code, result.reason)
                raise ApplicationError(f"not sent on WeCom, will retry: {result.reason}", type="SmsRetryable",
                                       next_retry_delay=timedelta(seconds=result.after))
            result = FallBackToSms(result.code, f"{result.reason}, {row.attempts} times")
        assert isinstance(result, FallBackToSms)
        await asyncio.to_thread(self.outbox.mark, key, "failed", result.code[:32], FELL_BACK + result.reason)
        bound.warning("wecom message falls back to SMS", code=result.code)
        return WecomOutcome(None, result.reason)


def fallback_note(reason: str) -> str:
    """What the timeline says of a staff message that went by SMS instead of WeCom."""
    return f"WeCom → SMS: {reason}"

