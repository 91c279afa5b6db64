"""Phone numbers in E.164 form, or one line saying how to write them."""

from __future__ import annotations

import phonenumbers


def normalise_phone(raw: str, region: str = "CN") -> str:
    """E.164 form of a phone number, or ValueError with the fix."""
    try:
        parsed = phonenumbers.parse(str(raw), region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{raw!r} is not a phone number ({exc}); write it like +86 139 0000 0001") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{raw!r} is not a valid phone number; write it like +86 139 0000 0001")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
