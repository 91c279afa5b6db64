"""What an SMS reply does, whichever provider brought it (Twilio, Aliyun, Tencent Cloud, the dev phone):
the director's approval code, the complainant's follow-up score, help text for anything else."""

from __future__ import annotations

from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from groupdesk.messaging.approval_codes import ApprovalCodes
from groupdesk.core import search_attributes as sa
from groupdesk.core.models import DecideApproval, RecordFollowUp
from groupdesk.core.roles import LEAD_COMPLAINANT
from groupdesk.core.workcal import format_local
from groupdesk.people.directory import current_directory
from groupdesk.runtime.keyed import follow_up_key
from groupdesk.messaging.reply_texts import Answer
from groupdesk.messaging.replies import ApprovalReply, SurveyReply, parse_reply


async def handle_reply(services, sender: str, body: str) -> Answer | None:
    """Act on one reply from `sender` (E.164) and return the answer to send back (None: say nothing)."""
    directory = current_directory(services.settings.directory)
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
                return Answer("help", lang)
            return Answer("thanks", lang)
    return Answer("help", lang)  # an unknown sender learns nothing about incidents


async def decide_by_sms(services, directory, staff, sender: str, reply: ApprovalReply, lang: str) -> Answer | None:
    """A code decides only the one approval it was made for, and only from a director of that hall."""
    directs = {h.id: p for h in directory.halls for p in staff if "centre_director" in directory.roles_of(h.id, p.id)}
    if not directs:
        return Answer("not_director", lang)  # decided before any look-up: staff learn nothing about codes
    codes = ApprovalCodes.for_settings(services.settings)
    if codes.locked_until(sender):
        return None  # it was told when it locked; a locked phone's codes are not even looked up
    issued = codes.find(reply.code)
    hall = issued.hall_id if issued else None
    if hall not in directs:  # no such code, or another director's: a wrong code from this phone
        until = codes.wrong(sender)
        return Answer("locked", lang, {"until": format_local(until, lang)}) if until else \
            Answer("wrong_code", lang, {"code": reply.code})
    if issued.status != "open":
        return Answer("used_code", lang, {"code": reply.code})
    if not reply.approve and not reply.reason:
        return Answer("need_reason", lang, {"code": reply.code})
    decision = DecideApproval(decision="approve" if reply.approve else "reject", actor=directs[hall].id,
                              reason=reply.reason, code_key=issued.code_key,
                              roles=sorted(directory.roles_of(hall, directs[hall].id)))  # the directory now
    gateway = await services.gateway()
    try:
        await gateway.incident(issued.incident_id).decide(decision)
    except WorkflowUpdateFailedError as exc:
        if getattr(exc.cause, "type", "") == "StaleApprovalCode":  # decided in the console, or superseded
            codes.close(issued.request_key, "expired")
            return Answer("used_code", lang, {"code": reply.code})
        return Answer("refused", lang, {"error": getattr(exc.cause, "message", str(exc.cause))})
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        codes.close(issued.request_key, "expired")  # the incident has ended
        return Answer("used_code", lang, {"code": reply.code})
    codes.close(issued.request_key, "used")
    return Answer("approved" if reply.approve else "rejected", lang, {"incident": issued.incident_id})
