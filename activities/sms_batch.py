"""A batch's SMS, rendered: claimed in one transaction, sent at once, their outcomes recorded in one more.

A send slower than RECORD_AFTER is recorded apart, so it does not hold the others' outcomes.
The at-most-once rule comes first: every row is committed as taken (`sending`, this activity's holder) before
its provider is called. A worker that dies between the claim and the mark leaves its rows `sending`; the next
attempt (or another worker after HOLD) looks at the provider before sending one again, or parks it as unknown.
An attempt that ends with a row it could not settle (the provider could not be asked, an unmapped error) marks
it unknown: the workflow's next attempt is a local activity of its own, which a row still held would turn away.
One request's refusal, rate limit or unknown outcome is its own (`Job.error`); a database error fails the batch.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from groupdesk.core.models import Delivery, SendMessages
from groupdesk.messaging import status_links
from groupdesk.messaging.channels import Channels
from groupdesk.messaging.errors import PermanentSmsError, RetryableSmsError, UnknownOutcomeError
from groupdesk.messaging.outbox import DONE_STATUSES, UNCERTAIN_STATUSES, Claim, Mark, Outbox, OutboxRow, ToClaim
from groupdesk.messaging.outgoing import PARKED_UNKNOWN, Prepared
from groupdesk.runtime.masking import mask_phone

log = structlog.get_logger("groupdesk.activities.sms")
RECORD_AFTER = 0.25  # seconds: the sends back by then are recorded in one transaction, the slower ones after


@dataclass(eq=False)
class Job:
    """One request of the batch: its deliveries in order (a Message stands for an SMS not sent yet), or its error."""
    request: SendMessages
    context: dict[str, Any]  # for the logs of this request
    slots: list[Any] = field(default_factory=list)
    approval_key: str | None = None
    error: BaseException | None = None

    def fail(self, exc: BaseException) -> None:
        self.error = self.error or exc  # the first reason wins; the workflow retries the request as a whole

    def deliveries(self) -> list[Delivery]:
        return [slot.delivery if isinstance(slot, Message) else slot for slot in self.slots]


@dataclass(eq=False)
class Message:
    """One SMS of a batch, rendered for the provider its number routes to."""
    job: Job
    role: str
    person_id: str
    provider: Any  # SmsProvider
    prepared: Prepared
    row: OutboxRow
    link: dict | None = None  # the status link's row, stored with the message's text (status_links.mint)
    note: str = ""  # on the timeline: why an SMS went instead of WeCom
    delivery: Delivery | None = None

    def result(self, status: str, masked: str, error: str | None = None) -> Delivery:
        self.delivery = Delivery(key=self.row.key, recipient=self.person_id, role=self.role, status=status,
                                 to_masked=masked, error=error or "", note=self.note)
        return self.delivery


async def send_all(outbox: Outbox, channels: Channels, messages: list[Message], holder: str,
                   links_db=None) -> None:
    """Claim every message (one transaction), send the ones this activity owns at once, mark them (one more).

    `links_db`: the status links' database when it is not the outbox's (then links go in a transaction of
    their own, after the claim, before any send); otherwise they are stored in the claim's transaction.
    """
    if not messages:
        return
    apart = links_db is not None and links_db is not outbox.db
    claims = await asyncio.to_thread(outbox.claim_many, [ToClaim(
        m.row, m.job.request.retry, reopen_unknown=not m.provider.settles_unknown,
        stored_with=partial(status_links.store, row=m.link) if m.link and not apart else None,
    ) for m in messages], holder)
    if apart:
        rows = [m.link for m, c in zip(messages, claims) if m.link and (c.created or c.reopened)]
        if rows:
            await asyncio.to_thread(_store_links, links_db, rows)
    sends = {asyncio.ensure_future(_settle(channels, m, c)): m for m, c in zip(messages, claims)}
    pending = set(sends)
    try:
        while pending:
            # Usually every send is back within RECORD_AFTER: one mark. A slow provider does not hold the others'
            # outcomes: what is back is recorded now, so a worker that dies meanwhile leaves only the slow one open.
            done, pending = await asyncio.wait(pending, timeout=RECORD_AFTER)
            await _record(outbox, [(sends[task], task) for task in done])
    finally:
        for task in pending:  # cancelled, or a mark failed: these rows stay `sending`, as after a crash
            task.cancel()


async def _record(outbox: Outbox, finished: list[tuple[Message, asyncio.Future]]) -> None:
    marks = []
    for message, task in finished:
        if task.cancelled():
            message.job.fail(asyncio.CancelledError())
        elif task.exception() is not None:  # on a row another sender holds: left to it
            message.job.fail(task.exception())
        elif task.result() is not None:
            marks.append(task.result())
    if marks:  # none when every message was done already (a retried batch)
        await asyncio.to_thread(outbox.mark_many, marks)


def _store_links(db, rows: list[dict]) -> None:
    with db.write() as c:
        for row in rows:
            status_links.store(c, row)


async def _settle(channels: Channels, m: Message, claim: Claim) -> Mark | None:
    """Send one claimed message (if this activity owns it and it still needs sending); what to mark."""
    with structlog.contextvars.bound_contextvars(**m.job.context):
        try:
            return await _send(channels, m, claim)
        except Exception as exc:
            if not claim.owned:  # another sender's row: left as it is
                raise
            # Not a provider's answer (a bug, an error no provider maps): it may have gone out, so unknown, and
            # released, for the next attempt to look at the provider first, not held by one that has ended.
            log.error("sms send stopped on an unexpected error", key=m.row.key, error=type(exc).__name__)
            m.job.fail(exc)
            return Mark(m.row.key, "unknown", None, f"the send stopped on an unexpected error ({type(exc).__name__})")


async def _send(channels: Channels, m: Message, claim: Claim) -> Mark | None:
    row, request = claim.row, m.job.request
    key, masked = row.key, mask_phone(m.row.to_number)  # the number the directory gives now
    sender = channels.named(row.provider) or m.provider  # the provider chosen when it was stored
    if claim.reopened:
        log.info("sms retried by ops", key=key, to=masked)
    if row.status in DONE_STATUSES:
        log.info("sms already handled", key=key, to=masked, status=row.status)
        m.result("duplicate", masked)
        return None
    if not claim.owned:
        # Another sender holds it (a worker that died mid-send holds it until HOLD lapses): never two at once. Look
        # again once that hold lapses, not on the usual backoff, which a drill compresses to milliseconds: its
        # attempts would all run out meanwhile and park the message.
        wait = timedelta(seconds=claim.held_for) if claim.held_for else None
        m.job.fail(ApplicationError("being sent by another worker, will check again", type="SmsRetryable",
                                    next_retry_delay=wait))
        return None

    def failed(code: str, reason: str, attempt: bool) -> Mark:
        log.warning("sms refused", key=key, to=masked, code=code)
        _sms_metric("groupdesk_sms_failed", request, sender.name, code)
        m.result("failed", masked, f"{code}: {reason}")
        return Mark(key, "failed", code, reason, attempt=attempt)

    def parked(why: str, attempt: bool = False) -> Mark:
        """Maybe sent, and this provider cannot tell: parked as unknown for ops (or a delivery report)."""
        log.warning("sms outcome unknown, parked", key=key, to=masked, provider=sender.name)
        m.result("failed", masked, f"unknown: {why}. {PARKED_UNKNOWN}")
        return Mark(key, "unknown", None, why, attempt=attempt)

    attempt = False  # a message taken from `queued` counted its attempt when claimed
    if claim.was in UNCERTAIN_STATUSES:
        # An earlier attempt may have reached the provider: look before sending again.
        if row.provider_id:  # a delivery report already named it
            m.result("duplicate", masked)
            return Mark(key, "sent", provider_id=row.provider_id)
        if not sender.settles_unknown:
            return parked(row.error or "the worker stopped while the provider had the message")
        try:
            found = await sender.reconcile(row)
        except UnknownOutcomeError as exc:  # unknown as it was, and no longer held by this attempt
            m.job.fail(ApplicationError(f"cannot tell whether the message was sent: {exc}", type="SmsUnknownOutcome"))
            return Mark(key, "unknown", None, row.error or str(exc))
        if found:
            log.info("sms found at the provider, not resent", key=key, to=masked)
            m.result("duplicate", masked)
            return Mark(key, "sent", provider_id=found)
        attempt = True  # sent again now: this attempt counts when its outcome is marked
    if m.prepared.problem:
        return failed(*m.prepared.problem, attempt)
    try:
        provider_id = await sender.send(row)
    except PermanentSmsError as exc:
        return failed(exc.code, exc.reason, attempt)
    except RetryableSmsError as exc:
        wait = timedelta(seconds=exc.retry_after) if exc.retry_after else None
        m.job.fail(ApplicationError(f"not sent, will retry: {exc}", type="SmsRetryable", next_retry_delay=wait))
        return Mark(key, "queued", None, str(exc), attempt=attempt)
    except UnknownOutcomeError as exc:
        if not sender.settles_unknown:
            return parked(str(exc), attempt)
        m.job.fail(ApplicationError(f"outcome unknown, will check before resending: {exc}",
                                    type="SmsUnknownOutcome"))
        return Mark(key, "unknown", None, str(exc), attempt=attempt)
    _sms_metric("groupdesk_sms_sent", request, sender.name)
    m.result("sent", masked)
    return Mark(key, "sent", provider_id=provider_id, attempt=attempt)


def _sms_metric(name: str, request: SendMessages, provider: str, code: str = "") -> None:
    attributes = {"provider": provider, "purpose": request.purpose, "drill": str(request.drill).lower()}
    if code:
        attributes["error_code"] = code
    activity.metric_meter().create_counter(name, "SMS by outcome").add(1, attributes)


