"""The seeds' rules about people, on the pure machine and its pure helpers (no server): the person involved
(更换当事人) neither acts on the complaint nor owns it, their steps and SMS go to the next holder or up the chain;
the named owner gets the deadline reminders; a group out for publicity (or media present) alerts the director and
the publicity office at once; the complainant type selects extra 话术."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.sms import SmsActivities
from groupdesk.incidents.actions import actions, step_scripts, waiting_on
from groupdesk.core import involved
from groupdesk.core.models import HandOver, RecordOutcome
from groupdesk.core.validation import InputError
from groupdesk.incidents.registration import prepare_start
from groupdesk.people.involvement import holders
from groupdesk.messaging.outbox import Outbox
from groupdesk.messaging.provider import OutboxProvider
from machine_helpers import DIRECTORY, PLAYBOOK, T0, by_purpose, drain, new_machine
from workflows import checks
from workflows.machine import people
from workflows.machine.incident import IncidentMachine

MIN = timedelta(minutes=1)
CHAIN = PLAYBOOK.escalation.chain


def machine(hall="xicheng", starter="sun.li", playbook=PLAYBOOK, **registration) -> IncidentMachine:
    request = prepare_start(
        directory=DIRECTORY, playbook=playbook, hall_id=hall, headcount=12, lead_name="张建国",
        lead_phone="13800138000", summary="营业员态度生硬", started_by=starter, incident_id="inc-p",
        registration=registration,
    )
    return IncidentMachine.new(request, T0)


# ---- the pure rules --------------------------------------------------------------------------

def test_a_role_the_person_alone_holds_goes_up_the_chain_and_they_get_nothing():
    hall = {"guide": ["zhao.min"], "hall_lead": ["sun.li"], "centre_director": ["wang.jun"],
            "metering_technician": ["feng.tao", "chen.yu"]}
    assert involved.recipients("guide", hall, "zhao.min", CHAIN) == ["sun.li"]
    assert involved.recipients("metering_technician", hall, "feng.tao", CHAIN) == ["chen.yu"], "the next holder first"
    assert involved.recipients("hall_lead", hall, "zhao.min", CHAIN) == ["sun.li"]
    assert involved.recipients("hall_lead", hall, "sun.li", CHAIN) == ["wang.jun"]
    assert involved.acting_roles(["centre_director"], hall, "sun.li", CHAIN) == ["centre_director", "hall_lead"]
    assert involved.acting_roles(["hall_lead"], hall, "feng.tao", CHAIN) == ["hall_lead"], "chen.yu still holds it"


def test_a_more_senior_person_owns_a_complaint_about_a_peer():
    dongcheng = holders(DIRECTORY, "dongcheng")
    assert involved.senior_owner(dongcheng, CHAIN, "anna.lee", "wu.fang") == "wang.jun", "a peer hall lead is not senior"
    assert involved.senior_owner(dongcheng, CHAIN, "zhou.jie", "wu.fang") == "wu.fang", "a hall lead is above a guide"
    assert machine("dongcheng", "wu.fang", person_involved="anna.lee").state.owner == "wang.jun"
    assert machine(person_involved="zhao.min").state.owner == "sun.li"


# ---- the workflow's validators -----------------------------------------------------------------

def test_the_person_involved_is_refused_whatever_roles_they_hold_and_cannot_be_handed_it():
    m = machine(person_involved="zhao.min")
    assert m.state.registration.person_involved == "zhao.min"
    with pytest.raises(ApplicationError, match="更换当事人"):
        checks.check_outcome(m, RecordOutcome(step="move_to_vip_room", outcome="done", actor="zhao.min",
                                              roles=["guide"]), T0)
    with pytest.raises(ApplicationError, match="更换当事人"):  # from the roster at start too
        checks.check_outcome(m, RecordOutcome(step="move_to_vip_room", outcome="done", actor="zhao.min"), T0)
    checks.check_outcome(m, RecordOutcome(step="move_to_vip_room", outcome="done", actor="sun.li",
                                          roles=["hall_lead"]), T0)
    with pytest.raises(ApplicationError, match="更换当事人"):
        checks.check_handover(m, HandOver(actor="sun.li", to="zhao.min", reason="她熟悉情况", roles=["hall_lead"]))


def test_the_director_stands_in_when_the_person_alone_holds_the_step_role():
    dongcheng = DIRECTORY.model_copy(deep=True)
    dongcheng.hall("dongcheng").roles["hall_lead"] = ["wu.fang"]
    m = machine("dongcheng", "wu.fang", person_involved="zheng.hao")  # the only security guard
    holders_now = holders(dongcheng, "dongcheng")
    roles = involved.acting_roles(["hall_lead"], holders_now, "zheng.hao", CHAIN)
    assert "security_guard" in roles
    checks.check_outcome(m, RecordOutcome(step="keep_order", outcome="done", actor="wu.fang", roles=roles), T0)
    offered = actions(m.state, PLAYBOOK, dongcheng, viewer="wu.fang")
    assert {a["step"] for a in offered} == {"move_to_vip_room", "keep_order"}
    assert actions(m.state, PLAYBOOK, dongcheng, viewer="zheng.hao") == [], "nothing is offered to them"
    waits = {w["step"]: w for w in waiting_on(m.state, PLAYBOOK, dongcheng)}
    assert waits["keep_order"]["must_act"][0]["person_ids"] == ["wu.fang"], "who acts for the guard, by name"


def test_every_message_of_the_incident_says_whom_to_leave_out_and_the_chain():
    m = machine(person_involved="zhao.min")
    started = [e for e in drain(m) if getattr(e, "purpose", "") == "step_started"]
    assert started and all(e.excluded == ["zhao.min"] and e.chain == CHAIN for e in started)
    plain = new_machine()
    assert all(e.excluded == [] and e.chain == {} for e in drain(plain)), "unchanged without a person involved"


# ---- the owner gets the reminders ----------------------------------------------------------------

def test_the_named_owner_is_reminded_of_every_missed_deadline_then_the_new_owner_after_a_handover():
    m = new_machine()
    drain(m)
    rung = waiting_on(m.state, PLAYBOOK, DIRECTORY)[0]["ladder"][0]
    assert (rung["kind"], rung["people"], rung["owner"]) == ("reminder", ["赵敏"], "孙丽"), "who will be reminded"
    m.fire_due(T0 + 5 * MIN)
    assert by_purpose(drain(m)) == {"reminder": [["guide", "person:sun.li"], ["security_guard", "person:sun.li"]]}
    assert "the owner sun.li" in [e for e in m.state.timeline if e.kind == "reminder"][0].detail
    m.hand_over(HandOver(actor="sun.li", to="wang.jun", reason="主任亲自负责"), T0 + 6 * MIN)
    m.record_outcome(RecordOutcome(step="move_to_vip_room", outcome="done", actor="zhao.min"), T0 + 6 * MIN)
    m.record_outcome(RecordOutcome(step="keep_order", outcome="done", actor="qian.lei"), T0 + 6 * MIN)
    drain(m)
    m.fire_due(T0 + 36 * MIN)
    assert by_purpose(drain(m)) == {"reminder": [["hall_lead", "person:wang.jun"]]}


async def test_one_message_per_person_and_none_to_the_person_involved(tmp_path, directory):
    sms = SmsActivities(Outbox(f"sqlite:///{tmp_path}/o.db"), OutboxProvider(), lambda: directory)
    m = machine(person_involved="zhao.min")
    m.fire_due(T0 + 5 * MIN)
    reminder = [e for e in drain(m) if getattr(e, "purpose", "") == "reminder" and e.step == "move_to_vip_room"][0]
    result = await ActivityEnvironment().run(sms.send_messages, reminder)
    assert [(d.recipient, d.role, d.status) for d in result.deliveries] == [("sun.li", "guide", "sent")], \
        "the guide's reminder goes to the hall lead (once, though she is also the owner), never to zhao.min"


# ---- publicity, and the complainant type's scripts ------------------------------------------------

@pytest.mark.parametrize("registration, alerted", [
    ({"media_present": True}, "media present"), ({"complainant_type": "publicity"}, "publicity"),
    ({"complainant_type": "venting"}, None), ({}, None)])
def test_publicity_or_media_alerts_the_director_and_the_publicity_office_once(registration, alerted):
    m = machine(**registration)  # the alert is part of the start
    effects = by_purpose(drain(m))
    entries = [e for e in m.state.timeline if e.kind == "publicity_alert"]
    if alerted:
        assert effects["publicity_alert"] == [["centre_director", "publicity_office"]]
        assert len(entries) == 1 and alerted in entries[0].detail
    else:
        assert "publicity_alert" not in effects and entries == []
        assert people.alert_publicity(m, T0) is False and drain(m) == []


async def test_a_person_holding_both_alerted_roles_gets_one_message(tmp_path, directory):
    both = directory.model_copy(deep=True)
    both.hall("xicheng").roles["publicity_office"] = ["wang.jun", "publicity.duty"]
    sms = SmsActivities(Outbox(f"sqlite:///{tmp_path}/o.db"), OutboxProvider(), lambda: both)
    m = machine(media_present=True)
    (alert,) = [e for e in drain(m) if getattr(e, "purpose", "") == "publicity_alert"]
    result = await ActivityEnvironment().run(sms.send_messages, alert)
    assert sorted(d.recipient for d in result.deliveries) == ["publicity.duty", "wang.jun"]
    assert "媒体" in sms.outbox.list("inc-p")[0].body


def test_the_complainant_type_adds_its_scripts_to_the_talk():
    m = machine(complainant_type="gain")
    for step in ("move_to_vip_room", "keep_order"):
        m.record_outcome(RecordOutcome(step=step, outcome="done", actor="sun.li"), T0 + MIN)
    talk = {s["step"]: s for s in step_scripts(m.state, PLAYBOOK)}["talk_with_lead"]
    assert talk["complainant_type"] == "gain" and "依法拒绝" in talk["for_complainant_type"][0]
    assert talk["lines"] == PLAYBOOK.steps["talk_with_lead"].scripts["zh-CN"]
    assert "lawfully" in step_scripts(m.state, PLAYBOOK, "en")[0]["for_complainant_type"][0]
    assert step_scripts(machine().state, PLAYBOOK)[0]["for_complainant_type"] == [], "no type, no extra lines"


# ---- bad input at the start ---------------------------------------------------------------------

@pytest.mark.parametrize("person, starter, message", [
    ("nobody.here", "sun.li", "holds no role at hall xicheng"),
    ("sun.li", "sun.li", "cannot start a complaint about themselves"),
    ("Zhao Min", "sun.li", "is not a staff id"),
])
def test_a_bad_person_involved_names_the_flag(person, starter, message):
    with pytest.raises(InputError, match=message) as caught:
        machine(starter=starter, person_involved=person)
    assert caught.value.field == "--person-involved"
