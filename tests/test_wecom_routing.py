"""Staff messages routed through WeCom (GROUPDESK_STAFF_CHANNEL=wecom), the send activity against the fake WeCom.

Complainants always get SMS. A staff member WeCom cannot reach gets the SMS at once, with the reason
for the timeline: no wecom_userid, 81013 or listed in invaliduser, a refused Secret (40001), any other
refusal. A rate limit or no answer is retried later (the row back to queued), then the SMS. Escalations
to the centre director and above go by both channels. Each message is claimed before the call and sent
once, however often the activity runs.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.sms import SmsActivities
from activities.wecom_staff import MAX_BUSY_ATTEMPTS, WecomRoute
from fake_wecom import FakeWecom, settings_env
from groupdesk.core.models import Complainant, SendMessages
from groupdesk.messaging.approval_codes import ApprovalCodes
from groupdesk.messaging.outbox import Outbox
from groupdesk.messaging.provider import OutboxProvider
from groupdesk.messaging.wecom.channel import FELL_BACK
from groupdesk.messaging.wecom.store import WecomCards
from groupdesk.people.directory import current_directory
from helpers import setup_for

pytestmark = pytest.mark.server  # the server tier: a fake WeCom HTTP API on its own thread

INCIDENT = "xicheng-20261122-a1b2c3"
TEXT = {"zh-CN": "{{ recipient_name }}:事件 {{ incident_id }} 请处理。", "en": "{{ recipient_name }}: see {{ incident_id }}"}


@pytest.fixture
def fake():
    server = FakeWecom().start()
    yield server
    server.stop()


@pytest.fixture
def world(fake, tmp_path, request):
    secret = {"GROUPDESK_WECOM_SECRET": "x" * 43} if "secret" in request.node.name else {}
    settings = setup_for(tmp_path, **{**settings_env(fake.base_url), **secret},
                         GROUPDESK_PUBLIC_URL="https://groupdesk.example.org").settings
    outbox = Outbox(settings)
    sms = SmsActivities(outbox=outbox, provider=OutboxProvider(),
                        directory_loader=lambda: current_directory(settings.directory),
                        codes=ApprovalCodes.for_settings(settings), wecom=WecomRoute.from_settings(settings, outbox))
    return settings, sms


def request(recipients, purpose="step_started", step="keep_order", discriminator="start", **fields) -> SendMessages:
    fields = {"template": TEXT, "context": {"incident_id": INCIDENT}, **fields}
    return SendMessages(incident_id=INCIDENT, hall_id="xicheng", step=step, purpose=purpose,
                        key=f"{INCIDENT}/{step}#1/{purpose}/{discriminator}", recipients=recipients, **fields)


async def run(sms, req):
    return await ActivityEnvironment().run(sms.send_messages, req)


def rows(sms) -> dict[tuple[str, str], object]:
    return {(r.recipient, r.channel): r for r in sms.outbox.list(INCIDENT)}


async def test_staff_get_wecom_and_complainants_sms_each_once(world, fake):
    _, sms = world
    lead = Complainant(name="李先生", phone="+8613800138000")
    req = request(["guide", "hall_lead", "lead_complainant"], lead=lead)
    result = await run(sms, req)
    assert {(d.recipient, d.channel, d.status) for d in result.deliveries} == {
        ("zhao.min", "wecom", "sent"), ("sun.li", "wecom", "sent"), ("lead_complainant", "sms", "sent")}
    stored = rows(sms)
    assert set(stored) == {("zhao.min", "wecom"), ("sun.li", "wecom"), ("lead_complainant", "sms")}
    assert stored[("zhao.min", "wecom")].key == f"{req.key}/zhao.min/wecom"
    assert stored[("zhao.min", "wecom")].provider == "wecom" and stored[("zhao.min", "wecom")].status == "sent"
    assert stored[("zhao.min", "wecom")].provider_id == next(m["msgid"] for m in fake.delivered
                                                             if m["touser"] == "ZhaoMin")
    sent = {m["touser"]: m for m in fake.delivered}
    assert set(sent) == {"ZhaoMin", "SunLi"} and sent["ZhaoMin"]["text"]["content"].startswith("赵敏:事件")
    assert sent["ZhaoMin"]["enable_duplicate_check"] == 1
    assert not any(d.note for d in result.deliveries)

    again = await run(sms, req)  # a retried activity: nothing is sent twice, on either channel
    assert {d.status for d in again.deliveries} == {"duplicate"} and len(fake.delivered) == 2
    assert len(sms.outbox.list(INCIDENT)) == 3


async def test_a_drill_says_so_on_wecom(world, fake):
    _, sms = world
    await run(sms, request(["guide"], drill=True))
    assert fake.delivered[0]["text"]["content"].startswith("【演练】赵敏")


@pytest.mark.parametrize("how, code", [("no_userid", "no_userid"), ("81013", "81013"), ("listed", "invaliduser"),
                                       ("secret", "40001"), ("other", "40008")])
async def test_each_fallback_sends_the_sms_at_once_with_the_reason(world, fake, how, code):
    _, sms = world
    recipients = ["guide"]
    if how == "no_userid":
        recipients = ["security_guard"]  # qian.lei has no wecom_userid
    elif how in ("81013", "listed"):
        fake.members.discard("ZhaoMin")
        fake.invalid_as = "81013" if how == "81013" else "listed"
    elif how == "other":
        fake.fail_next("message/send", 40008)
    (delivery,) = (await run(sms, request(recipients))).deliveries
    assert delivery.channel == "sms" and delivery.status == "sent" and delivery.note.startswith("WeCom → SMS: ")
    person = delivery.recipient
    stored = rows(sms)
    assert stored[(person, "sms")].status == "sent"
    if how == "no_userid":
        assert (person, "wecom") not in stored and "wecom_userid" in delivery.note
    else:
        wecom = stored[(person, "wecom")]
        assert wecom.status == "failed" and wecom.error_code == code and wecom.error.startswith(FELL_BACK)
    if how == "secret":
        assert "GROUPDESK_WECOM_SECRET" in delivery.note
    assert fake.delivered == []

    (again,) = (await run(sms, request(recipients))).deliveries  # retried: the SMS is not sent twice
    assert again.status == "duplicate" and again.channel == "sms" and again.note == delivery.note
    assert len(sms.outbox.list(INCIDENT)) == len(stored)


@pytest.mark.parametrize("answer", [45009, 45033, -1, "no answer", ("http", 502)])
async def test_a_rate_limit_or_no_answer_is_retried_later_then_sent_once(world, fake, answer):
    _, sms = world
    if answer == "no answer":
        fake.delay = 6.0  # delivered, but the answer comes after the client gave up
    elif isinstance(answer, tuple):
        fake.fail_next("message/send", answer)
    elif isinstance(answer, int):
        fake.fail_next("message/send", answer)
    with pytest.raises(ApplicationError) as info:
        await run(sms, request(["guide"]))
    fake.delay = 0.0
    assert info.value.type == "SmsRetryable" and not info.value.non_retryable
    assert info.value.next_retry_delay >= timedelta(seconds=5)
    (row,) = sms.outbox.list(INCIDENT)
    assert row.channel == "wecom" and row.status == "queued"
    (delivery,) = (await run(sms, request(["guide"]))).deliveries
    assert delivery.channel == "wecom" and delivery.status == "sent" and not delivery.note
    # a slow answer had reached WeCom: the resend carried the same content, and WeCom's duplicate check dropped it
    assert len(fake.delivered) == 1 and len(fake.suppressed) == (1 if answer == "no answer" else 0)
    assert [r.channel for r in sms.outbox.list(INCIDENT)] == ["wecom"]


async def test_wecom_busy_too_long_gives_the_sms(world, fake):
    _, sms = world
    fake.fail_next("message/send", *[45033] * MAX_BUSY_ATTEMPTS)
    for _ in range(MAX_BUSY_ATTEMPTS - 1):
        with pytest.raises(ApplicationError):
            await run(sms, request(["guide"]))
    (delivery,) = (await run(sms, request(["guide"]))).deliveries
    assert delivery.channel == "sms" and delivery.status == "sent" and "45033" in delivery.note
    assert fake.delivered == []


async def test_escalations_to_the_director_and_above_go_by_both_channels(world, fake):
    _, sms = world
    director = await run(sms, request(["centre_director"], purpose="escalation", discriminator="level1"))
    assert {(d.recipient, d.channel) for d in director.deliveries} == {("wang.jun", "sms"), ("wang.jun", "wecom")}
    above = await run(sms, request(["city_emergency_office"], purpose="escalation", discriminator="level2"))
    # the city emergency office's duty desk has no WeCom: its SMS, once, noted
    assert [(d.recipient, d.channel, bool(d.note)) for d in above.deliveries] == [("emergency.duty", "sms", True)]
    lead = await run(sms, request(["hall_lead"], purpose="escalation", discriminator="level0"))
    assert [(d.recipient, d.channel) for d in lead.deliveries] == [("sun.li", "wecom")]  # below the director
    assert [m["touser"] for m in fake.delivered] == ["WangJun", "SunLi"]
    # WeCom refusing the director: the SMS went already, once; the note says why
    fake.fail_next("message/send", 40008)
    refused = await run(sms, request(["centre_director"], purpose="escalation", discriminator="level3"))
    assert [(d.channel, d.status, bool(d.note)) for d in refused.deliveries] == [("sms", "sent", True)]
    assert len([r for r in sms.outbox.list(INCIDENT) if r.channel == "sms" and r.recipient == "wang.jun"]) == 2


async def test_the_directors_approval_request_is_a_card_others_read_text(world, fake):
    settings, sms = world
    reasons = [{"zh-CN": "现场秩序可控", "en": "Under control"}]
    req = request(["centre_director", "hall_lead"], purpose="approval_request", step="director_review",
                  discriminator="request", owner_role="centre_director", refusal_reasons=reasons,
                  template={"zh-CN": "审批码 {{ approval_code }}", "en": "code {{ approval_code }}"},
                  step_title={"zh-CN": "主任审批", "en": "Director review"})
    result = await run(sms, req)
    assert result.approval_key and {(d.recipient, d.channel) for d in result.deliveries} == {
        ("wang.jun", "wecom"), ("sun.li", "wecom")}
    card = next(m for m in fake.delivered if m["touser"] == "WangJun")
    assert card["msgtype"] == "template_card"
    assert [o["text"] for o in card["template_card"]["button_selection"]["option_list"]] == ["现场秩序可控"]
    text = next(m for m in fake.delivered if m["touser"] == "SunLi")["text"]["content"]
    assert "******" in text  # the code is the director's alone
    (stored,) = WecomCards(settings).for_request(req.key)
    assert stored.code_key == result.approval_key and stored.userid == "WangJun"
    assert stored.message_key == f"{req.key}/wang.jun/wecom"


def approval(discriminator="request", **fields) -> SendMessages:
    return request(["centre_director"], purpose="approval_request", step="director_review", discriminator=discriminator,
                   owner_role="centre_director", template={"zh-CN": "请审批 回复 同意 {{ approval_code }}",
                                                           "en": "reply Y {{ approval_code }}"},
                   step_title={"zh-CN": "主任审批", "en": "Director review"}, **fields)


async def test_the_card_carries_no_code_and_its_fallback_sms_does(world, fake):
    _, sms = world
    result = await run(sms, approval())
    (card_row,) = sms.outbox.list(INCIDENT)
    assert card_row.channel == "wecom" and "******" in card_row.body and not re.search(r"\d{6}", card_row.body)
    assert result.approval_key and fake.delivered[0]["msgtype"] == "template_card"

    fake.fail_next("message/send", 40008)  # the next request's card is refused: the SMS with the code goes
    again = await run(sms, approval(discriminator="request2"))
    (delivery,) = again.deliveries
    assert delivery.channel == "sms" and delivery.note
    sms_row = next(r for r in sms.outbox.list(INCIDENT) if r.channel == "sms")
    assert re.search(r"同意 \d{6}", sms_row.body)


def test_the_timeline_shows_a_fallen_back_wecom_message_as_sent_by_sms_not_as_a_failure():
    from groupdesk.core.playbook import Playbook  # noqa: F401  (the view reads only the rows here)
    from groupdesk.messaging.outbox import OutboxRow
    from groupdesk.web.incident_view import fell_back, fell_back_label

    row = OutboxRow(key="k/wecom", incident_id=INCIDENT, step=None, purpose="reminder", recipient="sun.li",
                    role="hall_lead", to_number="+8613900000103", lang="zh-CN", body="x", drill=False,
                    provider="wecom", status="failed", error=FELL_BACK + "81013", channel="wecom")
    assert fell_back(row) and fell_back_label("zh-CN") == "已改发短信"
    assert not fell_back(OutboxRow(**{**row.__dict__, "channel": "sms"}))


async def test_a_resend_carries_the_content_first_stored_so_wecom_drops_the_twin(world, fake):
    """A workflow task run again after a worker died may render another deadline minute into the same message:
    the resend must be the text (and the card) as first stored, or WeCom's duplicate check cannot know it."""
    _, sms = world
    template = {"zh-CN": "请于 {{ deadline }} 前处理 {{ incident_id }}", "en": "by {{ deadline }}"}
    fake.delay = 6.0  # WeCom has both, the answers are lost
    for req in (request(["guide"], template=template, context={"incident_id": INCIDENT, "deadline":
                                                               "2026-11-24T02:20:00+00:00"}),
                approval(context={"incident_id": INCIDENT, "deadline": "2026-11-24T02:20:00+00:00"})):
        with pytest.raises(ApplicationError):
            await run(sms, req)
    fake.delay = 0.0
    later = {"incident_id": INCIDENT, "deadline": "2026-11-24T02:21:00+00:00"}  # a minute on, as after a replay
    (text,) = (await run(sms, request(["guide"], template=template, context=later))).deliveries
    (card,) = (await run(sms, approval(context=later))).deliveries
    assert (text.channel, text.status, card.channel, card.status) == ("wecom", "sent", "wecom", "sent")
    assert len(fake.delivered) == 2 and len(fake.suppressed) == 2, "a resend reached a member twice"
    assert "10:20" in fake.suppressed[0]["text"]["content"]
    assert fake.suppressed[1]["template_card"] == fake.delivered[1]["template_card"]


async def test_sms_list_shows_each_messages_channel(world, fake, tmp_path):
    import json

    from typer.testing import CliRunner

    from groupdesk.cli import app

    settings, sms = world
    await run(sms, request(["guide", "lead_complainant"], lead=Complainant(name="李先生", phone="+8613800138000")))
    env = setup_for(tmp_path, **settings_env(fake.base_url), GROUPDESK_PUBLIC_URL="https://groupdesk.example.org").env
    listed = CliRunner().invoke(app, ["sms", "list", "--incident", INCIDENT, "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    assert sorted((m["recipient"], m["channel"], m["provider"]) for m in json.loads(listed.output)) == [
        ("lead_complainant", "sms", "outbox"), ("zhao.min", "wecom", "wecom")]
    table = CliRunner().invoke(app, ["sms", "list", "--incident", INCIDENT], env={**env, "COLUMNS": "300"})
    assert table.exit_code == 0 and "channel" in table.output and "wecom" in table.output
