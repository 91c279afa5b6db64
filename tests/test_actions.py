"""`actions`, `waiting_on` and the labels, computed from an incident driven by the pure interpreter (no server)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from groupdesk.incidents.actions import actions, waiting_on
from groupdesk.runtime.config import REPO_ROOT
from groupdesk.people.directory import load_directory
from groupdesk.incidents.registration import prepare_start
from groupdesk.web.event_words import event_text
from groupdesk.web.labels import event_label, purpose_label, step_status
from groupdesk.core.models import TimelineEntry
from groupdesk.playbooks.loader import find_playbook
from workflows.machine.incident import IncidentMachine

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
DIRECTORY = load_directory(REPO_ROOT / "groupdesk" / "examples" / "directory.yaml")
PLAYBOOK = find_playbook(REPO_ROOT / "playbooks", "smart-meter-group-complaint")


@pytest.fixture
def machine() -> IncidentMachine:
    start = prepare_start(directory=DIRECTORY, playbook=PLAYBOOK, hall_id="xicheng", headcount=18, lead_name="张建国",
                          lead_phone="13800138000", summary="电量异常", started_by="sun.li", incident_id="xicheng-x")
    return IncidentMachine.new(start, T0)


def at_approval(m: IncidentMachine) -> IncidentMachine:
    m.finish("move_to_vip_room", "done", "zhao.min", "", T0 + timedelta(minutes=1))
    m.finish("keep_order", "done", "qian.lei", "", T0 + timedelta(minutes=2))
    m.finish("talk_with_lead", "not_accepted", "sun.li", "要求换回机械表", T0 + timedelta(minutes=3))
    return m


def test_parallel_start_offers_each_step_to_its_roles(machine):
    offered = actions(machine.state, PLAYBOOK, DIRECTORY)
    assert [(a["step"], a["outcome"], a["kind"], a["roles"], a["data"]) for a in offered] == [
        ("move_to_vip_room", "done", "outcome", ["guide", "hall_lead"], []),
        ("keep_order", "done", "outcome", ["security_guard", "hall_lead"], []),
    ]
    assert offered[0]["label"] == "已引导至VIP室"
    assert actions(machine.state, PLAYBOOK, DIRECTORY, lang="en")[0]["label"] == "group is in the VIP room"
    # by the directory now: the guide sees only her step, the hall lead both, the director none
    assert [a["step"] for a in actions(machine.state, PLAYBOOK, DIRECTORY, viewer="zhao.min")] == ["move_to_vip_room"]
    assert len(actions(machine.state, PLAYBOOK, DIRECTORY, viewer="sun.li")) == 2
    assert actions(machine.state, PLAYBOOK, DIRECTORY, viewer="wang.jun") == []
    assert actions(machine.state, PLAYBOOK, DIRECTORY, viewer="wu.fang") == [], "another hall's lead"


def test_approval_is_for_the_director_alone_and_the_wait_names_him(machine):
    m = at_approval(machine)
    offered = actions(m.state, PLAYBOOK, DIRECTORY)
    assert [(a["outcome"], a["kind"], a["roles"], a["requires_reason"]) for a in offered] == [
        ("approved", "approval", ["centre_director"], False), ("rejected", "approval", ["centre_director"], True)]
    assert actions(m.state, PLAYBOOK, DIRECTORY, viewer="sun.li") == []
    assert len(actions(m.state, PLAYBOOK, DIRECTORY, viewer="wang.jun")) == 2

    [wait] = waiting_on(m.state, PLAYBOOK, DIRECTORY)
    assert wait["title"] == "主任审批启动三级供电服务预警预案"
    assert wait["must_act"] == [{"role": "centre_director", "role_label": "客户中心主任", "people": ["王军"],
                                 "person_ids": ["wang.jun"]}]
    assert wait["since"] == T0 + timedelta(minutes=3)
    assert wait["deadline"] == T0 + timedelta(minutes=18)  # 15m in the playbook
    reminder, escalation = wait["ladder"]
    assert (reminder["kind"], reminder["at"], reminder["people"]) == ("reminder", wait["deadline"], ["王军"])
    assert (escalation["kind"], escalation["at"], escalation["role_label"], escalation["people"]) == (
        "escalation", wait["deadline"] + timedelta(minutes=10), "市局供电服务应急办公室", ["供电服务应急办值班室"])


def test_the_ladder_follows_the_chain_and_marks_what_fired(machine):
    m = machine
    deadline = m.state.steps["move_to_vip_room"].deadline_at
    m.fire_due(deadline + timedelta(minutes=10))  # reminder, then the hall lead (grace 10m)
    wait = {w["step"]: w for w in waiting_on(m.state, PLAYBOOK, DIRECTORY)}["move_to_vip_room"]
    ladder = [(r["kind"], r["role"], r["done"]) for r in wait["ladder"]]
    assert ladder == [("reminder", "guide", True), ("escalation", "hall_lead", True),
                      ("escalation", "centre_director", False), ("escalation", "city_emergency_office", False)]
    assert wait["ladder"][3]["at"] == deadline + timedelta(minutes=30)


def test_a_drill_scales_the_grace(machine):
    m = machine
    m.state.time_scale = 60.0
    m.start = m.start.model_copy(update={"time_scale": 60.0})
    wait = waiting_on(m.state, PLAYBOOK, DIRECTORY)[0]
    assert wait["ladder"][1]["at"] - wait["ladder"][0]["at"] == timedelta(seconds=10)


def test_data_fields_and_stay_outcomes(machine):
    m = at_approval(machine)
    m.finish("director_review", "approved", "wang.jun", "", T0 + timedelta(minutes=5))
    m.finish("metering_explanation", "not_accepted", "feng.tao", "", T0 + timedelta(minutes=6))
    offered = {a["outcome"]: a for a in actions(m.state, PLAYBOOK, DIRECTORY)}
    assert offered["scheduled"]["data"] == ["calibration_at"]
    assert offered["meter_accurate"]["roles"] == ["metrology_bureau", "hall_lead"]


def test_closed_incidents_offer_nothing(machine):
    m = machine
    m.close_incident(T0 + timedelta(hours=1), "closed without follow-up")
    assert actions(m.state, PLAYBOOK, DIRECTORY) == [] and waiting_on(m.state, PLAYBOOK, DIRECTORY) == []


IDENTIFIER = re.compile(r"[a-z]+_[a-z_]+|\b(?:active|done|waiting|xicheng|guide|hall_lead)\b")


def test_every_timeline_entry_reads_without_identifiers(machine):
    m = at_approval(machine)
    m.finish("director_review", "approved", "wang.jun", "", T0 + timedelta(minutes=5))
    m.finish("metering_explanation", "not_accepted", "feng.tao", "", T0 + timedelta(minutes=6))
    m.state.steps["metrology_calibration"].deadline_at = T0 + timedelta(days=5)
    outcome = PLAYBOOK.steps["metrology_calibration"].outcomes["scheduled"]
    m.record_stay("metrology_calibration", "scheduled", outcome, "sun.li", "",
                  {"calibration_at": "2026-11-25T10:00:00+08:00"}, T0 + timedelta(minutes=7))
    m.fire_due(T0 + timedelta(days=6))
    m.finish("metrology_calibration", "meter_accurate", "sun.li", "", T0 + timedelta(days=6, minutes=1))
    extra = [TimelineEntry(at=T0, kind="sms_failed", step="keep_order",
                           detail="step_started to security_guard, security_department: 21211: the number is not a valid"
                                  " phone number; correct it in the staff directory"),
             TimelineEntry(at=T0, kind="action_retried", step="keep_order", actor="ma.ning",
                           detail="step_started to security_guard (was: 21211 invalid number)"),
             TimelineEntry(at=T0, kind="action_skipped", step="keep_order", actor="ma.ning",
                           detail="step_started: 号码停用"),
             TimelineEntry(at=T0, kind="sms_undelivered", detail="centre_director +86 139****0301: undelivered (30003)"),
             TimelineEntry(at=T0, kind="incident_closed", detail="follow-up answered: 5/5"),
             TimelineEntry(at=T0, kind="follow_up_answered", actor="lead_complainant", detail="satisfaction 5/5 — 满意")]
    kinds = set()
    for entry in m.state.timeline + extra:
        kinds.add(entry.kind)
        text = f"{event_label(entry.kind, 'zh-CN')} {event_text(entry, PLAYBOOK, DIRECTORY, 'zh-CN')}"
        assert not IDENTIFIER.search(text), f"{entry.kind}: {text}"
        assert bool(event_text(entry, PLAYBOOK, DIRECTORY, "en")) == bool(entry.detail)
    assert {"incident_started", "step_started", "step_waiting", "outcome", "warning_tier", "reminder", "escalation",
            "recorded", "appointment_reminder", "warning_plan_ended", "resolved"} <= kinds
    text = {e.kind: event_text(e, PLAYBOOK, DIRECTORY, "zh-CN") for e in m.state.timeline + extra}
    assert text["escalation"].startswith("第") and "客户中心主任" in [
        event_text(e, PLAYBOOK, DIRECTORY, "zh-CN") for e in m.state.timeline if e.kind == "escalation"][0]
    assert text["sms_failed"] == "环节通知 → 营业厅保安、安保部: 号码无效,请在人员名录中更正 (21211)"
    assert text["recorded"].startswith("已商定校验时间 — 校验时间 11月25日 10:00")
    assert text["step_waiting"].startswith("等待:")
    assert step_status("active", "zh-CN") == "进行中" and purpose_label("approval_request", "zh-CN") == "审批请求"
