"""A batch of messages costs one outbox write transaction before its sends and one after, one thread hop each.

Counted on the engine (SQLAlchemy `begin` events: every transaction, read or write) and on asyncio.to_thread,
in the order they happen next to the provider's sends, on SQLite and PostgreSQL. Staff on WeCom
(GROUPDESK_STAFF_CHANNEL=wecom) cost one more of each before WeCom is called and one after, for the whole batch.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from temporalio.testing import ActivityEnvironment

from activities import sms_batch
from activities.sms import SmsActivities
from activities.wecom_staff import WecomRoute
from groupdesk.core.batch import SendBatch
from groupdesk.core.models import Complainant, SendMessages
from groupdesk.messaging.errors import PermanentSmsError, RetryableSmsError, UnknownOutcomeError
from groupdesk.messaging.outbox import Outbox, OutboxRow
from groupdesk.messaging.provider import OutboxProvider
from groupdesk.messaging.status_links import StatusLinks
from groupdesk.messaging.wecom.channel import FELL_BACK, FallBackToSms, RetryLater, Sent
from groupdesk.storage.schema import status_links
from helpers import until

RECIPIENTS = ["guide", "hall_lead", "lead_complainant"]  # zhao.min, sun.li and the complainant at xicheng


def request(incident: str, recipients: list[str] = RECIPIENTS) -> SendMessages:
    return SendMessages(
        incident_id=incident, hall_id="xicheng", step="move_to_vip_room", purpose="step_started",
        key=f"{incident}/move_to_vip_room#1/step_started/start", recipients=recipients,
        template={"zh-CN": "{{ recipient_name }} {{ step_title }}", "en": "{{ recipient_name }} EN"},
        context={}, step_title={"zh-CN": "引导", "en": "move"}, owner_role="guide",
        lead=Complainant(name="张建国", phone="+8613800138000"), drill=True)


class Provider(OutboxProvider):
    """Answers by incident for the guide's message (zhao.min); every other message is sent. Logs each call."""

    settles_unknown = False  # an unknown outcome is parked (as Tencent Cloud's)

    def __init__(self, trail: list[str], answers: dict | None = None):
        self.trail, self.answers, self.sent = trail, answers or {}, {}

    async def send(self, message):
        self.trail.append("send")
        answer = self.answers.get(message.incident_id) if message.recipient == "zhao.min" else None
        if answer is not None:
            raise answer
        self.sent[message.key] = f"SM{len(self.sent)}"
        return self.sent[message.key]

    async def reconcile(self, message):
        return self.sent.get(message.key)


