"""The tables groupdesk keeps outside Temporal (the migrations create them; this describes them for queries)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

# Every outbound SMS, keyed by its idempotency key, written before any provider is called.
messages = Table(
    "messages", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(512), nullable=False, unique=True),
    Column("incident_id", String(200), nullable=False),
    Column("step", String(200)),
    Column("purpose", String(100), nullable=False),
    Column("recipient", String(200), nullable=False),
    Column("role", String(100), nullable=False),
    Column("to_number", String(32), nullable=False),
    Column("lang", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("drill", Boolean, nullable=False, default=False),
    Column("provider", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("provider_id", String(64)),
    Column("error_code", String(32)),
    Column("error", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("holder", String(600)),  # the activity attempt that is sending it now
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Index("messages_incident", "incident_id", "created_at"),
)

# Inbound SMS already handled, by Twilio MessageSid: a redelivered webhook is answered, not redone.
inbound = Table(
    "inbound", metadata,
    Column("message_sid", String(64), primary_key=True),
    Column("from_masked", String(64), nullable=False),
    Column("reply", Text),
    Column("received_at", String(40), nullable=False),
)

# Console start forms already submitted: the same form sent twice opens one incident.
submissions = Table(
    "submissions", metadata,
    Column("token", String(200), primary_key=True),
    Column("incident_id", String(200), nullable=False),
)
