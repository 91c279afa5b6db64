"""Sending the director's approval card: registered before it leaves, so a click always finds it.

The one call the send path makes for an approval request to a director on WeCom, in place of
the SMS, after it has claimed the outbox row (the card's content and task_id follow from the row's
key, and a resend sends the card as first registered, so WeCom's duplicate check drops it).
"""

from __future__ import annotations

import asyncio

from groupdesk.messaging.wecom.cards import approval_card, approval_request, task_id_for
from groupdesk.messaging.wecom.channel import SendResult, Sent, WecomChannel, WecomMessage
from groupdesk.messaging.wecom.store import SentCard, WecomCards


async def send_approval_card(channel: WecomChannel, cards: WecomCards, *, hash_key: bytes, send, message_key: str,
                             person_id: str, userid: str, lang: str, code_key: str, public_url: str,
                             reasons: list[dict[str, str]] | None) -> SendResult:
    """`send`: the approval request's SendMessages; `message_key`: the director's outbox key; `code_key`: the
    keyed hash of the request's approval code (ApprovalCodes.issue); `reasons`: the step's refusal_reasons."""
    task_id = task_id_for(hash_key, message_key)
    card, options = approval_card(task_id, approval_request(send, lang, reasons, public_url))
    if not await asyncio.to_thread(cards.register, SentCard(
            task_id=task_id, message_key=message_key, incident_id=send.incident_id, hall_id=send.hall_id,
            request_key=send.key, code_key=code_key, person=person_id, userid=userid, lang=lang, card=card,
            reasons=options)):
        # a resend: the card as first registered (a workflow task run again may have put another deadline
        # minute into this one), so WeCom's duplicate check knows it and its task_id is not used twice
        card = (await asyncio.to_thread(cards.get, task_id)).card
    result = await channel.send(WecomMessage(key=message_key, userid=userid, purpose=send.purpose, card=card,
                                             drill=send.drill))
    if isinstance(result, Sent) and result.response_code:
        await asyncio.to_thread(cards.sent, task_id, result.response_code)
    return result
