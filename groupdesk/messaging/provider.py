"""The interface every SMS provider implements, and the default one: the outbox itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import structlog

from groupdesk.runtime.masking import mask_phone
from groupdesk.messaging.errors import PermanentSmsError, RetryableSmsError, UnknownOutcomeError

if TYPE_CHECKING:  # annotations only: the settings check at every start loads this module, not the database layer
    from groupdesk.messaging.outbox import OutboxRow

__all__ = ["SmsProvider", "OutboxProvider", "make_provider", "PermanentSmsError", "RetryableSmsError",
           "UnknownOutcomeError"]

log = structlog.get_logger("groupdesk.sms")


class SmsProvider(Protocol):
    name: str  # the provider, as the outbox row records it
    channel: str  # what it sends over ("sms"); another channel (e.g. WeCom) is another provider
    templates: bool  # sends only approved templates with parameters (Aliyun, Tencent Cloud)
    settles_unknown: bool  # reconcile() can tell whether it has a message; if not, a maybe-sent one is parked

    async def send(self, message: OutboxRow) -> str | None:
        """Hand the message over and return the provider's id for it.

        Raise PermanentSmsError, RetryableSmsError or UnknownOutcomeError as the case may be.
        """

    async def reconcile(self, message: OutboxRow) -> str | None:
        """After an unknown outcome: the provider's id if it did accept the message, else None."""


class OutboxProvider:
    """Messages stay in the outbox (and the log); nothing leaves the machine."""

    name = "outbox"
    channel = "sms"
    templates = False
    settles_unknown = True

    async def send(self, message: OutboxRow) -> str | None:
        log.info("sms stored", to=mask_phone(message.to_number), purpose=message.purpose, chars=len(message.body))
        return None

    async def reconcile(self, message: OutboxRow) -> str | None:
        return None  # nothing left the machine, so sending again is the answer


def make_provider(settings, name: str | None = None) -> SmsProvider:
    """The provider `name` (default GROUPDESK_SMS_PROVIDER); a missing or inconsistent setting fails here."""
    name = name or settings.sms_provider
    if name == "aliyun":
        from groupdesk.messaging.aliyun import AliyunProvider

        return AliyunProvider.from_settings(settings)
    if name == "tencent":
        from groupdesk.messaging.tencent import TencentProvider

        return TencentProvider.from_settings(settings)
    if name == "twilio":
        from groupdesk.messaging.twilio import TwilioProvider

        return TwilioProvider.from_settings(settings)
    return OutboxProvider()
