"""The interface every SMS provider implements, and the default one: the outbox itself."""

from __future__ import annotations

from typing import Protocol

import structlog

from groupdesk.masking import mask_phone
from groupdesk.outbox import OutboxRow

log = structlog.get_logger("groupdesk.sms")


class PermanentSmsError(Exception):
    """The provider refused the message for good (bad number, unsubscribed): do not retry."""

    def __init__(self, code: str, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class SmsProvider(Protocol):
    name: str

    async def send(self, message: OutboxRow) -> None:
        """Hand the message over; raise PermanentSmsError for a refusal, anything else to retry."""


class OutboxProvider:
    """Messages stay in the outbox (and the log); nothing leaves the machine."""

    name = "outbox"

    async def send(self, message: OutboxRow) -> None:
        log.info(
            "sms stored",
            to=mask_phone(message.to_number),
            purpose=message.purpose,
            chars=len(message.body),
        )


def make_provider(name: str) -> SmsProvider:
    if name == "outbox":
        return OutboxProvider()
    raise ValueError(f"GROUPDESK_SMS_PROVIDER={name!r} is not available; use outbox")
