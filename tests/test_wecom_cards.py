"""The director's approval card: what it shows, its task_id, its refusal reasons, and what a click turns it into.

Built from the approval request exactly as the workflow makes it (workflows/messages.py), so the
card can only show what the send path will have; sent to the fake, which holds it to WeCom's
rules for task_id (format, unique per app) and the duplicate check.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from fake_wecom import FakeWecom, settings_env
from groupdesk.runtime.config import REPO_ROOT, Settings
from groupdesk.messaging.wecom.cards import (
    APPROVE, DEFAULT_REASONS, REJECT, ApprovalRequest, approval_card, approval_request, decided_card, expired_card,
    incident_link, refused_card, task_id_for,
)
from groupdesk.messaging.wecom.channel import Sent, WecomChannel, WecomMessage
from groupdesk.playbooks.loader import PlaybookError, load_playbook

NOW = datetime(2026, 11, 24, 2, 5, tzinfo=timezone.utc)  # 10:05 in the halls' time
KEY = "xicheng-20261124-ab12cd/director_review#1/approval_request/step/wang.jun"


def request_as_the_workflow_builds_it(make_start, drill=False):
    from workflows.machine import steps
    from workflows.machine.incident import IncidentMachine

    machine = IncidentMachine.new(make_start(incident_id="xicheng-20261124-ab12cd", headcount=23, drill=drill,
                                             summary="智能电表换装后电量异常增长,要求退费"), NOW)
    steps.enter(machine, "director_review", NOW, came_from="talk_with_lead")
    step = machine.pb.steps["director_review"]
    return machine.messages.for_step("director_review", "approval_request", ["centre_director"], step.template,
                                     "step"), step


def test_the_card_shows_incident_hall_headcount_reason_deadline_and_the_playbooks_reasons(make_start):
    send, step = request_as_the_workflow_builds_it(make_start)
    request = approval_request(send, "zh-CN", step.refusal_reasons, "https://groupdesk.example.org")
    card, reasons = approval_card(task_id_for(b"k" * 32, KEY), request)
    assert card["card_type"] == "button_interaction"
    rows = {r["keyname"]: r["value"] for r in card["horizontal_content_list"]}
    assert rows == {"事件": "xicheng-20261124-ab12cd", "营业厅": "西城营业厅", "人数": "23人", "审批期限": "11月24日 10:20"}
    assert card["sub_title_text"].startswith("智能电表换装后电量异常增长")
    assert card["main_title"]["title"] == "主任审批启动三级供电服务预警预案"
    assert "11月24日 10:20" in card["main_title"]["desc"]
    assert [(b["text"], b["key"]) for b in card["button_list"]] == [("同意", APPROVE), ("不同意", REJECT)]
    options = card["button_selection"]["option_list"]
    assert [o["text"] for o in options] == [r["zh-CN"] for r in step.refusal_reasons] == list(reasons.values())
    assert card["button_selection"]["selected_id"] == options[0]["id"] and set(reasons) == {o["id"] for o in options}
    assert card["card_action"] == {"type": 1, "url": "https://groupdesk.example.org/auth/wecom?next="
                                                      "%2Fincidents%2Fxicheng-20261124-ab12cd"}
    assert len(card["main_title"]["title"]) <= 36 and all(len(o["text"]) <= 16 for o in options)


def test_english_and_drill_cards_and_groupdesks_own_reasons(make_start):
    send, _ = request_as_the_workflow_builds_it(make_start, drill=True)
    card, reasons = approval_card("t1", approval_request(send, "en", None, ""))
    assert card["main_title"]["title"].startswith("【演练】Director approves")
    assert [b["text"] for b in card["button_list"]] == ["Approve", "Refuse"]
    assert list(reasons.values()) == [r["en"] for r in DEFAULT_REASONS] and "card_action" not in card
    assert {r["keyname"]: r["value"] for r in card["horizontal_content_list"]}["Hall"] == "Xicheng service hall"


def test_task_ids_are_wecoms_format_the_same_for_a_resend_and_differ_by_message_and_deployment():
    first, again = task_id_for(b"a" * 32, KEY), task_id_for(b"a" * 32, KEY)
    assert first == again and re.fullmatch(r"[A-Za-z0-9_\-@]{1,128}", first) and len(first.encode()) <= 128
    assert task_id_for(b"a" * 32, KEY + "~resend1") != first
    assert task_id_for(b"b" * 32, KEY) != first, "two deployments sharing one WeCom app would clash"


def test_after_a_click_the_card_says_who_decided_and_when_or_that_it_expired():
    card, _ = approval_card("t1", ApprovalRequest("inc-1", "西城营业厅", 20, "事由", "11月24日 10:20", "主任审批"))
    approved = decided_card(card, True, "王军", NOW)
    assert approved["replace_text"] == "已同意" and "王军 11月24日 10:05 已同意" in approved["main_title"]["desc"]
    assert {r["keyname"]: r["value"] for r in approved["horizontal_content_list"]}["审批结果"] == "王军 11月24日 10:05 已同意"
    assert approved["button_selection"]["disable"] is True and approved["task_id"] == "t1"
    assert decided_card(card, False, "王军", NOW)["replace_text"] == "已不同意"
    expired = expired_card(card)
    assert expired["replace_text"] == "已失效" and "未生效" in expired["main_title"]["desc"]
    assert refused_card(card)["replace_text"] == "未生效"
    assert card.get("replace_text") is None, "the card as sent is not changed in place"
    assert incident_link("", "inc-1") == ""


async def test_the_fake_takes_the_card_once_per_task_id(make_start, tmp_path):
    fake = FakeWecom().start()
    try:
        channel = WecomChannel.from_settings(Settings(GROUPDESK_DATA_DIR=tmp_path, **settings_env(fake.base_url)))
        send, step = request_as_the_workflow_builds_it(make_start)
        card, _ = approval_card(task_id_for(b"k" * 32, KEY), approval_request(send, "zh-CN", step.refusal_reasons, ""))
        message = WecomMessage(key=KEY, userid="WangJun", purpose="approval_request", card=card)
        first, resend = await channel.send(message), await channel.send(message)
        assert isinstance(first, Sent) and first.response_code and isinstance(resend, Sent)
        assert len(fake.delivered) == 1 and len(fake.suppressed) == 1
        assert fake.delivered[0]["template_card"]["task_id"] == card["task_id"]
    finally:
        fake.stop()


def test_the_loader_holds_refusal_reasons_to_what_a_card_can_show(tmp_path):
    import shutil

    shutil.copytree(REPO_ROOT / "playbooks" / "templates", tmp_path / "templates")
    text = (REPO_ROOT / "playbooks" / "smart-meter-group-complaint.yaml").read_text(encoding="utf-8")
    path = tmp_path / "smart-meter-group-complaint.yaml"
    path.write_text(text.replace("{zh-CN: 请先补充现场情况,", "{zh-CN: 请先补充现场情况并说明人数和诉求的具体内容,"),
                    encoding="utf-8")
    with pytest.raises(PlaybookError, match="refusal_reasons #4.*over 16 characters"):
        load_playbook(path)
    path.write_text(text.replace("    deadline: 5m\n", "    deadline: 5m\n    refusal_reasons: [{zh-CN: 不要}]\n", 1),
                    encoding="utf-8")
    with pytest.raises(PlaybookError, match="only an approval step has them"):
        load_playbook(path)
