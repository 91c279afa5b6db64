"""Phone numbers: one value type in E.164 form, parsed once where a number comes in, or one line on how to write it."""

from __future__ import annotations

import re
from typing import Any

# The shape of an E.164 number (+, a country code, at most 15 digits): what a stored or carried Phone looks like.
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
FIX = "write it like +86 139 0000 0001"


class Phone(str):
    """A phone number in E.164 form (+8613800138000). A `str`, so it is kept, logged as masked and serialised
    unchanged (workflow payloads, JSON, the database). Made by `Phone.parse` where a typed or received number
    enters (the one call of phonenumbers.parse), or by `Phone.of` from a number already in E.164 form."""

    __slots__ = ()

    @classmethod
    def parse(cls, raw: str, region: str = "CN") -> "Phone":
        """The E.164 form of what was typed or received, or ValueError with the fix."""
        import phonenumbers  # loaded only when a number is parsed, never by the models that carry one

        try:
            parsed = phonenumbers.parse(str(raw), region)
        except phonenumbers.NumberParseException as exc:
            raise ValueError(f"{raw!r} is not a phone number ({exc}); {FIX}") from None
        if not phonenumbers.is_valid_number(parsed):
            raise ValueError(f"{raw!r} is not a valid phone number; {FIX}")
        return cls(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))

    @classmethod
    def of(cls, e164: str) -> "Phone":
        """A number already in E.164 form (stored, or carried in a payload): its shape is checked, it is not parsed."""
        if isinstance(e164, cls):
            return e164
        if not isinstance(e164, str) or not E164.match(e164):
            raise ValueError(f"{str(e164)[:20]!r} is not a phone number in E.164 form; {FIX}")
        return cls(e164)

    @property
    def country_code(self) -> int:
        """The country calling code (86), read from the digits: E.164 codes are prefix-free, so no parse."""
        return country_code(self) or 0

    @property
    def national_number(self) -> str:
        """The digits after the country calling code (13800138000)."""
        return self[1 + len(str(self.country_code)):]

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """In a pydantic model: a string of E.164 shape, kept as a Phone, written as the plain string."""
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(cls.of, core_schema.str_schema())


def country_code(number: str) -> int | None:
    """The country calling code of an E.164 number, or None when it has no known one (not a parse)."""
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

    if not E164.match(number or ""):
        return None
    for length in (1, 2, 3):
        code = int(number[1:1 + length])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            return code
    return None
