"""Personal data never reaches a log line whole: phones keep their ends, names their first character."""

from __future__ import annotations

import re

_PHONE = re.compile(r"(?:(\+?86)[ -]?|(?<!\d))(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)")


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) < 7:
        return "***"
    prefix = "+86 " if digits.startswith("86") and len(digits) == 13 else ""
    local = digits[2:] if prefix else digits
    return f"{prefix}{local[:3]}****{local[-4:]}"


def mask_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, min(len(name) - 1, 3))


def mask_text(text: str) -> str:
    """Mask every mobile number found in free text."""
    return _PHONE.sub(lambda m: f"{'+86 ' if m.group(1) else ''}{m.group(2)}****{m.group(4)}", text)


_CODE = re.compile(r"(?<![\d-])\d{6}(?!\d)")


def mask_code(purpose: str, body: str) -> str:
    """An SMS as staff may read it: an approval request's code is for the director's phone only."""
    return _CODE.sub("******", body) if purpose == "approval_request" else body
