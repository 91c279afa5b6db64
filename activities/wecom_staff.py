"""Staff messages on WeCom (GROUPDESK_STAFF_CHANNEL=wecom): one outbox row of channel `wecom` per message,
and, when WeCom cannot take it, the SMS instead at once, with the reason for the timeline.

A batch's WeCom rows (key: the SMS key + "/wecom") are claimed in ONE write transaction before WeCom is
called (`Outbox.claim_many`), the requests' messages go side by side (each request's one after another), and
their outcomes are recorded in ONE more (`Outbox.mark_many`), before the SMS of the batch are claimed
(activities/sms_batch.py). WeCom cannot be asked whether it has a message, so a row left `sending` by a dead
worker is sent again, and WeCom's duplicate check (content unique per key) drops the twin. What WeCom's answer
means (groupdesk/messaging/wecom/channel.py):
- sent: the row is `sent` with WeCom's msgid;
- rate limited or busy (45009, 45033, -1, no answer, 5xx): the row goes back to `queued` and the
  request is retried later; after MAX_BUSY_ATTEMPTS tries the SMS goes instead;
- the member is unknown (81013, invaliduser), the Secret is refused (40001), any other refusal, or
  no `wecom_userid` in the directory (then no row): the row is `failed` with FELL_BACK and the reason, and
  the SMS joins the batch (its own row, its own exactly-once rules). A retry finds that and sends the
  SMS only (once).
One request's refusal, rate limit or exception is its own (`Job.error`); a database error fails the batch.
Escalations to the centre director and above go by both channels (`both_channels`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import structlog
from temporalio.exceptions import ApplicationError

from activities.sms_batch import Job, Message
from groupdesk.core.models import Delivery, SendMessages
from groupdesk.core.roles import UNIT_ROLE_LABELS
from groupdesk.messaging.outbox import DONE_STATUSES, Claim, Mark, Outbox, OutboxRow, ToClaim
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


@dataclass(eq=False)
class StaffOnWecom:
    """A staff message that goes on WeCom first; `sms` is its fallback (and goes too when `both`)."""
    sms: Message
    both: bool
    userid: str | None
    text: str
    card: str | None  # an approval request to its owner: a card with the code's key


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

    async def deliver_all(self, jobs: list[Job], holder: str) -> None:
        """Every WeCom message of the batch: one claim, the calls, one mark; each slot becomes its WeCom delivery,
        or its SMS (which then goes with the batch's SMS), or the request fails."""
        reach: list[tuple[Job, StaffOnWecom]] = []
        for job in [j for j in jobs if j.error is None]:
            for slot in [s for s in job.slots if isinstance(s, StaffOnWecom)]:  # a copy: a fallback edits the slots
                if slot.userid:
                    reach.append((job, slot))
                else:
                    _fall_back(job, slot, REASONS["no_userid"])
        if not reach:
            return
        claims = await asyncio.to_thread(self.outbox.claim_many, [
            ToClaim(_row(job.request, slot), job.request.retry) for job, slot in reach], holder)
        by_job: dict[Job, list[tuple[StaffOnWecom, Claim]]] = {}
        for (job, slot), claim in zip(reach, claims):
            by_job.setdefault(job, []).append((slot, claim))
        marks: list[Mark] = []
        await asyncio.gather(*(self._request(job, claimed, marks) for job, claimed in by_job.items()))
        if marks:  # none when every message was done already (a retried batch)
            await asyncio.to_thread(self.outbox.mark_many, marks)

    async def _request(self, job: Job, claimed: list[tuple[StaffOnWecom, Claim]], marks: list[Mark]) -> None:
        """One request's WeCom messages, one after another; an exception is this request's alone (its row is left
        `sending`, and the next attempt sends it again: WeCom's duplicate check drops a twin)."""
        with structlog.contextvars.bound_contextvars(**job.context):
            for slot, claim in claimed:
                try:
                    mark = await self._deliver(job, slot, claim)
                except Exception as exc:  # noqa: BLE001 - this request's own: retried alone
                    job.fail(exc)
                    continue
                if mark is not None:
                    marks.append(mark)

    async def _deliver(self, job: Job, slot: StaffOnWecom, claim: Claim) -> Mark | None:
        """One claimed message to one staff member on WeCom (a card: an approval request to its owner); what to
        mark."""
        request, sms, row = job.request, slot.sms, claim.row
        key, masked = row.key, mask_phone(sms.row.to_number)
        if row.status in DONE_STATUSES:
            if row.status == "failed" and (row.error or "").startswith(FELL_BACK):
                _fall_back(job, slot, row.error[len(FELL_BACK):])  # the SMS went (or goes now) instead
            else:
                _replace(job, slot, Delivery(key=key, recipient=sms.person_id, role=sms.role, to_masked=masked,
                                             status="duplicate", channel=CHANNEL))
            return None
        if not claim.owned:
            job.fail(ApplicationError("being sent by another worker, will check again", type="SmsRetryable"))
            return None
        if slot.card is not None:
            result = await send_approval_card(
                self.channel, self.cards, hash_key=self.hash_key, send=request, message_key=key,
                person_id=sms.person_id, userid=slot.userid, lang=sms.row.lang, code_key=slot.card,
                public_url=self.public_url, reasons=request.refusal_reasons)
        else:
            # the text as first stored: a workflow task run again after a crash may render another deadline minute,
            # and WeCom's duplicate check knows a resend only by the same content
            result = await self.channel.send(WecomMessage(key=key, userid=slot.userid, purpose=request.purpose,
                                                          text=row.body, drill=request.drill))
        if isinstance(result, Sent):
            _replace(job, slot, Delivery(key=key, recipient=sms.person_id, role=sms.role, to_masked=masked,
                                         status="sent", channel=CHANNEL))
            return Mark(key, "sent", provider_id=result.msgid[:64] or None)
        if isinstance(result, RetryLater):
            if row.attempts < MAX_BUSY_ATTEMPTS:
                job.fail(ApplicationError(f"not sent on WeCom, will retry: {result.reason}", type="SmsRetryable",
                                          next_retry_delay=timedelta(seconds=result.after)))
                return Mark(key, "queued", result.code, result.reason)
            result = FallBackToSms(result.code, f"{result.reason}, {row.attempts} times")
        assert isinstance(result, FallBackToSms)
        log.warning("wecom message falls back to SMS", key=key, role=sms.role, userid=slot.userid, code=result.code)
        _fall_back(job, slot, result.reason)
        return Mark(key, "failed", result.code[:32], FELL_BACK + result.reason)


def _row(request: SendMessages, slot: StaffOnWecom) -> OutboxRow:
    sms = slot.sms
    return OutboxRow(key=f"{sms.row.key}{SUFFIX}", incident_id=request.incident_id, step=request.step,
                     purpose=request.purpose, recipient=sms.person_id, role=sms.role, to_number=sms.row.to_number,
                     lang=sms.row.lang, body=slot.text, drill=request.drill, provider=CHANNEL, channel=CHANNEL)


def _replace(job: Job, slot: StaffOnWecom, delivery: Delivery) -> None:
    job.slots[job.slots.index(slot)] = delivery


def _fall_back(job: Job, slot: StaffOnWecom, reason: str) -> None:
    """The SMS instead, noted; for a message that goes both ways the SMS is in the batch already."""
    slot.sms.note = fallback_note(reason)
    if slot.both:
        job.slots.remove(slot)
    else:
        _replace(job, slot, slot.sms)


def fallback_note(reason: str) -> str:
    """What the timeline says of a staff message that went by SMS instead of WeCom."""
    return f"WeCom → SMS: {reason}"
