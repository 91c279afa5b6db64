"""What the domestic providers (Aliyun, Tencent Cloud) share: the compact id each send carries, the
host their SDK is pointed at, their templates as their APIs list them, and national number formats."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from groupdesk.core.phones import Phone


class ProviderSettingsError(ValueError):
    """A setting a provider needs is missing or inconsistent; the message names the variable."""


@dataclass(frozen=True)
class ProviderTemplate:
    """A template as the provider's template-list API gives it."""
    code: str
    text: str
    status: str  # approved | reviewing | rejected
    name: str = ""
    reason: str = ""


def out_id_for(key: str) -> str:
    """At most 32 characters, the same for every attempt at one outbox key (Aliyun OutId, Tencent
    SessionContext): 'gd' and 30 hex digits of the key's SHA-256, which says nothing about the recipient."""
    return "gd" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:30]


def endpoint(variable: str, value: str) -> tuple[str, str] | None:
    """(host[:port], http|https) from GROUPDESK_*_API_BASE, or None when unset (the provider's own host)."""
    if not value:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") or parts.query:
        raise ProviderSettingsError(f"{variable}={value[:60]!r} is not an http(s)://host[:port] address"
                                    " (no path), e.g. http://127.0.0.1:9100")
    return parts.netloc, parts.scheme


def positive_timeout(variable: str, seconds: float) -> float:
    if not 0 < seconds <= 30:
        raise ProviderSettingsError(f"{variable}={seconds} must be a number of seconds above 0 and at most 30"
                                    " (the send activity times out after 10)")
    return seconds


def sign_name(variable: str, value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ProviderSettingsError(f"{variable} is missing: the approved SMS signature (签名), without 【】")
    if "【" in value or "】" in value or len(value) > 20:
        raise ProviderSettingsError(f"{variable}={value[:30]!r}: give the signature's words only, without 【】"
                                    " (at most 20 characters)")
    return value


def national(number: str) -> tuple[int, str]:
    """(country calling code, national number) of an E.164 number."""
    phone = Phone.of(number)  # parsed where it came in: split here, not parsed again
    return phone.country_code, phone.national_number
