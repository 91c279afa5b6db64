"""The real `twilio` client against a local fake Twilio API: fields, auth, and every error class."""

from __future__ import annotations

import time

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.sms import SmsActivities
from fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio, basic_auth
from groupdesk.runtime.config import Settings
from groupdesk.core.models import SendMessages
from groupdesk.messaging.outbox import Outbox
from helpers import migrated_sqlite
from groupdesk.messaging.twilio import TwilioProvider, TwilioSettingsError

PUBLIC_URL = "https://groupdesk.example.org"


@pytest.fixture(autouse=True)
def _no_twilio_host_rewrites(monkeypatch):
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.delenv("TWILIO_REGION", raising=False)


@pytest.fixture
def fake(httpserver):
    return FakeTwilio(httpserver).install()


def twilio_settings(fake, **over) -> Settings:
    values = dict(GROUPDESK_SMS_PROVIDER="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                  TWILIO_FROM_NUMBER=FROM_NUMBER, GROUPDESK_TWILIO_API_BASE=fake.base_url if fake else "",
                  GROUPDESK_PUBLIC_URL=PUBLIC_URL, GROUPDESK_TWILIO_TIMEOUT="1")
    values.update(over)
    return Settings(**values)


@pytest.fixture
def sms(fake, database_url, directory):
    """On SQLite and on PostgreSQL: the outbox behaves the same on both."""
    provider = TwilioProvider.from_settings(twilio_settings(fake))
    return SmsActivities(Outbox(database_url), provider, lambda: directory)


def request(recipients=("guide",), key="inc-9/move_to_vip_room#1/step_started/start") -> SendMessages:
    return SendMessages(
        incident_id="inc-9", hall_id="xicheng", step="move_to_vip_room", purpose="step_started", key=key,
        recipients=list(recipients), template={"zh-CN": "{{ recipient_name }}:请引导客户至VIP室", "en": "x"},
        context={}, drill=False,
    )


async def run(sms, req=None):
    return await ActivityEnvironment().run(sms.send_messages, req or request())


async def test_success_sends_the_exact_request(sms, fake):
    result = await run(sms)
    assert [d.status for d in result.deliveries] == ["sent"]
    (form,) = fake.posts
    assert form == {"To": "+8613900000101", "From": FROM_NUMBER, "Body": "赵敏:请引导客户至VIP室",
                    "StatusCallback": f"{PUBLIC_URL}/twilio/status?key=inc-9%2Fmove_to_vip_room%231%2F"
                                      "step_started%2Fstart%2Fzhao.min"}
    assert fake.auth_headers == [basic_auth()]
    row = sms.outbox.list("inc-9")[0]
    assert row.status == "sent" and row.provider_id == fake.accepted[0]["sid"] and row.provider == "twilio"


async def test_messaging_service_instead_of_a_from_number(fake, tmp_path, directory):
    settings = twilio_settings(fake, TWILIO_FROM_NUMBER="", TWILIO_MESSAGING_SERVICE_SID="MG" + "1" * 32)
    sms = SmsActivities(Outbox(migrated_sqlite(tmp_path / "o.sqlite3")), TwilioProvider.from_settings(settings), lambda: directory)
    await run(sms)
    assert fake.posts[0]["MessagingServiceSid"] == "MG" + "1" * 32 and "From" not in fake.posts[0]


async def test_rate_limit_is_retried_then_sent_once(sms, fake):
    fake.script = [429]
    with pytest.raises(ApplicationError, match="not sent, will retry"):
        await run(sms)
    assert sms.outbox.list("inc-9")[0].status == "queued"
    await run(sms)
    assert len(fake.posts) == 2 and len(fake.accepted) == 1
    assert sms.outbox.list("inc-9")[0].status == "sent"


async def test_503_is_an_unknown_outcome_checked_before_resending(sms, fake):
    fake.script = [503]
    with pytest.raises(ApplicationError, match="outcome unknown"):
        await run(sms)
    assert sms.outbox.list("inc-9")[0].status == "unknown"
    await run(sms)
    assert len(fake.gets) == 1, "looked up before resending"
    assert len(fake.accepted) == 1 and sms.outbox.list("inc-9")[0].status == "sent"