@pytest.fixture
def counted(database_url, monkeypatch):
    """The trail of transactions ("txn") and thread hops ("hop") as they happen, with the provider's sends."""
    outbox = Outbox(database_url)
    trail: list[str] = []
    listener = lambda *_: trail.append("txn")  # noqa: E731
    event.listen(outbox.db.engine, "begin", listener)
    to_thread = asyncio.to_thread

    def hop(fn, *args, **kwargs):
        trail.append("hop")
        return to_thread(fn, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", hop)
    yield outbox, trail
    event.remove(outbox.db.engine, "begin", listener)


def broken(*_):
    raise OperationalError("UPDATE messages", {}, Exception("database is locked"))


def run(sms: SmsActivities, *incidents: str, recipients: list[str] = RECIPIENTS):
    return ActivityEnvironment().run(sms.send_batch, SendBatch(requests=[request(i, recipients)
                                                                         for i in incidents]))


async def test_nine_messages_cost_one_transaction_and_one_hop_before_the_sends_and_one_after(counted, directory):
    outbox, trail = counted
    links = StatusLinks(outbox.db, b"k" * 32, "https://gd.example.cn")  # stored in the claim's transaction
    provider = Provider(trail)
    sms = SmsActivities(outbox, provider, lambda: directory, links=links)
    result = await run(sms, "inc-1", "inc-2", "inc-3")
    assert trail == ["hop", "txn"] + ["send"] * 9 + ["hop", "txn"]
    assert [[d.status for d in o.result.deliveries] for o in result.outcomes] == [["sent"] * 3] * 3
    rows = outbox.list()
    assert len(rows) == 9 and all(r.status == "sent" and r.provider_id for r in rows)
    to_lead = [r for r in rows if r.recipient == "lead_complainant"]
    tokens = [re.search(r"/s/([A-Za-z0-9_-]{22})", r.body).group(1) for r in to_lead]
    assert [links.find(t)["incident_id"] for t in tokens] == ["inc-1", "inc-2", "inc-3"]  # each link opens
    with outbox.db.read() as c:
        assert c.execute(select(func.count()).select_from(status_links)).scalar() == 3
    trail.clear()
    again = await run(sms, "inc-1", "inc-2", "inc-3")  # a retried batch: one claim finds them all done
    assert trail == ["hop", "txn"]  # nothing to mark: no second hop
    assert {d.status for o in again.outcomes for d in o.result.deliveries} == {"duplicate"}
    with outbox.db.read() as c:
        assert c.execute(select(func.count()).select_from(status_links)).scalar() == 3  # no link for a resend


async def test_mixed_outcomes_are_each_requests_own_and_recorded_in_one_transaction(counted, directory):
    outbox, trail = counted
    provider = Provider(trail, {"inc-refused": PermanentSmsError("21211", "invalid To number"),
                                "inc-busy": RetryableSmsError("rate limited", retry_after=7),
                                "inc-unknown": UnknownOutcomeError("gateway timeout")})
    sms = SmsActivities(outbox, provider, lambda: directory)
    ok, refused, busy, unknown = (await run(sms, "inc-ok", "inc-refused", "inc-busy", "inc-unknown")).outcomes
    assert trail == ["hop", "txn"] + ["send"] * 12 + ["hop", "txn"]
    assert [d.status for d in ok.result.deliveries] == ["sent"] * 3
    assert [d.status for d in refused.result.deliveries] == ["failed", "sent", "sent"]
    assert "21211" in refused.result.deliveries[0].error
    assert busy.result is None and busy.retryable and busy.retry_after == 7 and "rate limited" in busy.error
    assert [d.status for d in unknown.result.deliveries] == ["failed", "sent", "sent"]
    assert unknown.result.deliveries[0].error.startswith("unknown: gateway timeout")
    everyone = {(i, p): "sent" for i in ("inc-ok", "inc-refused", "inc-busy", "inc-unknown")
                for p in ("zhao.min", "sun.li", "lead_complainant")}
    assert {(r.incident_id, r.recipient): r.status for r in outbox.list()} == {
        **everyone, ("inc-refused", "zhao.min"): "failed", ("inc-busy", "zhao.min"): "queued",
        ("inc-unknown", "zhao.min"): "unknown"}
    trail.clear()
    provider.answers.clear()  # the workflow retries only the rate-limited request: its one queued message goes
    busy_again, = (await run(sms, "inc-busy")).outcomes
    assert [d.status for d in busy_again.result.deliveries] == ["sent", "duplicate", "duplicate"]
    assert trail == ["hop", "txn", "send", "hop", "txn"]


async def test_a_message_held_by_another_worker_is_not_sent_and_asked_for_again_once_its_hold_lapses(counted,
                                                                                                   directory):
    """Its holder may have died mid-send: the workflow's next attempt waits out the hold, not its own backoff (a drill
    compresses that to milliseconds, and all eight attempts would run out while the hold lasts)."""
    from groupdesk.messaging.outbox import HOLD

    outbox, trail = counted
    provider = Provider(trail)
    sms = SmsActivities(outbox, provider, lambda: directory)
    held = f"{request('inc-2').key}/zhao.min"
    outbox.claim_to_send(OutboxRow(key=held, incident_id="inc-2", step="move_to_vip_room", purpose="step_started",
                                   recipient="zhao.min", role="guide", to_number="+8613900000101", lang="zh-CN",
                                   body="赵敏 引导", drill=True, provider="outbox"), "wf-other/7#1")
    first, second = (await run(sms, "inc-1", "inc-2")).outcomes
    assert [d.status for d in first.result.deliveries] == ["sent"] * 3
    assert second.result is None and second.retryable and "another worker" in second.error
    assert HOLD.total_seconds() - 10 < second.retry_after <= HOLD.total_seconds()  # taken just now: most of it left
    assert first.retry_after == 0
    assert held not in provider.sent and len(provider.sent) == 5  # its request's other two went
    assert outbox.get(held).status == "sending"  # still the other worker's


async def test_a_message_a_stopped_worker_left_sending_is_parked_as_unknown_for_ops(counted, directory):
    """The incident went on without it (decided in a workflow task that never completed): after ABANDONED_AFTER it
    stops showing as sending, and a sender that does come back for it still looks at the provider first."""
    from datetime import datetime, timezone

    from groupdesk.messaging.outbox import ABANDONED_AFTER

    outbox, trail = counted
    left = f"{request('inc-3').key}/zhao.min"
    outbox.claim_to_send(OutboxRow(key=left, incident_id="inc-3", step="move_to_vip_room", purpose="escalation",
                                   recipient="zhao.min", role="guide", to_number="+8613900000101", lang="zh-CN",
                                   body="赵敏 引导", drill=True, provider="outbox"), "wf-dead/7#1")
    provider = Provider(trail)
    await run(SmsActivities(outbox, provider, lambda: directory), "inc-4")  # sent: never swept
    now = datetime.now(timezone.utc)
    assert outbox.sweep_abandoned(now + ABANDONED_AFTER / 2) == [] and outbox.get(left).status == "sending"
    swept = outbox.sweep_abandoned(now + ABANDONED_AFTER)
    assert [row.key for row in swept] == [left]
    parked = outbox.get(left)
    assert (parked.status, parked.error_code) == ("unknown", "abandoned") and "provider" in parked.error
    assert {r.status for r in outbox.list("inc-4")} == {"sent"} and outbox.sweep_abandoned(now + ABANDONED_AFTER) == []
    sent = len(provider.sent)
    first, = (await run(SmsActivities(outbox, provider, lambda: directory), "inc-3")).outcomes
    assert first.result is not None and len(provider.sent) == sent + 2  # the other two; zhao.min's was looked up
    assert outbox.get(left).status == "unknown" and left not in provider.sent


async def test_every_worker_sweeps_abandoned_messages_and_logs_each_without_the_number(database_url):
    from datetime import datetime, timedelta, timezone

    import io

    import structlog
    from sqlalchemy import update

    from groupdesk.runtime.logs import configure_logging
    from groupdesk.storage.schema import messages
    from worker import sweep_abandoned_messages

    outbox = Outbox(database_url)
    outbox.claim_to_send(OutboxRow(key="inc-5/x#1/escalation/level2/li", incident_id="inc-5", step="x",
                                   purpose="escalation", recipient="li", role="duty", to_number="+8613900000402",
                                   lang="zh-CN", body="升级", drill=True, provider="outbox"), "inc-5/3#1")
    long_ago = (datetime.now(timezone.utc) - timedelta(minutes=6)).isoformat(timespec="milliseconds")
    with outbox.db.write() as c:
        c.execute(update(messages).values(updated_at=long_ago))
    buffer = io.StringIO()
    configure_logging("json")
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=buffer))
    sweeping = asyncio.create_task(sweep_abandoned_messages(outbox, every=0.05))
    try:
        # the log line, not the row: the row is parked in a thread before the sweep, back on the loop, logs it
        await until(lambda: "abandoned by a stopped worker" in buffer.getvalue(), "not swept and logged", 10)
    finally:
        sweeping.cancel()
        configure_logging("console")
    parked = outbox.get("inc-5/x#1/escalation/level2/li")
    assert (parked.status, parked.error_code) == ("unknown", "abandoned")
    line = next(l for l in buffer.getvalue().splitlines() if "abandoned by a stopped worker" in l)
    assert "inc-5" in line and "13900000402" not in line and "0402" in line


