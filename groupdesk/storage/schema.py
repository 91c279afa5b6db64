"""The tables groupdesk keeps outside Temporal (the migrations create them; this describes them for queries)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, MetaData, String, Table, Text, UniqueConstraint, text

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
    # migration 0008: sms (later other channels); a domestic provider's approved template, its parameters
    # (JSON), and the compact id each send carried (Aliyun OutId, Tencent SessionContext)
    Column("channel", String(16), nullable=False, default="sms", server_default="sms"),
    Column("template_code", String(64)),
    Column("params", Text),
    Column("out_id", String(32)),
    Index("messages_incident", "incident_id", "created_at"),
    Index("messages_out_id", "out_id"),
    Index("messages_provider_id", "provider", "provider_id"),
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

# Approval codes, known only by their keyed hash; wrong tries and locks per sender (keyed hash of the phone).
approval_codes = Table(
    "approval_codes", metadata,
    Column("request_key", String(512), primary_key=True),
    Column("incident_id", String(200), nullable=False),
    Column("hall_id", String(100), nullable=False),  # whose director may use it, even after the incident is gone
    Column("salt", String(64), nullable=False),
    Column("code_key", String(128), nullable=False),
    Column("status", String(16), nullable=False),  # open, used, expired
    Column("issued_at", String(40), nullable=False),
    Index("approval_codes_open", "code_key", unique=True, sqlite_where=text("status = 'open'"),
          postgresql_where=text("status = 'open'")),
    Index("approval_codes_by_key", "code_key", "issued_at"),
)
approval_wrong_tries = Table(
    "approval_wrong_tries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender", String(128), nullable=False),
    Column("at", String(40), nullable=False),
    Index("approval_wrong_tries_sender", "sender", "at"),
)
approval_locks = Table(
    "approval_locks", metadata,
    Column("sender", String(128), primary_key=True),
    Column("until", String(40), nullable=False),
)

# Sign-in: failures per account and per address in a sliding window; server-side sessions.
sign_in_failures = Table(
    "sign_in_failures", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
    Column("at", Float, nullable=False),
    Index("sign_in_failures_key", "key", "at"),
)
sign_in_sessions = Table(
    "sign_in_sessions", metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("person", String(200), nullable=False),
    Column("stamp", String(64), nullable=False),
    Column("expires", Float, nullable=False),
    Index("sign_in_sessions_person", "person"),
)

# Staff on WeCom (groupdesk/messaging/wecom, migration 0009): the app's access token shared by every process,
# each approval card sent (found again by its task_id when clicked), and each callback event handled once.
wecom_tokens = Table(
    "wecom_tokens", metadata,
    Column("app", String(100), primary_key=True),  # corp id / agent id
    Column("token", String(600)),
    Column("expires_at", Float, nullable=False, default=0),
    Column("lease_until", Float, nullable=False, default=0),  # one process fetches while the others wait
    Column("failed_until", Float, nullable=False, default=0),  # a refused gettoken is not asked again before
    Column("error", Text),
    Column("fetches", Integer, nullable=False, default=0),
)
wecom_cards = Table(
    "wecom_cards", metadata,
    Column("task_id", String(128), primary_key=True),
    Column("message_key", String(512), nullable=False, unique=True),  # the outbox key it was sent under
    Column("incident_id", String(200), nullable=False),
    Column("hall_id", String(100), nullable=False),
    Column("request_key", String(512), nullable=False),  # the approval request (approval_codes.request_key)
    Column("code_key", String(128), nullable=False),  # its code's keyed hash: a click decides only that approval
    Column("person", String(200), nullable=False),
    Column("userid", String(64), nullable=False),
    Column("lang", String(16), nullable=False),
    Column("card", Text, nullable=False),  # the card as sent (JSON), updated in place after a click
    Column("reasons", Text, nullable=False),  # refusal reasons by option id (JSON)
    Column("response_code", String(200)),  # from the send: one later update of the card
    Column("status", String(16), nullable=False),  # open, decided, expired
    Column("outcome", String(400)),  # who decided what, when (or why it expired)
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Index("wecom_cards_request", "request_key"),
)
wecom_events = Table(
    "wecom_events", metadata,
    Column("event_key", String(64), primary_key=True),  # hash of the event's identity: a redelivery is the same
    Column("task_id", String(128)),
    Column("outcome", String(32)),
    Column("received_at", String(40), nullable=False),
)

# The archive of closed incidents (groupdesk/record): append-only, each row chained to the one before
# The archive of closed incidents (groupdesk/record): append-only, each row chained to the one before
# by a keyed hash; the head row (id 1) names the last row, so a removed tail shows too.
archive_records = Table(
    "archive_records", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", String(200), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("hall_id", String(100), nullable=False),
    Column("playbook", String(100), nullable=False),
    Column("playbook_version", Integer, nullable=False),
    Column("drill", Integer, nullable=False),
    Column("started_at", String(40), nullable=False),
    Column("closed_at", String(40), nullable=False),
    Column("started_on", String(10), nullable=False),  # local (Asia/Shanghai) date the incident started
    Column("week", String(8), nullable=False),  # its ISO week, 2026-W48
    Column("warning_tier", Integer, nullable=False),  # the highest tier reached
    Column("deadlines_missed", Integer, nullable=False),
    Column("escalations", Integer, nullable=False),
    Column("satisfaction", Integer),
    Column("follow_up", String(16), nullable=False),  # answered, expired, none
    Column("complainant_key", String(64), nullable=False),  # keyed hash of the lead's phone
    Column("repeat_of", String(200)),
    Column("record", Text, nullable=False),  # the whole record, canonical JSON
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("row_hash", String(64), nullable=False),
    # migration 0005: copied from the sealed record (verify compares them), outside the row's hash
    Column("category", String(32)),  # the 95598 class registered, if any
    Column("account_key", String(64)),  # keyed hash of the account number (户号), if registered
    Column("community_key", String(64)),  # keyed hash of the community the address names, if registered
    # migration 0006: the incident's promises (groupdesk.core.promise_models.figures); NULL before promises
    Column("promises_made", Integer), Column("promises_kept", Integer), Column("promises_kept_late", Integer),
    Column("promises_missed", Integer), Column("promises_waived", Integer),
    # migration 0007: follow-up answers scored 2 or lower, those that reopened it included; NULL before
    Column("dissatisfied_answers", Integer),
    # migration 0013: how often staff told the complainant (groupdesk tell); NULL before it existed
    Column("told", Integer),
    # migration 0014: how it came in (groupdesk.core.intake) and its work-order number; NULL before
    Column("channel", String(32)), Column("ticket_no", String(64)),
    Column("ticket_key", String(64)),  # keyed hash of channel and number: the repeat check and list --ticket-no
    # migration 0015: the finding (groupdesk finding): founded yes / partly / no and its cause; NULL without one
    Column("finding_founded", String(8)), Column("finding_cause", String(64)),
    # migration 0016: 'incident', or 'corrective' (a verified corrective action's own row in the same chain)
    Column("kind", String(16), nullable=False, server_default="incident"),
    UniqueConstraint("incident_id", "run_id", name="archive_records_run"),
    Index("archive_records_started_on", "started_on", "hall_id"),
    Index("archive_records_complainant", "complainant_key", "started_on"),
    Index("archive_records_account", "account_key", "started_on"),
    Index("archive_records_community", "community_key", "started_on"),
    Index("archive_records_ticket", "ticket_key", "started_on"),
)
archive_steps = Table(
    "archive_steps", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", String(200), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("position", Integer, nullable=False),
    Column("step", String(100), nullable=False),
    Column("visit", Integer, nullable=False),
    Column("owner_role", String(100), nullable=False),
    Column("outcome", String(100)),
    Column("actor", String(200)),
    Column("started_at", String(40), nullable=False),
    Column("finished_at", String(40)),
    Column("seconds", Integer),  # on the playbook's clock (a drill's compressed time scaled back)
    Column("deadline_missed", Integer, nullable=False),
    Column("escalations", Integer, nullable=False),
    Index("archive_steps_run", "incident_id", "run_id", "position", unique=True),
)
archive_head = Table(
    "archive_head", metadata,
    Column("id", Integer, primary_key=True),
    Column("last_seq", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("count", Integer, nullable=False),
    Column("mac", String(64), nullable=False),
)

# Periodic reports as the schedule built them (groupdesk/record/report.py's figures, as JSON).
reports = Table(
    "reports", metadata,
    Column("key", String(200), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("first_day", String(10), nullable=False),
    Column("last_day", String(10), nullable=False),
    Column("hall_id", String(100), nullable=False),
    Column("built_at", String(40), nullable=False),
    Column("report", Text, nullable=False),
)

# Evidence attached to incidents (groupdesk/record/attachments.py), the files themselves content-addressed in the
# evidence store by `stored_sha256`; each download logged. Migration 0010.
attachments = Table(
    "attachments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", String(200), nullable=False),
    Column("hall_id", String(100), nullable=False),  # who may download it, even after Temporal forgot the incident
    Column("step", String(100)),
    Column("added_by", String(200), nullable=False),
    Column("name", String(200), nullable=False),  # the file's name as sent (no path), or ""
    Column("media_type", String(40), nullable=False),
    Column("size", Integer, nullable=False),  # of the stored copy
    Column("original_size", Integer, nullable=False),
    Column("original_sha256", String(64), nullable=False),
    Column("stored_sha256", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    UniqueConstraint("incident_id", "stored_sha256", name="attachments_incident_file"),
    Index("attachments_stored", "stored_sha256"),
)
attachment_downloads = Table(
    "attachment_downloads", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("attachment_id", Integer, nullable=False),
    Column("incident_id", String(200), nullable=False),
    Column("stored_sha256", String(64), nullable=False),
    Column("by", String(200), nullable=False),
    Column("via", String(16), nullable=False),  # cli, console, api
    Column("at", String(40), nullable=False),
    Index("attachment_downloads_incident", "incident_id", "at"),
)

# The complainant's status links (groupdesk/messaging/status_links.py): each link's token only as a keyed hash,
# the incident it opens, and the keyed hash of the lead's phone it was issued for. Migration 0013.
status_links = Table(
    "status_links", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("incident_id", String(200), nullable=False),
    Column("hall_id", String(100), nullable=False),
    Column("phone_key", String(64), nullable=False),  # the incident's follow-up key: the page speaks for the lead
    Column("created_at", String(40), nullable=False),
    Column("revoked_at", String(40)),  # `groupdesk status-link revoke`: every link of the incident at once
    Column("visit_logged_at", String(40)),  # the last visit put on the timeline (at most one an hour)
    Index("status_links_incident", "incident_id"),
)
