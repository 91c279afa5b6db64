"""The Twilio provider: the official client, an explicit timeout, errors classified by code."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

import requests
import structlog
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from groupdesk.core.phones import Phone
from groupdesk.runtime.masking import mask_phone
from groupdesk.messaging.errors import (
    TWILIO_PERMANENT,
    TWILIO_RETRYABLE,
    PermanentSmsError,
    RetryableSmsError,
    UnknownOutcomeError,
)

if TYPE_CHECKING:  # the settings check at every start reads this module: no database layer for it
    from groupdesk.messaging.outbox import OutboxRow

log = structlog.get_logger("groupdesk.sms.twilio")
LOOKUP_LIMIT = 200  # the recipient's latest messages, newest first, searched before a resend


class TwilioSettingsError(ValueError):
    pass


class TwilioProvider:
    name = "twilio"
    channel = "sms"
    templates = False
    settles_unknown = True

    def __init__(self, client: Client, public_url: str, from_number: str = "", messaging_service_sid: str = ""):
        self.client = client
        self.public_url = public_url.rstrip("/")
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid

    @classmethod
    def from_settings(cls, settings) -> "TwilioProvider":
        sid, token = settings.twilio_account_sid.strip(), settings.twilio_auth_token.strip()
        if not sid.startswith("AC") or len(sid) != 34:
            raise TwilioSettingsError("TWILIO_ACCOUNT_SID is missing or malformed: it is 34 characters starting AC")
        if not token:
            raise TwilioSettingsError("TWILIO_AUTH_TOKEN is missing")
        from_number, service = settings.twilio_from_number.strip(), settings.twilio_messaging_service_sid.strip()
        if bool(from_number) == bool(service):
            raise TwilioSettingsError("set exactly one of TWILIO_FROM_NUMBER and TWILIO_MESSAGING_SERVICE_SID")
        if from_number:
            try:
                from_number = Phone.parse(from_number, region="US")
            except ValueError as exc:
                raise TwilioSettingsError(f"TWILIO_FROM_NUMBER: {exc}") from None
        if service and not service.startswith("MG"):
            raise TwilioSettingsError("TWILIO_MESSAGING_SERVICE_SID must start with MG")
        if not settings.public_url.startswith(("http://", "https://")):
            raise TwilioSettingsError("GROUPDESK_PUBLIC_URL is missing: the http(s) address where Twilio reaches"
                                      " groupdesk's /twilio/status and /twilio/inbound")
        if settings.twilio_timeout <= 0:
            raise TwilioSettingsError("GROUPDESK_TWILIO_TIMEOUT must be a positive number of seconds")
        client = Client(sid, token, http_client=TwilioHttpClient(timeout=settings.twilio_timeout))
        if settings.twilio_api_base:
            client.api.base_url = settings.twilio_api_base.rstrip("/")
        return cls(client, settings.public_url, from_number, service)

    def status_callback(self, key: str) -> str:
        return f"{self.public_url}/twilio/status?key={quote(key, safe='')}"

    async def send(self, message: OutboxRow) -> str | None:
        return await asyncio.to_thread(self._send, message)

    def _send(self, message: OutboxRow) -> str:
        params = {"to": message.to_number, "body": message.body, "status_callback": self.status_callback(message.key)}
        if self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        else:
            params["from_"] = self.from_number
        try:
            created = self.client.messages.create(**params)
        except TwilioRestException as exc:
            raise classify(exc) from None
        except requests.exceptions.ConnectTimeout:
            raise RetryableSmsError("could not connect to Twilio in time") from None
        except requests.exceptions.Timeout:
            raise UnknownOutcomeError("Twilio did not answer in time") from None
        except requests.exceptions.ConnectionError as exc:
            if "refused" in str(exc).lower() or "name or service" in str(exc).lower():
                raise RetryableSmsError(f"cannot connect to Twilio: {exc}") from None
            raise UnknownOutcomeError(f"connection lost while sending: {exc}") from None
        log.info("sms sent", to=mask_phone(message.to_number), sid=created.sid, purpose=message.purpose)
        return created.sid

    async def reconcile(self, message: OutboxRow) -> str | None:
        return await asyncio.to_thread(self._reconcile, message)

    def _reconcile(self, message: OutboxRow) -> str | None:
        """Find the message by recipient, body and creation time. Not by `date_sent`: a message Twilio
        accepted but still queues has none, and a DateSent filter would miss it and send a twin."""
        since = datetime.fromisoformat(message.created_at) - timedelta(minutes=5)
        try:
            for found in self.client.messages.list(to=message.to_number, limit=LOOKUP_LIMIT):
                if found.body == message.body and (found.date_created is None or found.date_created >= since):
                    return found.sid
        except (TwilioRestException, requests.exceptions.RequestException) as exc:
            raise UnknownOutcomeError(f"cannot look up whether Twilio has the message: {exc}") from None
        return None


def classify(exc: TwilioRestException) -> Exception:
    code = str(exc.code or "")
    if exc.status == 429 or code in TWILIO_RETRYABLE:
        return RetryableSmsError(f"Twilio {code or exc.status}: {TWILIO_RETRYABLE.get(code, 'rate limited')}")
    if exc.status >= 500:
        return UnknownOutcomeError(f"Twilio answered {exc.status}")
    reason = TWILIO_PERMANENT.get(code) or f"Twilio refused the message ({exc.status}): {exc.msg}"
    return PermanentSmsError(code or str(exc.status), reason)
