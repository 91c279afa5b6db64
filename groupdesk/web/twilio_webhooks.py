"""Twilio's webhooks: delivery reports and inbound SMS replies, both signature-checked."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from groupdesk.messaging.approval_codes import ApprovalCodes
from groupdesk.core.phones import normalise_phone
from groupdesk.people.directory import load_directory
from groupdesk.messaging.inbox import Inbox
from groupdesk.runtime.keyed import follow_up_key
from groupdesk.messaging.callback_fields import TWILIO_INBOUND, TWILIO_STATUS, Field, callback_problem
from groupdesk.runtime.masking import mask_phone
from groupdesk.core.models import DecideApproval, DeliveryReport, RecordFollowUp
from groupdesk.messaging.outbox import Outbox
from groupdesk.messaging.replies import ApprovalReply, SurveyReply, parse_reply
from groupdesk.core.roles import LEAD_COMPLAINANT
from groupdesk.core.workcal import format_local
from groupdesk.core import search_attributes as sa

router = APIRouter(prefix="/twilio")

TEXT = {
    "help": {"zh-CN": "【集体投诉处置】审批请回复“同意 审批码”或“不同意 审批码 理由”;回访评价请回复1-5。",
             "en": "To decide an approval reply \"Y code\" or \"N code reason\"; to rate our service reply 1-5."},
    "wrong_code": {"zh-CN": "审批码{code}无效,请核对审批短信中的审批码。",
                   "en": "Code {code} is not valid; check the code in the approval SMS."},
    "used_code": {"zh-CN": "审批码{code}已失效:该审批已处理或已过期。",
                  "en": "Code {code} is no longer valid: that approval was already decided or has expired."},
    "locked": {"zh-CN": "审批码错误次数过多,本号码的短信审批已锁定至{until};请登录控制台审批。",
               "en": "Too many wrong codes: approvals by SMS from this phone are locked until {until};"
                     " decide in the console."},
    "not_director": {"zh-CN": "本号码不是该营业厅登记的客户中心主任,审批未生效。",
                     "en": "This phone is not the centre director on record for that hall; nothing was decided."},
    "need_reason": {"zh-CN": "不同意需说明理由:请回复“不同意 {code} 理由”。",
                    "en": "A refusal needs a reason: reply \"N {code} reason\"."},
    "approved": {"zh-CN": "已同意启动三级供电服务预警预案(事件{incident})。",
                 "en": "Approved: the tier-3 warning plan starts (incident {incident})."},
    "rejected": {"zh-CN": "已记录:不启动预警预案(事件{incident})。",
                 "en": "Recorded: the warning plan is not started (incident {incident})."},
    "refused": {"zh-CN": "未能处理:{error}", "en": "Not done: {error}"},
    "thanks": {"zh-CN": "感谢您的评价,我们会持续改进服务。", "en": "Thank you for your rating."},
}


def say(name: str, lang: str, **values: str) -> str:
    return TEXT[name].get(lang, TEXT[name]["zh-CN"]).format(**values)


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
        sender = normalise_phone(form.get("From", ""))
    except ValueError:
        sender = form.get("From", "")
    if not inbox.claim(sid, mask_phone(sender)):
        return twiml(inbox.reply_for(sid))  # redelivered: answered the same, done once
    text = await handle_reply(services, sender, form.get("Body", ""))
    inbox.answer(sid, text)
    return twiml(text)


async def handle_reply(services, sender: str, body: str) -> str:
    directory = load_directory(services.settings.directory)
    staff = [p for p in directory.people if p.mobile == sender]
    lang = staff[0].lang if staff else "zh-CN"
    reply = parse_reply(body)
    if isinstance(reply, ApprovalReply) and staff:
        return await decide_by_sms(services, directory, staff, sender, reply, lang)
    if isinstance(reply, SurveyReply):
        gateway = await services.gateway()
        found = await gateway.find_open(sa.FOLLOW_UP_KEY, follow_up_key(services.settings.hash_key(), sender))
        if found:
            try:
                await gateway.incident(found).follow_up(RecordFollowUp(
                    score=reply.score, comment=reply.comment, actor=LEAD_COMPLAINANT, phone=sender))
            except WorkflowUpdateFailedError:
                return say("help", lang)
            return say("thanks", lang)
    return say("help", lang)  # an unknown sender learns nothing about incidents


async def decide_by_sms(services, directory, staff, sender: str, reply: ApprovalReply, lang: str) -> str:
    """A code decides only the one approval it was made for, and only from a director of that hall."""
    directs = {h.id: p for h in directory.halls for p in staff if "centre_director" in directory.roles_of(h.id, p.id)}
    if not directs:
        return say("not_director", lang)  # decided before any look-up: staff learn nothing about codes
    codes = ApprovalCodes.for_settings(services.settings)
    if codes.locked_until(sender):
        return ""  # it was told when it locked; a locked phone's codes are not even looked up
    issued = codes.find(reply.code)
    hall = issued.hall_id if issued else None
    if hall not in directs:  # no such code, or another director's: a wrong code from this phone
        until = codes.wrong(sender)
        return say("locked", lang, until=format_local(until, lang)) if until else \
            say("wrong_code", lang, code=reply.code)
    if issued.status != "open":
        return say("used_code", lang, code=reply.code)
    if not reply.approve and not reply.reason:
        return say("need_reason", lang, code=reply.code)
    decision = DecideApproval(decision="approve" if reply.approve else "reject", actor=directs[hall].id,
                              reason=reply.reason, code_key=issued.code_key,
                              roles=sorted(directory.roles_of(hall, directs[hall].id)))  # the directory now
    gateway = await services.gateway()
    try:
        await gateway.incident(issued.incident_id).decide(decision)
    except WorkflowUpdateFailedError as exc:
        if getattr(exc.cause, "type", "") == "StaleApprovalCode":  # decided in the console, or superseded
            codes.close(issued.request_key, "expired")
            return say("used_code", lang, code=reply.code)
        return say("refused", lang, error=getattr(exc.cause, "message", str(exc.cause)))
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        codes.close(issued.request_key, "expired")  # the incident has ended
        return say("used_code", lang, code=reply.code)
    codes.close(issued.request_key, "used")
    return say("approved" if reply.approve else "rejected", lang, incident=issued.incident_id)