async def test_a_hung_api_times_out_and_is_not_sent_twice(sms, fake):
    fake.script = [("hang", 2.5)]  # the fake accepts the message but answers after the 1 s timeout
    with pytest.raises(ApplicationError, match="did not answer in time"):
        await run(sms)
    await fake.answered()  # the activity's retry comes after a backoff; by then the fake has answered
    second = await run(sms)
    assert [d.status for d in second.deliveries] == ["duplicate"]
    assert len(fake.posts) == 1 and len(fake.accepted) == 1
    row = sms.outbox.list("inc-9")[0]
    assert row.status == "sent" and row.provider_id == fake.accepted[0]["sid"]


@pytest.mark.parametrize("code,words", [(21211, "not a valid phone number"), (21610, "unsubscribed")])
async def test_permanent_refusals_fail_the_message_not_the_activity(sms, fake, code, words):
    fake.refuse["+8613900000101"] = (400, code, "refused")
    result = await run(sms, request(recipients=("guide", "hall_lead")))
    failed, sent = result.deliveries
    assert failed.status == "failed" and str(code) in failed.error and words in failed.error
    assert sent.status == "sent"
    rows = {r.recipient: r for r in sms.outbox.list("inc-9")}
    assert rows["zhao.min"].status == "failed" and rows["zhao.min"].error_code == str(code)
    again = await run(sms, request(recipients=("guide", "hall_lead")))
    assert [d.status for d in again.deliveries] == ["duplicate", "duplicate"] and len(fake.posts) == 2


async def test_refused_connection_is_retryable(tmp_path, directory):
    settings = twilio_settings(None, GROUPDESK_TWILIO_API_BASE="http://127.0.0.1:9")
    sms = SmsActivities(Outbox(migrated_sqlite(tmp_path / "o.sqlite3")), TwilioProvider.from_settings(settings), lambda: directory)
    with pytest.raises(ApplicationError, match="not sent, will retry"):
        await run(sms)
    assert sms.outbox.list("inc-9")[0].status == "queued"


@pytest.mark.parametrize("override,named", [
    ({"TWILIO_ACCOUNT_SID": ""}, "TWILIO_ACCOUNT_SID"),
    ({"TWILIO_AUTH_TOKEN": ""}, "TWILIO_AUTH_TOKEN"),
    ({"TWILIO_FROM_NUMBER": ""}, "exactly one of TWILIO_FROM_NUMBER and TWILIO_MESSAGING_SERVICE_SID"),
    ({"TWILIO_MESSAGING_SERVICE_SID": "MG" + "2" * 32}, "exactly one of"),
    ({"TWILIO_FROM_NUMBER": "12"}, "TWILIO_FROM_NUMBER"),
    ({"GROUPDESK_PUBLIC_URL": ""}, "GROUPDESK_PUBLIC_URL"),
])
def test_bad_settings_fail_at_worker_start_naming_the_setting(override, named, tmp_path):
    from worker import build_worker

    settings = twilio_settings(None, GROUPDESK_DATA_DIR=str(tmp_path), **override)
    with pytest.raises(TwilioSettingsError, match=named):
        build_worker(client=None, settings=settings)


async def test_the_look_up_before_a_resend_goes_by_creation_time(sms, fake):
    """A queued message has no date_sent; an older identical one (an earlier visit) is not this one."""
    an_hour_ago = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(time.time() - 3600))
    fake.accepted.append({"sid": "SM-earlier", "account_sid": ACCOUNT_SID, "to": "+8613900000101",
                          "from": FROM_NUMBER, "body": "赵敏:请引导客户至VIP室", "status": "delivered",
                          "date_created": an_hour_ago, "date_sent": an_hour_ago})
    fake.script = [("hang", 2.5)]  # accepted (queued, no date_sent yet), the answer comes too late
    with pytest.raises(ApplicationError, match="did not answer in time"):
        await run(sms)
    await fake.answered()
    again = await run(sms)
    assert [d.status for d in again.deliveries] == ["duplicate"] and len(fake.posts) == 1
    assert not any(key.startswith("DateSent") for key in fake.gets[0]), fake.gets
    row = sms.outbox.list("inc-9")[0]
    assert row.provider_id == fake.accepted[-1]["sid"] != "SM-earlier"