async def test_a_database_error_fails_the_attempt_and_the_retry_sends_nothing_twice(counted, directory, monkeypatch):
    outbox, trail = counted
    provider = Provider(trail)
    provider.settles_unknown = True  # it can say whether it has a message (Twilio, Aliyun)
    sms = SmsActivities(outbox, provider, lambda: directory)
    monkeypatch.setattr(outbox, "claim_many", broken)
    with pytest.raises(OperationalError):  # no claim, no send
        await run(sms, "inc-1")
    assert not provider.sent and not outbox.list()
    monkeypatch.setattr(outbox, "claim_many", Outbox.claim_many.__get__(outbox))
    real = outbox.mark_many
    monkeypatch.setattr(outbox, "mark_many", broken)
    with pytest.raises(OperationalError):  # the batch activity fails: Temporal runs it again
        await run(sms, "inc-1")
    assert len(provider.sent) == 3 and {r.status for r in outbox.list()} == {"sending"}
    monkeypatch.setattr(outbox, "mark_many", real)
    calls = trail.count("send")
    again, = (await run(sms, "inc-1")).outcomes  # the next attempt looks at the provider first
    assert trail.count("send") == calls and [d.status for d in again.result.deliveries] == ["duplicate"] * 3
    assert {r.status for r in outbox.list()} == {"sent"}


