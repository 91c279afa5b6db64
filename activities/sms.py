"""Send one step's messages: resolve recipients now, render, store once, hand to the provider."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from groupdesk.core import activities as declared, involved
from groupdesk.core.activities import implements
from groupdesk.messaging.approval_codes import ApprovalCodes
from groupdesk.people.directory import Directory, Person
from groupdesk.core.durations import format_seconds
from groupdesk.runtime.masking import mask_phone
from groupdesk.core.batch import BatchResult, SendBatch, SendOutcome
from groupdesk.core.models import Delivery, SendMessages, SendResult
from groupdesk.messaging.outbox import DONE_STATUSES, UNCERTAIN_STATUSES, Outbox, OutboxRow
from groupdesk.core.roles import LANGUAGES, LEAD_COMPLAINANT, PERSON_PREFIX, role_label
from groupdesk.messaging.channels import Channels
from groupdesk.messaging.outgoing import PARKED_UNKNOWN, Prepared, prepare
from groupdesk.messaging.errors import PermanentSmsError, RetryableSmsError, UnknownOutcomeError
from groupdesk.messaging.provider import SmsProvider
from groupdesk.messaging.status_links import LINK_VARIABLE, StatusLinks, complainant_source
from groupdesk.core.workcal import format_local
from groupdesk.playbooks.templating import render
from activities.wecom_staff import WecomRoute, both_channels, fallback_note

TIME_KEYS = ("deadline", "appointment_at", "previous_at")  # previous_at: a re-promise's old time
HIDDEN_CODE = "******"  # what a recipient other than the approver reads in place of the code

log = structlog.get_logger("groupdesk.activities.sms")


class SmsActivities:
    def __init__(self, outbox: Outbox, provider: SmsProvider | Channels, directory_loader,
                 codes: ApprovalCodes | None = None, registry_loader=None, wecom: WecomRoute | None = None,
                 links: StatusLinks | None = None):
        self.outbox = outbox
        self.wecom = wecom  # GROUPDESK_STAFF_CHANNEL=wecom: staff messages go there first
        # The providers in use and the routes among them (one provider: every number goes to it).
        self.channels = provider if isinstance(provider, Channels) else Channels.single(provider)
        self._registry_loader = registry_loader  # the SMS template registry, for Aliyun and Tencent Cloud
        self.codes = codes  # approval codes are made here, outside workflow code
        self.links = links  # so are the complainant's status links (none: the link is left empty)
        # Read at every send, so a corrected phone number is used by the next message.
        self._directory_loader = directory_loader

    @implements(declared.send_messages)
    async def send_messages(self, request: SendMessages) -> SendResult:
        info = activity.info()
        with structlog.contextvars.bound_contextvars(
            incident_id=request.incident_id, workflow_id=info.workflow_id, step=request.step,
            purpose=request.purpose, attempt=info.attempt,
        ):
            return await self._send_all(request)

    @implements(declared.send_batch)
    async def send_batch(self, batch: SendBatch) -> BatchResult:
        """Each request as send_messages would, at once; what failed is returned for the workflow to retry."""
        info = activity.info()
        outcomes = await asyncio.gather(*(self._outcome(r, info) for r in batch.requests))
        return BatchResult(outcomes=outcomes, finished_at=datetime.now(timezone.utc))

    async def _outcome(self, request: SendMessages, info) -> SendOutcome:
        with structlog.contextvars.bound_contextvars(
            incident_id=request.incident_id, workflow_id=info.workflow_id, step=request.step,
            purpose=request.purpose, attempt=info.attempt,
        ):
            try:
                return SendOutcome(result=await self._send_all(request))
            except ApplicationError as exc:
                wait = exc.next_retry_delay.total_seconds() if exc.next_retry_delay else 0.0
                return SendOutcome(error=str(exc), retryable=not exc.non_retryable, retry_after=wait)
            except Exception as exc:  # a database or network error: the next attempt may get through
                log.warning("sms batch request failed", error=type(exc).__name__)
                return SendOutcome(error=f"{type(exc).__name__}: {exc}", retryable=True)

    async def _send_all(self, request: SendMessages) -> SendResult:
        bound = log
        directory: Directory = self._directory_loader()
        deliveries: list[Delivery] = []
        code = approval_key = None
        if request.purpose == "approval_request":  # its code is made here, never in workflow code
            if self.codes is None:
                raise ApplicationError("this worker has no approval-code store", type="NoApprovalCodes",
                                       non_retryable=True)
            code, approval_key = await asyncio.to_thread(self.codes.issue, request.key, request.incident_id,
                                                          request.hall_id)
        seen: set[str] = set()  # one message per person, whatever roles they are reached by
        for recipient in request.recipients:
            people = self._people(directory, request, recipient)
            if not people:
                deliveries.append(Delivery(
                    key=f"{request.key}/{recipient}", recipient=recipient, role=recipient, status="failed",
                    error=f"no one holds role {recipient} at hall {request.hall_id}; add them to the staff directory",
                ))
                bound.warning("sms recipient missing", role=recipient)
                continue
            for person_id, name, phone, lang in people:
                if person_id in seen:
                    continue
                seen.add(person_id)
                extra = {} if code is None else {"approval_code": code if recipient == request.owner_role
                                                 else HIDDEN_CODE}
                deliveries.extend(await self._deliver(request, recipient, person_id, name, phone, lang, bound,
                                                      extra, directory, approval_key))
        return SendResult(deliveries=deliveries, approval_key=approval_key)

    async def _deliver(self, request: SendMessages, role: str, person_id: str, name: str, phone: str, lang: str,
                       bound, extra: dict[str, str], directory: Directory, code_key: str | None) -> list[Delivery]:
        """By SMS; or, for staff with GROUPDESK_STAFF_CHANNEL=wecom, by WeCom with the SMS as the fallback
        (activities/wecom_staff.py), and by both for an escalation to the centre director or above."""
        if self.wecom is None or role == LEAD_COMPLAINANT:  # complainants always get SMS
            return [await self._send_one(request, role, person_id, name, phone, lang, bound, extra)]
        both = both_channels(request, role)
        found = [await self._send_one(request, role, person_id, name, phone, lang, bound, extra)] if both else []
        person = directory.person(person_id)
        card = code_key if request.purpose == "approval_request" and role == request.owner_role else None
        shown = {**extra, "approval_code": HIDDEN_CODE} if card else extra  # the card has buttons; only SMS a code
        text = render(source_for(request, role, lang), {**_context(request, role, name, lang), **shown})
        outcome = await self.wecom.deliver(request, role, person_id, person.wecom_userid if person else None,
                                           phone, lang, text, card)
        if outcome.delivery is not None:
            found.append(outcome.delivery)
        if outcome.fallback:
            sms = found.pop() if both else await self._send_one(request, role, person_id, name, phone, lang,
                                                                bound, extra)
            found.append(sms.model_copy(update={"note": fallback_note(outcome.fallback)}))
        return found

    def _people(self, directory: Directory, request: SendMessages, recipient: str) -> list[tuple[str, str, str, str]]:
        if recipient == LEAD_COMPLAINANT:
            lead = request.lead
            return [(LEAD_COMPLAINANT, lead.name, lead.phone, lead.lang)] if lead else []
        if recipient.startswith(PERSON_PREFIX):
            person = directory.person(recipient[len(PERSON_PREFIX):])
            return [(person.id, person.name, person.mobile, person.lang)] if person and person.id not in \
                request.excluded else []
        if request.excluded:  # 更换当事人: not to the person the complaint is about; their role goes up the chain
            hall = directory.hall(request.hall_id)
            ids = involved.recipients(recipient, hall.roles if hall else {}, request.excluded[0], request.chain)
            return [(p.id, p.name, p.mobile, p.lang) for pid in ids if (p := directory.person(pid))]
        staff: list[Person] = directory.staff(request.hall_id, recipient)
        return [(p.id, p.name, p.mobile, p.lang) for p in staff]

    async def _send_one(self, request: SendMessages, role: str, person_id: str, name: str, phone: str,
                        lang: str, bound, extra: dict[str, str]) -> Delivery:
        key = f"{request.key}/{person_id}"
        provider = self.channels.for_number(phone)  # by route, now; the row keeps it
        source = source_for(request, role, lang)
        if role == LEAD_COMPLAINANT:  # every message to the complainant carries the link to their status page
            source = complainant_source(source, lang)
            extra = {**extra, LINK_VARIABLE: await self._link(request, key, phone)}
        prepared: Prepared = prepare(provider, source,
                                     {**_context(request, role, name, lang), **extra}, request.drill, key,
                                     self._registry_loader)
        info = activity.info()
        claim = await asyncio.to_thread(self.outbox.claim_to_send, OutboxRow(
            key=key, incident_id=request.incident_id, step=request.step, purpose=request.purpose,
            recipient=person_id, role=role, to_number=phone, lang=lang, body=prepared.body, drill=request.drill,
            provider=provider.name, channel=provider.channel, template_code=prepared.template_code,
            params=prepared.params, out_id=prepared.out_id,
        ), f"{info.workflow_id}/{info.activity_id}#{info.attempt}", request.retry,
            reopen_unknown=not provider.settles_unknown)
        row = claim.row
        sender = self.channels.named(row.provider) or provider  # the provider chosen when it was stored
        if claim.reopened:
            bound.info("sms retried by ops", key=key, to=mask_phone(phone))
        masked = mask_phone(phone)
        done = Delivery(key=key, recipient=person_id, role=role, to_masked=masked, status="duplicate")
        if row.status in DONE_STATUSES:
            bound.info("sms already handled", key=key, to=masked, status=row.status)
            return done
        if not claim.owned:
            # Another worker is sending it right now: never two at once; look again on the next attempt.
            raise ApplicationError("being sent by another worker, will check again", type="SmsRetryable")

        def failed(code: str, reason: str) -> Delivery:
            bound.warning("sms refused", key=key, to=masked, code=code)
            _sms_metric("groupdesk_sms_failed", request, sender.name, code)
            return Delivery(key=key, recipient=person_id, role=role, to_masked=masked, status="failed",
                            error=f"{code}: {reason}")

        async def parked(why: str) -> Delivery:
            """Maybe sent, and this provider cannot tell: parked as unknown for ops (or a delivery report)."""
            await asyncio.to_thread(self.outbox.mark, key, "unknown", None, why)
            bound.warning("sms outcome unknown, parked", key=key, to=masked, provider=sender.name)
            return Delivery(key=key, recipient=person_id, role=role, to_masked=masked, status="failed",
                            error=f"unknown: {why}. {PARKED_UNKNOWN}")

        if claim.was in UNCERTAIN_STATUSES:
            # An earlier attempt may have reached the provider: look before sending again.
            current = await asyncio.to_thread(self.outbox.get, key)
            if current and current.provider_id:  # a delivery report already named it
                await asyncio.to_thread(self.outbox.mark, key, "sent", provider_id=current.provider_id)
                return done
            if not sender.settles_unknown:
                return await parked(row.error or "the worker stopped while the provider had the message")
            provider_id = await self._reconcile(sender, row)
            if provider_id:
                await asyncio.to_thread(self.outbox.mark, key, "sent", provider_id=provider_id)
                bound.info("sms found at the provider, not resent", key=key, to=masked)
                return done
            await asyncio.to_thread(self.outbox.mark, key, "sending", attempt=True)
        if prepared.problem:
            await asyncio.to_thread(self.outbox.mark, key, "failed", prepared.problem[0], prepared.problem[1])
            return failed(*prepared.problem)
        try:
            provider_id = await sender.send(row)
        except PermanentSmsError as exc:
            await asyncio.to_thread(self.outbox.mark, key, "failed", exc.code, exc.reason)
            return failed(exc.code, exc.reason)
        except RetryableSmsError as exc:
            await asyncio.to_thread(self.outbox.mark, key, "queued", None, str(exc))
            wait = timedelta(seconds=exc.retry_after) if exc.retry_after else None
            raise ApplicationError(f"not sent, will retry: {exc}", type="SmsRetryable",
                                   next_retry_delay=wait) from None
        except UnknownOutcomeError as exc:
            if not sender.settles_unknown:
                return await parked(str(exc))
            await asyncio.to_thread(self.outbox.mark, key, "unknown", None, str(exc))
            raise ApplicationError(f"outcome unknown, will check before resending: {exc}",
                                   type="SmsUnknownOutcome") from None
        await asyncio.to_thread(self.outbox.mark, key, "sent", provider_id=provider_id)
        _sms_metric("groupdesk_sms_sent", request, sender.name)
        return Delivery(key=key, recipient=person_id, role=role, to_masked=masked, status="sent")

    async def _link(self, request: SendMessages, key: str, phone: str) -> str:
        """A new status link, unless the message is stored already (its body has the link it was given)."""
        if self.links is None or await asyncio.to_thread(self.outbox.get, key) is not None:
            return ""
        return await asyncio.to_thread(self.links.issue, request.incident_id, request.hall_id, phone)

    @staticmethod
    async def _reconcile(sender, row: OutboxRow) -> str | None:
        try:
            return await sender.reconcile(row)
        except UnknownOutcomeError as exc:
            raise ApplicationError(f"cannot tell whether the message was sent: {exc}", type="SmsUnknownOutcome") \
                from None


def _sms_metric(name: str, request: SendMessages, provider: str, code: str = "") -> None:
    attributes = {"provider": provider, "purpose": request.purpose, "drill": str(request.drill).lower()}
    if code:
        attributes["error_code"] = code
    activity.metric_meter().create_counter(name, "SMS by outcome").add(1, attributes)


def source_for(request: SendMessages, role: str, lang: str) -> str:
    """The template this recipient reads: their audience's own, if the playbook gives one, in their language."""
    sources = request.audience_templates.get(role) or request.template
    return sources.get(lang) or sources[LANGUAGES[0]]


def _context(request: SendMessages, role: str, name: str, lang: str) -> dict[str, Any]:
    ctx: dict[str, Any] = {}
    for key, value in request.context.items():
        if isinstance(value, dict) and value and set(value) <= set(LANGUAGES):
            value = value.get(lang) or value[LANGUAGES[0]]
        if key in TIME_KEYS:
            value = format_local(datetime.fromisoformat(value), lang) if value else "—"
        if key == "overdue":
            value = format_seconds(value)
        ctx[key] = value
    ctx["recipient_name"] = name
    ctx["recipient_role"] = role_label(role, lang)
    ctx["recipient_role_id"] = role  # branch on this, not on the translated label
    if request.step_title:
        ctx["step_title"] = request.step_title.get(lang) or request.step_title[LANGUAGES[0]]
    if request.owner_role:
        ctx["owner_role"] = role_label(request.owner_role, lang)
        ctx["owner_role_id"] = request.owner_role
    if request.escalated_from:
        ctx["escalated_from"] = role_label(request.escalated_from, lang)
    return ctx
