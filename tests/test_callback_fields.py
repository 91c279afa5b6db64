"""The bounds every provider callback is held to (groupdesk/messaging/callback_fields.py), Twilio's first."""

from __future__ import annotations

import pytest

from groupdesk.messaging.callback_fields import (TWILIO_INBOUND, TWILIO_STATUS, Field, callback_problem, choice,
                                                 digits, sid, text)

SID = "SM" + "0123456789abcdef" * 2


@pytest.mark.parametrize("form,says", [
    ({"MessageSid": "SM" + "a" * 2998, "MessageStatus": "sent"}, "MessageSid: 3,000 characters; the provider sends at most 34"),
    ({"MessageSid": "SM" + "A" * 32, "MessageStatus": "sent"}, "MessageSid: 'SMAAAA"),
    ({"MessageSid": SID, "MessageStatus": "sent", "ErrorCode": "3" * 5000}, "ErrorCode: 5,000 characters"),
    ({"MessageSid": SID, "MessageStatus": "failed", "ErrorCode": "30003;"}, "ErrorCode: '30003;' is not 1 to 6 digits"),
    ({"MessageSid": SID, "MessageStatus": "exploded"}, "MessageStatus: 'exploded' is not one of accepted"),
    ({"MessageStatus": "sent"}, "MessageSid: missing"),
    ({"MessageSid": SID, "MessageStatus": "sent", "AccountSid": "AC1"}, "AccountSid: 'AC1' is not AC and 32 hex digits"),
    ({"MessageSid": SID, "MessageStatus": "sent", "To": "+86\u202e139"}, "To: contains U+202E"),
])
def test_a_status_report_outside_twilios_formats_is_named(form, says):
    problem = callback_problem(form, TWILIO_STATUS)
    assert problem and says in problem, problem


def test_what_twilio_sends_passes_and_a_body_is_bounded_not_judged():
    assert callback_problem({"MessageSid": SID, "MessageStatus": "undelivered", "ErrorCode": "30003",
                             "AccountSid": "AC" + "0" * 32, "To": "+8613900000101"}, TWILIO_STATUS) is None
    reply = {"MessageSid": "MM" + "f" * 32, "From": "+8613900000301", "Body": "5 很满意👨‍👩‍👧", "NumMedia": "0"}
    assert callback_problem(reply, TWILIO_INBOUND) is None  # what a person wrote is theirs (its comment is checked later)
    assert "Body: 1,601 characters" in callback_problem({**reply, "Body": "好" * 1601}, TWILIO_INBOUND)


def test_another_providers_rules_are_a_tuple_of_fields():
    """How a domestic provider's or WeCom's callback declares its own formats (JSON values may be numbers)."""
    rules = (Field("biz_id", 64, required=True, what="a send id"), choice("success", ("true", "false"), True),
             digits("err_code_digits", 8), sid("msg", ("wx",), 16), text("content", 2048))
    assert callback_problem({"biz_id": "900619746936498440^0", "success": "true", "err_code_digits": 0}, rules) \
        is None
    assert callback_problem({"biz_id": "x" * 65, "success": "true"}, rules).startswith("biz_id: 65 characters")
    assert callback_problem({"biz_id": "1", "success": True}, rules) == "success: should be one of true, false, not bool"
    assert callback_problem({"biz_id": "1", "success": "true", "msg": {"a": 1}}, rules).startswith("msg: should be")