def attempt(sms: SmsActivities, n: int, *incidents: str):
    """The workflow's n-th attempt at a batch: a local activity of its own, so a holder of its own."""
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, activity_id=str(n), attempt=1)
    return env.run(sms.send_batch, SendBatch(requests=[request(i) for i in incidents], attempt=n))


async def test_a_message_whose_outcome_could_not_be_checked_is_left_to_the_next_attempt(counted, directory):
    """Twilio could not be asked whether it has a message whose send went unanswered: the message goes back to
    unknown rather than staying held by an attempt that has ended, so the workflow's next attempt (a local
    activity of its own, minutes before the hold would lapse on drill time) looks again and sends it once."""
    outbox, trail = counted

    class Unreachable(Provider):
        settles_unknown = True  # it can say whether it has a message (Twilio, Aliyun)
        lookup: Exception | None = None

        async def reconcile(self, message):
            if self.lookup:
                raise self.lookup
            return await super().reconcile(message)

    provider = Unreachable(trail, {"inc-1": UnknownOutcomeError("gateway timeout")})
    sms = SmsActivities(outbox, provider, lambda: directory)
    guide = f"{request('inc-1').key}/zhao.min"
    first, = (await attempt(sms, 1, "inc-1")).outcomes
    assert first.retryable and outbox.get(guide).status == "unknown"
    provider.answers.clear()
    provider.lookup = UnknownOutcomeError("the lookup timed out")
    second, = (await attempt(sms, 2, "inc-1")).outcomes
    assert second.retryable and "cannot tell whether the message was sent" in second.error
    assert outbox.get(guide).status == "unknown" and guide not in provider.sent
    provider.lookup = None
    third, = (await attempt(sms, 3, "inc-1")).outcomes
    assert [d.status for d in third.result.deliveries] == ["sent", "duplicate", "duplicate"]
    assert outbox.get(guide).status == "sent" and trail.count("send") == 3 + 1  # its first try and this one


