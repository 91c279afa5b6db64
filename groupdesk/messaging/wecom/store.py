"""What groupdesk keeps of WeCom cards and callbacks, in its database (every host sees the same).

`WecomCards`: each approval card sent, by task_id: which approval it asks about (the request key
and its code's keyed hash, so a click decides that approval and no later one), to whom, the card
itself (to update it after a click) and its refusal reasons by option id.
`WecomEvents`: each callback event handled, by a hash of its identity, so a redelivery (WeCom
retries when it gets no answer within 5 s) is answered and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, select, update

from groupdesk.storage import Database, open_database
from groupdesk.storage.dialect import insert_new
from groupdesk.storage.schema import wecom_cards as cards, wecom_events as events


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class SentCard:
    task_id: str
    message_key: str
    incident_id: str
    hall_id: str
    request_key: str
    code_key: str
    person: str
    userid: str
    lang: str
    card: dict
    reasons: dict[str, str]
    response_code: str | None = None
    status: str = "open"  # open, decided, expired
    outcome: str | None = None


class WecomCards:
    def __init__(self, target):
        """`target`: a Database, settings, a database URL, or the path of a SQLite file."""
        self.db: Database = open_database(target)

    def register(self, card: SentCard) -> bool:
        """Keep a card before it is sent (the send path calls this after claiming the outbox row); True if new.
        A resend of the same outbox message keeps the first registration."""
        with self.db.write() as c:
            return insert_new(c, cards, "task_id", dict(
                task_id=card.task_id, message_key=card.message_key, incident_id=card.incident_id,
                hall_id=card.hall_id, request_key=card.request_key, code_key=card.code_key, person=card.person,
                userid=card.userid, lang=card.lang, card=json.dumps(card.card, ensure_ascii=False),
                reasons=json.dumps(card.reasons, ensure_ascii=False), response_code=card.response_code,
                status="open", outcome=None, created_at=_now(), updated_at=_now()))

    def sent(self, task_id: str, response_code: str) -> None:
        """The send's one-time response code: lets groupdesk update this card later, once (72 h)."""
        with self.db.write() as c:
            c.execute(update(cards).where(cards.c.task_id == task_id).values(response_code=response_code or None,
                                                                              updated_at=_now()))

    def get(self, task_id: str) -> SentCard | None:
        with self.db.read() as c:
            row = c.execute(select(cards).where(cards.c.task_id == task_id)).first()
        return _card(row) if row else None

    def for_request(self, request_key: str) -> list[SentCard]:
        """Every card of one approval request (one per director)."""
        with self.db.read() as c:
            rows = c.execute(select(cards).where(cards.c.request_key == request_key).order_by(cards.c.created_at))
            return [_card(r) for r in rows]

    def close(self, task_id: str, status: str, outcome: str, card: dict) -> bool:
        """The card was decided or found expired; it keeps the card as it now shows. True if it was open."""
        with self.db.write() as c:
            done = c.execute(update(cards).where(cards.c.task_id == task_id, cards.c.status == "open").values(
                status=status, outcome=outcome[:400], card=json.dumps(card, ensure_ascii=False), updated_at=_now()))
            return done.rowcount == 1


def _card(row) -> SentCard:
    data = dict(row._mapping)
    data.pop("created_at"), data.pop("updated_at")
    data["card"], data["reasons"] = json.loads(data["card"]), json.loads(data["reasons"])
    return SentCard(**data)


def event_key(*parts: str) -> str:
    """A callback event's identity (corp, member, time, task, button, response code): a redelivery has the same."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


class WecomEvents:
    def __init__(self, target):
        self.db: Database = open_database(target)

    def claim(self, key: str, task_id: str = "") -> bool:
        """True for the first delivery of this event, False for a redelivery."""
        with self.db.write() as c:
            return insert_new(c, events, "event_key", dict(event_key=key, task_id=task_id[:128] or None,
                                                           outcome=None, received_at=_now()))

    def done(self, key: str, outcome: str) -> None:
        with self.db.write() as c:
            c.execute(update(events).where(events.c.event_key == key).values(outcome=outcome[:32]))

    def release(self, key: str) -> None:
        """Handling failed before anything changed (Temporal unreachable): a redelivery may try again."""
        with self.db.write() as c:
            c.execute(delete(events).where(events.c.event_key == key))

    def outcome(self, key: str) -> str | None:
        with self.db.read() as c:
            return c.execute(select(events.c.outcome).where(events.c.event_key == key)).scalar()
