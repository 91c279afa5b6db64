"""Keyed hashes (HMAC-SHA256): pseudonymous keys that reveal nothing without the secret in the settings.

Each use has its own label, so a hash made for one purpose never matches one made for another.
Never called from workflow code: clients and activities compute them and pass the result in.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime


def keyed(key: bytes, label: str, value: str, length: int = 32) -> str:
    """HMAC-SHA256 of `value` under `key`, separated by `label`, as `length` hex characters."""
    if not key:
        raise ValueError("no hash key: set GROUPDESK_HASH_KEY")
    return hmac.new(key, f"groupdesk:{label}\x00{value}".encode(), hashlib.sha256).hexdigest()[:length]


def follow_up_key(key: bytes, phone: str) -> str:
    """How a lead complainant's SMS answer finds the incident awaiting it (GroupdeskFollowUpKey)."""
    return keyed(key, "follow-up", phone)


def incident_suffix(key: bytes, hall_id: str, phone: str, day: datetime) -> str:
    """Six hex characters: the same hall, phone and day give the same; nothing about the phone shows."""
    return keyed(key, "incident-id", f"{hall_id}|{day:%Y%m%d}|{phone}", 6)


def code_key(key: bytes, code: str) -> str:
    """The keyed hash an approval code is known by outside the director's SMS (GroupdeskApprovalCode)."""
    return keyed(key, "approval-code", code)


def sender_key(key: bytes, phone: str) -> str:
    """Whose wrong approval codes are counted, without keeping the number."""
    return keyed(key, "sender", phone)