async def test_a_send_stopped_by_an_unexpected_error_is_unknown_and_looked_up_by_the_next_attempt(counted,
                                                                                                 directory):
    """An error no provider maps (here a bug in the provider's code) may have come after the message went out:
    unknown, released, and the next attempt asks the provider before sending; the others of its batch went."""
    outbox, trail = counted

    class Broken(Provider):
        settles_unknown = True

        async def send(self, message):
            await super().send(message)  # it reached the provider, then the code broke
            if message.recipient == "zhao.min" and not self.answers.get("fixed"):
                raise KeyError("MessageSid")
            return self.sent[message.key]

    provider = Broken(trail)
    sms = SmsActivities(outbox, provider, lambda: directory)
    guide = f"{request('inc-1').key}/zhao.min"
    first, = (await attempt(sms, 1, "inc-1")).outcomes
    assert first.retryable and "KeyError" in first.error
    row = outbox.get(guide)
    assert row.status == "unknown" and "unexpected error (KeyError)" in row.error
    assert {r.status for r in outbox.list() if r.key != guide} == {"sent"}
    provider.answers["fixed"] = True
    second, = (await attempt(sms, 2, "inc-1")).outcomes
    assert [d.status for d in second.result.deliveries] == ["duplicate"] * 3  # found at the provider, not resent
    assert outbox.get(guide).status == "sent" and trail.count("send") == 3


async def test_a_slow_send_does_not_hold_the_outcomes_of_the_others(counted, directory, monkeypatch):
    """A provider slower than RECORD_AFTER: what is back is recorded, so a worker killed now leaves one open."""
    outbox, trail = counted
    monkeypatch.setattr(sms_batch, "RECORD_AFTER", 0.05)
    answered = asyncio.Event()

    class Slow(Provider):
        async def send(self, message):
            if message.recipient == "zhao.min":
                await answered.wait()
            return await super().send(message)

    sms = SmsActivities(outbox, Slow(trail), lambda: directory)
    batch = asyncio.ensure_future(run(sms, "inc-1"))
    for _ in range(400):  # the two quick ones sent and recorded while the guide's is still at the provider
        if trail == ["hop", "txn", "send", "send", "hop", "txn"]:
            break
        await asyncio.sleep(0.01)
    assert trail == ["hop", "txn", "send", "send", "hop", "txn"] and not batch.done()
    # "txn" is counted when the transaction begins: wait for it to commit (reading counts "txn" too: cleared below)
    await until(lambda: [r.status for r in outbox.list()] == ["sending", "sent", "sent"], "not committed", 4)
    assert [r.status for r in outbox.list()] == ["sending", "sent", "sent"] and not batch.done()
    trail.clear()
    answered.set()
    done, = (await batch).outcomes
    assert [d.status for d in done.result.deliveries] == ["sent"] * 3
    assert trail == ["send", "hop", "txn"] and {r.status for r in outbox.list()} == {"sent"}


class Wecom:
    """A WeCom channel: answers by incident for the guide's message (zhao.min), sends every other. Logs each call."""

    def __init__(self, trail: list[str], answers: dict | None = None):
        self.trail, self.answers, self.sent = trail, answers or {}, []

    async def send(self, message):
        self.trail.append("wecom")
        answer = self.answers.get(message.key.split("/")[0]) if "/zhao.min/" in message.key else None
        if isinstance(answer, Exception):
            raise answer
        if answer is None:
            self.sent.append(message.key)
            answer = Sent(msgid=f"wx{len(self.sent)}")
        return answer


def on_wecom(outbox: Outbox, trail: list[str], directory, answers: dict | None = None) -> SmsActivities:
    wecom = WecomRoute(Wecom(trail, answers), outbox, cards=None, hash_key=b"k" * 32, public_url="")
    return SmsActivities(outbox, Provider(trail), lambda: directory, wecom=wecom)


STAFF = ["guide", "hall_lead", "security_guard", "lead_complainant"]  # + qian.lei, who has no wecom_userid


