"""What an SMS provider's callback may carry, field by field, in the provider's own documented formats.

Every callback (Twilio's status and inbound webhooks; the domestic providers' and WeCom's the same way) is
checked here after its signature and before anything is stored: a field outside its format is one line
naming it, answered 400, and nothing is kept. A provider's rules are a tuple of `Field`s; fields not listed
are not read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from groupdesk.core.validation import hidden_problem, shown


@dataclass(frozen=True)
class Field:
    name: str
    max_chars: int  # the provider's own bound (a Twilio MessageSid is 34 characters)
    pattern: re.Pattern | None = None  # the provider's format, when it has one
    required: bool = False
    what: str = ""  # the format in words, for the refusal: "SM or MM and 32 hex digits"
    judged: bool = True  # the text rule (no hidden characters); off for what people wrote (an SMS body)

    def problem(self, value: object) -> str | None:
        if value is None or value == "":
            return "missing; the provider always sends it" if self.required else None
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            return f"should be {self.what or 'text'}, not {type(value).__name__}"
        text = str(value)
        if len(text) > self.max_chars:
            return f"{len(text):,} characters; the provider sends at most {self.max_chars}"
        if self.pattern is not None and not self.pattern.fullmatch(text):
            return f"{shown(text)} is not {self.what}"
        return hidden_problem(text) if self.judged else None


def sid(name: str, prefixes: tuple[str, ...], hex_digits: int = 32, required: bool = False) -> Field:
    """An id of two letters and hex digits, as Twilio's (SM…, MM…, AC…, MG…)."""
    pattern = re.compile(f"(?:{'|'.join(map(re.escape, prefixes))})[0-9a-f]{{{hex_digits}}}")
    return Field(name, 2 + hex_digits, pattern, required, f"{' or '.join(prefixes)} and {hex_digits} hex digits")


def digits(name: str, most: int, required: bool = False) -> Field:
    return Field(name, most, re.compile(f"[0-9]{{1,{most}}}"), required, f"1 to {most} digits")


def choice(name: str, values: tuple[str, ...], required: bool = False) -> Field:
    pattern = re.compile("|".join(map(re.escape, values)))
    return Field(name, max(map(len, values)), pattern, required, f"one of {', '.join(values)}")


def address(name: str, required: bool = False) -> Field:
    """A phone number or a channel address (`whatsapp:+86…`): one line, at most 64 characters."""
    return Field(name, 64, None, required, "a phone number")


def text(name: str, max_chars: int) -> Field:
    """What a person wrote (an SMS body): only its length is the provider's; its words are checked where they
    are used (a follow-up comment by the workflow's text rule)."""
    return Field(name, max_chars, None, False, "text", judged=False)


def callback_problem(fields: Mapping[str, object], rules: tuple[Field, ...]) -> str | None:
    """One line naming the first field outside its provider's format (`MessageSid: … is not …`), or None."""
    for rule in rules:
        if problem := rule.problem(fields.get(rule.name)):
            return f"{rule.name}: {problem}"
    return None


# Twilio (https://www.twilio.com/docs/messaging/guides/webhook-request, .../api/message-resource): message
# SIDs are SM/MM + 32 hex, error codes 5 digits (bounded at 6), bodies at most 1,600 characters.
TWILIO_STATUSES = ("accepted", "scheduled", "canceled", "queued", "sending", "sent", "failed", "delivered",
                   "undelivered", "receiving", "received", "read", "partially_delivered")
TWILIO_COMMON = (sid("AccountSid", ("AC",)), sid("MessagingServiceSid", ("MG",)), address("From"), address("To"))
TWILIO_STATUS = (sid("MessageSid", ("SM", "MM"), required=True), choice("MessageStatus", TWILIO_STATUSES, True),
                 digits("ErrorCode", 6), sid("SmsSid", ("SM", "MM")), choice("SmsStatus", TWILIO_STATUSES),
                 *TWILIO_COMMON)
TWILIO_INBOUND = (sid("MessageSid", ("SM", "MM"), required=True), sid("SmsSid", ("SM", "MM")),
                  text("Body", 1600), digits("NumMedia", 2), digits("NumSegments", 2), *TWILIO_COMMON)
