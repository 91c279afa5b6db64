"""Send a transition's messages: resolve recipients now, render every message, then send them as one batch.

Staff on WeCom first (activities/wecom_staff.py: one claim transaction for the batch's WeCom rows, the calls, one
mark transaction); then the SMS, the fallen-back ones with them (activities/sms_batch.py: one claim transaction,
the sends at once, one mark transaction).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from groupdesk.core import activities as declared, involved
from groupdesk.core.activities import implements
from groupdesk.messaging.approval_codes import ApprovalCodes
from groupdesk.people.directory import Directory, Person
from groupdesk.core.durations import format_seconds
from groupdesk.core.batch import BatchResult, SendBatch, SendOutcome
from groupdesk.core.models import Delivery, SendMessages, SendResult
from groupdesk.messaging.outbox import Outbox, OutboxRow
from groupdesk.core.roles import LANGUAGES, LEAD_COMPLAINANT, PERSON_PREFIX, role_label
from groupdesk.messaging.channels import Channels
from groupdesk.messaging.outgoing import Prepared, prepare
from groupdesk.messaging.provider import SmsProvider
from groupdesk.messaging.status_links import LINK_VARIABLE, StatusLinks, complainant_source
from groupdesk.core.workcal import format_local
from groupdesk.playbooks.templating import render
from activities.sms_batch import Job, Message, send_all
from activities.wecom_staff import StaffOnWecom, WecomRoute, both_channels

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
        """One request, as a batch of one (the same path): its error is this activity's."""
        job, = await self._run([request])
        if job.error is not None:
            raise job.error
        return SendResult(deliveries=job.deliveries(), approval_key=job.approval_key)

    @implements(declared.send_batch)
    async def send_batch(self, batch: SendBatch) -> BatchResult:
        """Each request as send_messages would, at once; what failed is returned for the workflow to retry.

        A database error fails the whole attempt (Temporal retries it; the outbox keeps every message once)."""
        outcomes = [_outcome(job) for job in await self._run(batch.requests)]
        return BatchResult(outcomes=outcomes, finished_at=datetime.now(timezone.utc))

    async def _run(self, requests: list[SendMessages]) -> list[Job]:
        """Every request's messages rendered first; then one claim, the sends at once, one mark (sms_batch)."""
        info = activity.info()
        holder = f"{info.workflow_id}/{info.activity_id}#{info.attempt}"
        jobs = [Job(r, dict(incident_id=r.incident_id, workflow_id=info.workflow_id, step=r.step,
                            purpose=r.purpose, attempt=info.attempt)) for r in requests]
        directory: Directory = self._directory_loader()
        codes = await self._codes(jobs)
        for job in jobs:
            with structlog.contextvars.bound_contextvars(**job.context):
                try:
                    self._plan(job, directory, codes.get(job.request.key))
                except Exception as exc:  # noqa: BLE001 - this request's own problem: the others go on
                    log.warning("sms request not rendered", error=type(exc).__name__)
                    job.fail(exc)
        if self.wecom is not None:  # the staff on WeCom: one claim, the calls, one mark; fallen back: their SMS
            await self.wecom.deliver_all(jobs, holder)
        messages = [slot for job in jobs if job.error is None for slot in job.slots if isinstance(slot, Message)]
        await send_all(self.outbox, self.channels, messages, holder, self.links.db if self.links else None)
        return jobs

    async def _codes(self, jobs: list[Job]) -> dict[str, tuple[str, str]]:
        """The approval codes the batch's approval requests carry: made here, never in workflow code (one hop)."""
        asking = [job.request for job in jobs if job.request.purpose == "approval_request"]
        if not asking:
            return {}
        if self.codes is None:
            for job in jobs:
                if job.request.purpose == "approval_request":
                    job.fail(ApplicationError("this worker has no approval-code store", type="NoApprovalCodes",
                                              non_retryable=True))
            return {}
        issued = await asyncio.to_thread(self.codes.issue_many, [(r.key, r.incident_id, r.hall_id) for r in asking])
        return {r.key: code for r, code in zip(asking, issued)}

    def _plan(self, job: Job, directory: Directory, code: tuple[str, str] | None) -> None:
        """The request's deliveries in order: each person once, whatever roles they are reached by."""
        if job.error is not None:
            return
        request = job.request
        job.approval_key = code[1] if code else None
        seen: set[str] = set()
        for recipient in request.recipients:
            people = self._people(directory, request, recipient)
            if not people:
                job.slots.append(Delivery(
                    key=f"{request.key}/{recipient}", recipient=recipient, role=recipient, status="failed",
                    error=f"no one holds role {recipient} at hall {request.hall_id}; add them to the staff directory",
                ))
                log.warning("sms recipient missing", role=recipient)
                continue
            for person_id, name, phone, lang in people:
                if person_id in seen:
                    continue
                seen.add(person_id)
                extra = {} if code is None else {"approval_code": code[0] if recipient == request.owner_role
                                                 else HIDDEN_CODE}
                self._plan_person(job, recipient, person_id, name, phone, lang, extra, directory)

    def _plan_person(self, job: Job, role: str, person_id: str, name: str, phone: str, lang: str,
                     extra: dict[str, str], directory: Directory) -> None:
        """By SMS; or, for staff with GROUPDESK_STAFF_CHANNEL=wecom, by WeCom with the SMS as the fallback
        (activities/wecom_staff.py), and by both for an escalation to the centre director or above."""
        request = job.request
        if self.wecom is None or role == LEAD_COMPLAINANT:  # complainants always get SMS
            job.slots.append(self._message(job, role, person_id, name, phone, lang, extra))
            return
        both = both_channels(request, role)
        sms = self._message(job, role, person_id, name, phone, lang, extra)
        if both:
            job.slots.append(sms)
        person = directory.person(person_id)
        card = job.approval_key if request.purpose == "approval_request" and role == request.owner_role else None
        shown = {**extra, "approval_code": HIDDEN_CODE} if card else extra  # the card has buttons; only SMS a code
        text = render(source_for(request, role, lang), {**_context(request, role, name, lang), **shown})
        job.slots.append(StaffOnWecom(sms, both, person.wecom_userid if person else None, text, card))

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

    def _message(self, job: Job, role: str, person_id: str, name: str, phone: str, lang: str,
                 extra: dict[str, str]) -> Message:
        """One SMS rendered for the provider its number routes to now (the row keeps that provider)."""
        request = job.request
        key = f"{request.key}/{person_id}"
        provider = self.channels.for_number(phone)
        source = source_for(request, role, lang)
        link = None
        if role == LEAD_COMPLAINANT:  # every message to the complainant carries the link to their status page
            source = complainant_source(source, lang)
            url, link = self.links.mint(request.incident_id, request.hall_id, phone) if self.links else ("", None)
            extra = {**extra, LINK_VARIABLE: url}
        prepared: Prepared = prepare(provider, source, {**_context(request, role, name, lang), **extra},
                                     request.drill, key, self._registry_loader)
        return Message(job, role, person_id, provider, prepared, OutboxRow(
            key=key, incident_id=request.incident_id, step=request.step, purpose=request.purpose,
            recipient=person_id, role=role, to_number=phone, lang=lang, body=prepared.body, drill=request.drill,
            provider=provider.name, channel=provider.channel, template_code=prepared.template_code,
            params=prepared.params, out_id=prepared.out_id,
        ), link)


def _outcome(job: Job) -> SendOutcome:
    exc = job.error
    if exc is None:
        return SendOutcome(result=SendResult(deliveries=job.deliveries(), approval_key=job.approval_key))
    if isinstance(exc, ApplicationError):
        wait = exc.next_retry_delay.total_seconds() if exc.next_retry_delay else 0.0
        return SendOutcome(error=str(exc), retryable=not exc.non_retryable, retry_after=wait)
    log.warning("sms batch request failed", incident_id=job.request.incident_id, error=type(exc).__name__)
    return SendOutcome(error=f"{type(exc).__name__}: {exc}", retryable=True)  # a network error: next time


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