async def test_a_batchs_wecom_messages_cost_one_transaction_and_hop_before_the_calls_and_one_after(counted,
                                                                                                    directory):
    outbox, trail = counted
    sms = on_wecom(outbox, trail, directory)
    result = await run(sms, "inc-1", "inc-2", "inc-3", recipients=STAFF)
    # six WeCom rows claimed, called, marked; then the SMS: the complainants' and qian.lei's (no row on WeCom)
    assert trail == ["hop", "txn"] + ["wecom"] * 6 + ["hop", "txn"] + ["hop", "txn"] + ["send"] * 6 + ["hop", "txn"]
    assert [[(d.recipient, d.channel, d.status) for d in o.result.deliveries] for o in result.outcomes] == [[
        ("zhao.min", "wecom", "sent"), ("sun.li", "wecom", "sent"), ("qian.lei", "sms", "sent"),
        ("lead_complainant", "sms", "sent")]] * 3
    assert "wecom_userid" in result.outcomes[0].result.deliveries[2].note
    rows = outbox.list()
    assert sorted((r.channel, r.status) for r in rows) == [("sms", "sent")] * 6 + [("wecom", "sent")] * 6
    assert all(r.key.endswith("/wecom") and r.provider_id for r in rows if r.channel == "wecom")
    trail.clear()
    again = await run(sms, "inc-1", "inc-2", "inc-3", recipients=STAFF)  # retried: two claims find it all done
    assert trail == ["hop", "txn", "hop", "txn"]
    assert {d.status for o in again.outcomes for d in o.result.deliveries} == {"duplicate"}


async def test_each_wecom_answer_is_its_requests_own_and_recorded_in_one_transaction(counted, directory):
    outbox, trail = counted
    sms = on_wecom(outbox, trail, directory, {
        "inc-busy": RetryLater("45033", "too many calls at once (45033)", 7.0),
        "inc-refused": FallBackToSms("81013", "WeCom knows no such member"),
        "inc-broken": RuntimeError("connection reset")})
    held = f"{request('inc-held').key}/zhao.min/wecom"  # another live worker is sending it
    outbox.claim_to_send(OutboxRow(key=held, incident_id="inc-held", step="move_to_vip_room", purpose="step_started",
                                   recipient="zhao.min", role="guide", to_number="+8613900000101", lang="zh-CN",
                                   body="赵敏 引导", drill=True, provider="wecom", channel="wecom"), "wf-other/7#1")
    trail.clear()
    ok, busy, refused, broken, other = (await run(sms, "inc-ok", "inc-busy", "inc-refused", "inc-broken",
                                                  "inc-held")).outcomes
    # ten WeCom rows in one claim, nine called (not the held one); the SMS of the two requests that went on
    assert trail == ["hop", "txn"] + ["wecom"] * 9 + ["hop", "txn"] + ["hop", "txn"] + ["send"] * 3 + ["hop", "txn"]
    assert [(d.channel, d.status) for d in ok.result.deliveries] == [("wecom", "sent")] * 2 + [("sms", "sent")]
    assert busy.result is None and busy.retryable and busy.retry_after == 7 and "45033" in busy.error
    assert [(d.channel, d.status) for d in refused.result.deliveries] == [("sms", "sent"), ("wecom", "sent"),
                                                                          ("sms", "sent")]
    assert refused.result.deliveries[0].note == "WeCom → SMS: WeCom knows no such member"
    assert broken.result is None and broken.retryable and "connection reset" in broken.error
    assert other.result is None and other.retryable and "another worker" in other.error
    stored = {(r.incident_id, r.recipient, r.channel): r for r in outbox.list()}
    assert {k: r.status for k, r in stored.items() if k[1] == "zhao.min"} == {
        ("inc-ok", "zhao.min", "wecom"): "sent", ("inc-busy", "zhao.min", "wecom"): "queued",
        ("inc-refused", "zhao.min", "wecom"): "failed", ("inc-refused", "zhao.min", "sms"): "sent",
        ("inc-broken", "zhao.min", "wecom"): "sending", ("inc-held", "zhao.min", "wecom"): "sending"}
    assert stored[("inc-refused", "zhao.min", "wecom")].error == FELL_BACK + "WeCom knows no such member"
    assert stored[("inc-busy", "sun.li", "wecom")].status == "sent"  # the request's other messages went on
    assert ("inc-busy", "lead_complainant", "sms") not in stored  # its SMS wait for the request's retry
    trail.clear()
    sms.wecom.channel.answers.clear()  # the workflow retries the busy and broken requests: their guides' go now
    busy_again, broken_again = (await run(sms, "inc-busy", "inc-broken")).outcomes
    assert trail == ["hop", "txn", "wecom", "wecom", "hop", "txn", "hop", "txn", "send", "send", "hop", "txn"]
    for again in (busy_again, broken_again):
        assert [(d.channel, d.status) for d in again.result.deliveries] == [
            ("wecom", "sent"), ("wecom", "duplicate"), ("sms", "sent")]
    trail.clear()
    refused_again, = (await run(sms, "inc-refused")).outcomes  # the fallen-back SMS is not sent twice
    assert trail == ["hop", "txn", "hop", "txn"]
    assert [(d.channel, d.status, bool(d.note)) for d in refused_again.result.deliveries] == [
        ("sms", "duplicate", True), ("wecom", "duplicate", False), ("sms", "duplicate", False)]


