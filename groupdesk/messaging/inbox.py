"""Inbound SMS already handled, by Twilio MessageSid: a redelivered webhook is answered, not redone."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, update

from groupdesk.storage import Database, open_database
from groupdesk.storage.dialect import insert_new
from groupdesk.storage.schema import inbound


class Inbox:
    def __init__(self, target):
        """`target`: a Database, settings, a database URL, or the path of a SQLite file."""
        self.db: Database = open_database(target)

    def claim(self, message_sid: str, from_masked: str) -> bool:
        """True for the first delivery of this MessageSid, False for a redelivery."""
        with self.db.write() as c:
            return insert_new(c, inbound, "message_sid", dict(
                message_sid=message_sid, from_masked=from_masked, received_at=datetime.now(timezone.utc).isoformat()))

    def answer(self, message_sid: str, reply: str) -> None:
        with self.db.write() as c:
            c.execute(update(inbound).where(inbound.c.message_sid == message_sid).values(reply=reply))

    def reply_for(self, message_sid: str) -> str:
        with self.db.read() as c:
            reply = c.execute(select(inbound.c.reply).where(inbound.c.message_sid == message_sid)).scalar()
        return reply or ""
