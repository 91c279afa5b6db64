"""The interface every SMS provider implements, and the default one: the outbox itself."""

from __future__ import annotations

from typing import Protocol

import structlog

from groupdesk.runtime.masking import mask_phone
from groupdesk.messaging.outbox import OutboxRow
from groupdesk.messaging.errors import PermanentSmsError, RetryableSmsError, UnknownOutcomeError

__all__ = ["SmsProvider", "OutboxProvider", "make_provider", "PermanentSmsError", "RetryableSmsError",
           "UnknownOutcomeError"]

log = structlog.get_logger("groupdesk.sms")


class SmsProvider(Protocol):
    name: str

    async def send(self, message: OutboxRow) -> str | None:
        """Hand the message over and return the provider's id for it.

        Raise PermanentSmsError, RetryableSmsError or UnknownOutcomeError as the case may be.
        """

    async def reconcile(self, message: OutboxRow) -> str | None:
        """After an unknown outcome: the provider's id if it did accept the message, else None."""


class OutboxProvider:
    """Messages stay in the outbox (and the log); nothing leaves the machine."""

    name = "outbox"

    async def send(self, message: OutboxRow) -> str | None:
        log.info("sms stored", to=mask_phone(message.to_number), purpose=message.purpose, chars=len(message.body))
        return None

    async def reconcile(self, message: OutboxRow) -> str | None:
        return None  # nothing left the machine, so sending again is the answer


def make_provider(settings) -> SmsProvider:
    """The configured provider; a missing or inconsistent setting fails here, at worker start."""
    if settings.sms_provider == "outbox":
        return OutboxProvider()
    if settings.sms_provider == "twilio":
        from groupdesk.messaging.twilio import TwilioProvider

        return TwilioProvider.from_settings(settings)
    raise ValueError(f"GROUPDESK_SMS_PROVIDER={settings.sms_provider!r} is not known; use outbox or twilio")