async def test_a_database_error_on_the_wecom_rows_fails_the_attempt_and_the_retry_loses_nothing(counted, directory,
                                                                                                monkeypatch):
    outbox, trail = counted
    sms = on_wecom(outbox, trail, directory)
    monkeypatch.setattr(outbox, "claim_many", broken)
    with pytest.raises(OperationalError):  # no claim: neither WeCom nor the provider is called
        await run(sms, "inc-1")
    assert "wecom" not in trail and "send" not in trail and not outbox.list()
    monkeypatch.setattr(outbox, "claim_many", Outbox.claim_many.__get__(outbox))
    real = outbox.mark_many
    monkeypatch.setattr(outbox, "mark_many", broken)
    with pytest.raises(OperationalError):  # WeCom has both; the complainant's SMS waits for the next attempt
        await run(sms, "inc-1")
    assert len(sms.wecom.channel.sent) == 2 and "send" not in trail
    assert {(r.channel, r.status) for r in outbox.list()} == {("wecom", "sending")}
    monkeypatch.setattr(outbox, "mark_many", real)
    again, = (await run(sms, "inc-1")).outcomes  # WeCom cannot be asked: sent again, its duplicate check drops twins
    assert [(d.channel, d.status) for d in again.result.deliveries] == [("wecom", "sent")] * 2 + [("sms", "sent")]
    assert {r.status for r in outbox.list()} == {"sent"}


def test_ops_record_an_abandoned_message_sent_without_asking_its_incident(tmp_path, monkeypatch, capsys):
    """The recipient confirms it arrived: `sms mark-sent` records it; its incident never had it, so no Temporal."""
    from datetime import datetime, timedelta, timezone

    from groupdesk.cli import run as cli
    from helpers import setup_for

    setup = setup_for(tmp_path / "data", "127.0.0.1:9")  # nothing listens there: the command must not need it
    for name, value in setup.env.items():
        monkeypatch.setenv(name, value)
    outbox = Outbox(setup.settings)
    key = "inc-6/x#1/escalation/level2/li"
    outbox.claim_to_send(OutboxRow(key=key, incident_id="inc-6", step="x", purpose="escalation", recipient="li",
                                   role="duty", to_number="+8613900000402", lang="zh-CN", body="升级", drill=True,
                                   provider="outbox"), "inc-6/3#1")
    assert cli(["sms", "mark-sent", key, "--as", "ma.ning"]) == 2  # still sending: not yet an ops matter
    outbox.sweep_abandoned(datetime.now(timezone.utc) + timedelta(minutes=6))
    assert cli(["sms", "mark-sent", key, "--as", "ma.ning", "--reason", "值班员确认收到"]) == 0
    assert outbox.get(key).status == "sent" and "marked sent" in capsys.readouterr().out
