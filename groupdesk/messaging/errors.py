"""How a failed send is handled is decided by what is known about the message."""

from __future__ import annotations


class PermanentSmsError(Exception):
    """Refused for good (bad number, unsubscribed, bad credentials): never retried automatically."""

    def __init__(self, code: str, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class RetryableSmsError(Exception):
    """Certainly not sent (rate limit, queue full, connection refused): safe to try again.

    `retry_after`: seconds the provider asks to wait (its rate window), so the next attempt does not hammer it.
    """

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class UnknownOutcomeError(Exception):
    """The provider may or may not have accepted it (5xx, timeout): reconcile before any resend."""


# Twilio error codes that no retry will fix, with what to tell staff.
TWILIO_PERMANENT = {
    "20003": "Twilio refused the account credentials; check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
    "21211": "the number is not a valid phone number; correct it in the staff directory",
    "21408": "the account may not send SMS to this country or region",
    "21606": "the sending number cannot send SMS; check TWILIO_FROM_NUMBER",
    "21610": "the recipient has unsubscribed (replied STOP); reach them another way",
    "21612": "this number cannot be reached from the sending number",
    "21614": "the number is not a mobile number; give a mobile in the staff directory",
}
# Twilio error codes that mean "not sent, try again later".
TWILIO_RETRYABLE = {"20429": "too many requests", "21611": "the sending queue is full"}
