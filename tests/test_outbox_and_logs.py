"""Exactly once: a retried activity never stores or sends a message twice; logs never hold full PII."""

from __future__ import annotations

import io
import json

import structlog
from temporalio.testing import ActivityEnvironment

from activities.sms import SmsActivities
from groupdesk.runtime.logs import configure_logging
from groupdesk.core.models import Complainant, SendMessages
from groupdesk.messaging.outbox import Outbox
from groupdesk.messaging.provider import OutboxProvider, PermanentSmsError


class CountingProvider(OutboxProvider):
    def __init__(self, fail_first: bool = False):
        self.calls: list[str] = []
        self.fail_first = fail_first

    async def send(self, message):
        self.calls.append(message.key)
        if self.fail_first and len(self.calls) == 1:
            raise ConnectionError("gateway down")


def request(**over) -> SendMessages:
    base = dict(
        incident_id="inc-1", hall_id="xicheng", step="move_to_vip_room", purpose="step_started",
        key="inc-1/move_to_vip_room#1/step_started/start", recipients=["guide", "hall_lead", "lead_complainant"],
        template={"zh-CN": "{{ recipient_name }} {{ step_title }} {{ deadline }}", "en": "{{ recipient_name }} EN"},
        context={"deadline": "2026-11-23T02:05:00+00:00"}, step_title={"zh-CN": "引导", "en": "move"},
        owner_role="guide", lead=Complainant(name="张建国", phone="+8613800138000"), drill=True,
    )
    base.update(over)
    return SendMessages(**base)


def activities(database_url, provider, directory):
    return SmsActivities(Outbox(database_url), provider, lambda: directory)


async def test_retry_after_a_crash_sends_each_message_once(database_url, directory):
    provider = CountingProvider(fail_first=True)
    sms = activities(database_url, provider, directory)
    env = ActivityEnvironment()
    try:
        await env.run(sms.send_messages, request())
    except ConnectionError:
        pass  # the first message's send died; the other two went at the same time (one batch)
    second = await env.run(sms.send_messages, request())
    third = await env.run(sms.send_messages, request())
    rows = sms.outbox.list("inc-1")
    assert len(rows) == 3 and all(r.status == "sent" for r in rows)
    assert len(provider.calls) == 4  # 1 failed + 3 sent, then nothing more
    assert [d.status for d in third.deliveries] == ["duplicate"] * 3
    # the retry looks at the one left `sending` (the outbox provider has nothing: sent again), the others are done
    assert [d.status for d in second.deliveries] == ["sent", "duplicate", "duplicate"]
    assert rows[0].body.startswith("【演练】赵敏 引导 11月23日 10:05")


async def test_missing_role_and_permanent_refusal_are_reported_not_raised(database_url, directory):
    class Refusing(OutboxProvider):
        async def send(self, message):
            raise PermanentSmsError("21211", "invalid To number")

    sms = activities(database_url, Refusing(), directory)
    result = await ActivityEnvironment().run(sms.send_messages, request(hall_id="nowhere", recipients=["guide", "lead_complainant"]))
    missing, refused = result.deliveries
    assert missing.status == "failed" and "no one holds role guide at hall nowhere" in missing.error
    assert refused.status == "failed" and "21211" in refused.error
    assert sms.outbox.list("inc-1")[0].status == "failed"


async def test_corrected_phone_number_is_used_by_the_next_message(database_url, directory):
    fixed = directory.model_copy(deep=True)
    fixed.person("zhao.min").mobile = "+8613900009999"
    current = {"d": directory}
    sms = SmsActivities(Outbox(database_url), OutboxProvider(), lambda: current["d"])
    await ActivityEnvironment().run(sms.send_messages, request(recipients=["guide"]))
    current["d"] = fixed
    await ActivityEnvironment().run(sms.send_messages, request(recipients=["guide"], key="inc-1/x#1/reminder/deadline"))
    assert [r.to_number for r in sms.outbox.list("inc-1")] == ["+8613900000101", "+8613900009999"]


def test_logs_mask_phones_and_names():
    buffer = io.StringIO()
    configure_logging("json")
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=buffer))
    structlog.get_logger().info("lead complainant called from 13800138000", lead_name="张建国",
                                phone="+86 138 0013 8000", note="回电 +8613912345678")
    line = json.loads(buffer.getvalue())
    assert "13800138000" not in buffer.getvalue() and "张建国" not in buffer.getvalue()
    assert line["lead_name"] == "张**" and line["phone"] == "+86 138****8000"
    assert "139****5678" in line["note"] and "138****8000" in line["event"]
    configure_logging("console")
