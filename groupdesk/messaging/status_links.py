"""The complainant's status links, `GROUPDESK_PUBLIC_URL/s/<token>`: issued with each message to a complainant.

A token is 128 random bits (22 URL-safe characters), stored only as a keyed hash (the settings' hash key), with
the incident it opens and the keyed hash of the lead's phone it was issued for. `revoke` ends every link of an
incident at once; a page whose incident closed more than 30 days ago is gone too (the page checks that). An
unknown, mangled, revoked or expired token is the same `None` here and the same 404 on the page.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select, update

from groupdesk.messaging.template_text import LINK_VARIABLE
from groupdesk.runtime.keyed import follow_up_key, keyed
from groupdesk.storage import Database, open_database
from groupdesk.storage.schema import status_links as t

TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}\Z")
EXPIRES_AFTER_CLOSE = timedelta(days=30)
# Appended to every template a complainant reads (groupdesk.messaging.sms_templates registers these variants too).
SUFFIX = {"zh-CN": "办理进度:{{ status_link }}", "en": "Progress: {{ status_link }}"}
SENTENCE_END = tuple("。!?!?.")


def complainant_source(source: str, lang: str) -> str:
    """The template as the lead complainant reads it: with the link to their status page at the end."""
    if LINK_VARIABLE in source:
        return source
    text = source.rstrip()
    gap = "" if lang == "zh-CN" and text.endswith(SENTENCE_END) else " "
    return text + gap + SUFFIX.get(lang, SUFFIX["zh-CN"])


def base_url(settings) -> str:
    """GROUPDESK_PUBLIC_URL (required in production: startup.py), else this machine's console (`groupdesk dev`)."""
    return settings.public_url.rstrip("/") or f"http://{settings.web_host}:{settings.web_port}"


class StatusLinks:
    def __init__(self, db: Database, key: bytes, base: str):
        self.db, self.key, self.base = db, key, base.rstrip("/")

    @classmethod
    def for_settings(cls, settings) -> "StatusLinks":
        return cls(open_database(settings), settings.hash_key(), base_url(settings))

    def _hash(self, token: str) -> str:
        return keyed(self.key, "status-link", token, 64)

    def issue(self, incident_id: str, hall_id: str, phone: str) -> str:
        """A new link to the incident's status page, for the lead complainant whose phone this is."""
        link, row = self.mint(incident_id, hall_id, phone)
        with self.db.write() as c:
            store(c, row)
        return link

    def mint(self, incident_id: str, hall_id: str, phone: str) -> tuple[str, dict]:
        """A new link and the row that makes it open, for the caller to `store` in its own transaction
        (the SMS outbox stores it with the message that carries it)."""
        token = secrets.token_urlsafe(16)
        return f"{self.base}/s/{token}", dict(token_hash=self._hash(token), incident_id=incident_id, hall_id=hall_id,
                                              phone_key=follow_up_key(self.key, phone), created_at=_now().isoformat())

    def find(self, token: str) -> dict | None:
        """The link's row (incident_id, hall_id, phone_key, visit_logged_at), or None for any token that opens nothing."""
        if not TOKEN.match(token or ""):
            return None
        with self.db.read() as c:
            row = c.execute(select(t).where(t.c.token_hash == self._hash(token))).mappings().first()
        return dict(row) if row and not row["revoked_at"] else None

    def revoke(self, incident_id: str) -> int:
        """End every link of the incident; how many were live."""
        with self.db.write() as c:
            return c.execute(update(t).where(t.c.incident_id == incident_id, t.c.revoked_at.is_(None))
                             .values(revoked_at=_now().isoformat())).rowcount

    def visit_due(self, token: str, every: timedelta, now: datetime | None = None) -> bool:
        """True (and noted) if this link's last visit on the timeline is older than `every`: one entry an hour."""
        now = now or _now()
        since = (now - every).isoformat()
        with self.db.write() as c:
            changed = c.execute(update(t).where(
                t.c.token_hash == self._hash(token),
                (t.c.visit_logged_at.is_(None)) | (t.c.visit_logged_at < since),
            ).values(visit_logged_at=now.isoformat())).rowcount
        return changed == 1


def store(c, row: dict) -> None:
    """A minted link's row, in the caller's transaction: from now on the link opens its page."""
    c.execute(insert(t).values(**row))


def expired(closed_at: datetime | None, now: datetime | None = None) -> bool:
    return closed_at is not None and (now or _now()) > closed_at + EXPIRES_AFTER_CLOSE


def _now() -> datetime:
    return datetime.now(timezone.utc)
