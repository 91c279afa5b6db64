"""A click on an approval card decides the approval it was sent for, through the gateway, by the console's rule.

The clicker is the WeCom member of the click (their userid, as the staff directory maps it to a
person), held to `Gateway.decide`: only the centre director on record for that hall now, not the
person the complaint is about, and 不同意 with a reason (the one chosen on the card). The decision
carries the card's code key, so a card decides only the approval it was made for: one already
decided (in the console, by SMS, by another director's card) or superseded by a newer request is
refused by the workflow, and the card turns "已失效" with nothing changed.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import structlog
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from groupdesk.messaging.approval_codes import ApprovalCodes
from groupdesk.engine.client import IncidentUnavailable
from groupdesk.core.models import DecideApproval
from groupdesk.people.directory import Directory
from groupdesk.core.validation import InputError
from groupdesk.messaging.wecom.callback import CardClick
from groupdesk.messaging.wecom.cards import (
    APPROVE, REASON_QUESTION, REJECT, decided_card, expired_card, refused_card,
)
from groupdesk.messaging.wecom.store import SentCard, WecomCards
from groupdesk.people.permissions import Forbidden, viewer_for

log = structlog.get_logger("groupdesk.wecom.clicks")

NOT_READY_WAIT = 3.0  # a click before the send activity registered the card's code: tried again this long


@dataclass(frozen=True)
class ClickResult:
    outcome: str  # decided, expired, refused, ignored, not_ready
    card: dict | None = None  # what the clicker's card becomes (None: leave it as it is)
    detail: str = ""


async def decide_click(gateway, directory: Directory, cards: WecomCards, codes: ApprovalCodes,
                       click: CardClick, now=lambda: datetime.now(timezone.utc)) -> ClickResult:
    """Act on one click (a first delivery; redeliveries never get here). RPCError other than not-found
    propagates: Temporal cannot be reached, nothing changed, and the caller lets WeCom deliver it again."""
    sent = await asyncio.to_thread(cards.get, click.task_id)
    if sent is None:
        return ClickResult("ignored", detail="no card with this task_id")
    bound = log.bind(incident_id=sent.incident_id, task_id=sent.task_id)
    if click.button not in (APPROVE, REJECT):
        return ClickResult("ignored", detail=f"unknown button {click.button[:40]!r}")
    person = directory.by_wecom_userid(click.userid)
    viewer = viewer_for(directory, person.id) if person else None
    if viewer is None:
        bound.warning("card click by someone not in the staff directory")
        return ClickResult("refused", _refused(sent), "the clicker is not in the staff directory")
    if sent.status != "open":
        return ClickResult("expired", expired_card(sent.card, sent.lang), f"the card is already {sent.status}")
    approve = click.button == APPROVE
    reason = ""
    if not approve:
        chosen = (click.selected.get(REASON_QUESTION) or [""])[0]
        reason = sent.reasons.get(chosen, "")
        if not reason:
            return ClickResult("ignored", detail="不同意 without a reason chosen on the card")
    decision = DecideApproval(decision="approve" if approve else "reject", actor=viewer.id, reason=reason,
                              code_key=sent.code_key)
    deadline = time.monotonic() + NOT_READY_WAIT
    while True:
        try:
            await gateway.decide(viewer, sent.incident_id, decision)
            break
        except Forbidden as exc:
            bound.info("card click refused", person=viewer.id, reason=str(exc))
            await asyncio.to_thread(cards.close, sent.task_id, "expired", f"refused: {exc}", _refused(sent))
            return ClickResult("refused", _refused(sent), str(exc))
        except InputError as exc:
            return ClickResult("ignored", detail=exc.message)
        except WorkflowUpdateFailedError as exc:
            message = getattr(exc.cause, "message", "") or str(exc.cause or exc)
            if "not registered yet" in message and time.monotonic() < deadline:
                await asyncio.sleep(0.3)  # the send activity has not reported the card's code yet
                continue
            if "not registered yet" in message:
                return ClickResult("not_ready", detail=message)
            return await _expire(cards, sent, f"refused by the incident: {message}")
        except IncidentUnavailable as exc:
            return await _expire(cards, sent, str(exc))
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            return await _expire(cards, sent, "the incident has ended")
    await asyncio.to_thread(codes.close, sent.request_key, "used")  # its SMS code dies with it, as after a reply
    at = now()
    updated = decided_card(sent.card, approve, viewer.name, at, sent.lang)
    await asyncio.to_thread(cards.close, sent.task_id, "decided",
                            f"{decision.decision} by {viewer.id} at {at.isoformat(timespec='seconds')}", updated)
    for other in await asyncio.to_thread(cards.for_request, sent.request_key):  # the other directors' cards
        if other.task_id != sent.task_id and other.status == "open":
            await asyncio.to_thread(cards.close, other.task_id, "expired", f"decided by {viewer.id}",
                                    expired_card(other.card, other.lang))
    bound.info("approval decided by card", person=viewer.id, decision=decision.decision)
    return ClickResult("decided", updated)


async def _expire(cards: WecomCards, sent: SentCard, why: str) -> ClickResult:
    card = expired_card(sent.card, sent.lang)
    await asyncio.to_thread(cards.close, sent.task_id, "expired", why, card)
    log.info("card click on a decided or superseded approval", incident_id=sent.incident_id, why=why[:200])
    return ClickResult("expired", card, why)


def _refused(sent: SentCard) -> dict:
    return refused_card(sent.card, sent.lang)
