"""Amending a registration (issue 28): each kind of correction through the pure machine and its validator, the
before/after entry (the complainant's phone and name masked), the alerts it sets off, and who is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError

from groupdesk.core.amend import AmendRegistration
from groupdesk.core.models import AmendKeys
from groupdesk.playbooks.loader import load_playbook
from groupdesk.runtime.config import REPO_ROOT
from machine_helpers import T0, by_purpose, drain, new_machine, sends
from workflows.amend_checks import check_amend

SINGLE = load_playbook(REPO_ROOT / "playbooks" / "single-complaint.yaml")
LATER = T0 + timedelta(minutes=5)


def amend(m, **fields):
    req = AmendRegistration(actor=fields.pop("actor", "sun.li"), reason=fields.pop("reason", "现场核实"), **fields)
    check_amend(m, req)
    m.amend_registration(req, LATER)
    return drain(m)


def entries(m):
    return [e.detail for e in m.state.timeline if e.kind == "registration_amended"]


def test_media_arriving_sends_the_publicity_alert_then_and_the_messages_say_it():
    m = new_machine()
    drain(m)
    effects = amend(m, media_present=True, reason="记者到场")
    alerts = [s for s in sends(effects) if s.purpose == "publicity_alert"]
    assert len(alerts) == 1 and alerts[0].key.endswith("/alert-a1")
    assert "现场有媒体" in alerts[0].template["zh-CN"]
    assert m.state.registration.media_present and m.start.registration.media_present
    assert entries(m) == ["media_present: no -> yes — 记者到场"]
    assert [e.kind for e in m.state.timeline][-2:] == ["registration_amended", "publicity_alert"]


def test_the_type_becoming_publicity_alerts_and_other_types_do_not():
    m = new_machine()
    drain(m)
    assert "publicity_alert" not in by_purpose(amend(m, complainant_type="venting"))
    effects = amend(m, complainant_type="publicity", reason="意在扩大影响")
    assert m.state.registration.complainant_type == "publicity"
    assert [(s.purpose, s.key.rsplit("/", 1)[-1], s.recipients) for s in sends(effects)] == [
        ("publicity_alert", "alert-a2", ["centre_director", "publicity_office"])]
    assert "意在制造轰动效应" in sends(effects)[0].template["zh-CN"]


def test_a_headcount_outside_the_playbooks_range_is_kept_and_the_hall_lead_told():
    m = new_machine(playbook=SINGLE)
    drain(m)
    assert m.state.headcount == 1
    effects = amend(m, headcount=12, reason="又来了11位邻居")
    assert m.state.headcount == 12 and m.start.headcount == 12
    notices = [s for s in sends(effects) if s.purpose == "headcount_outside"]
    assert [n.recipients for n in notices] == [["hall_lead"]]
    assert notices[0].context["headcount"] == 12 and notices[0].context["headcount_max"] == 1
    assert entries(m) == ["headcount: 1 -> 12; outside this playbook's range (1 person): the hall lead is told"
                          " — 又来了11位邻居"]
    # back inside the range: no notice
    assert "headcount_outside" not in by_purpose(amend(m, headcount=1, reason="其余人已离开"))


def test_the_complainant_is_masked_on_the_timeline_and_the_keys_are_kept_for_the_board():
    m = new_machine()
    drain(m)
    keys = AmendKeys(complainant="c-new", repeat_keys=["account:a-new"], follow_up_key="f-new")
    amend(m, lead_name="李建军", lead_phone="+8613900000001", account_no="3200123456", keys=keys,
          reason="户号听错")
    assert entries(m) == ["account_no: - -> ******3456; lead_name: 张** -> 李**; lead_phone: …8000 -> …0001 — 户号听错"]
    assert m.start.lead.phone == "+8613900000001" and m.start.lead.name == "李建军"
    assert m.state.registration.account_no == "3200123456" and m.start.follow_up_key == "f-new"
    assert m.state.amended_keys == keys and m.state.amendments == 1
    # every later message names the corrected complainant
    assert m.messages.start.lead.phone == "+8613900000001"


def test_the_gateway_keys_the_amended_registration_as_a_start_with_it_would_be_keyed():
    from groupdesk.incidents.amend import amend_keys
    from groupdesk.record.repeat_keys import complainant_key, search_values, start_keys
    from groupdesk.runtime.keyed import follow_up_key

    key = b"k" * 32
    m = new_machine()
    req = AmendRegistration(actor="sun.li", reason="户号听错", account_no="3200222222", address="阳光花园5栋")
    keys = amend_keys(key, m.state, req)
    m.amend_registration(req, LATER)
    assert keys.repeat_keys == search_values(start_keys(key, m.start)) and len(keys.repeat_keys) == 2
    assert keys.complainant == "" and keys.follow_up_key == ""  # the phone did not change: its keys stay
    phone = AmendRegistration(actor="sun.li", reason="号码记错", lead_phone="+8613900000001")
    keys = amend_keys(key, m.state, phone)
    assert keys.complainant == complainant_key(key, "+8613900000001")
    assert keys.follow_up_key == follow_up_key(key, "+8613900000001") and len(keys.repeat_keys) == 2


def test_category_address_and_demands_are_corrected_and_carried_on():
    m = new_machine()
    drain(m)
    amend(m, category="power_quality", address="阳光花园5栋", demands="尽快恢复电压")
    reg = m.state.registration
    assert (reg.category, reg.address, reg.demands) == ("power_quality", "阳光花园5栋", "尽快恢复电压")
    carried = m.continue_as_new(LATER, 10)
    assert carried.registration == reg and carried.carried.registration == reg


@pytest.mark.parametrize("fields, says", [
    ({"actor": "zhao.min"}, "zhao.min may not amend the registration of inc-1: only its owner (sun.li)"),
    ({"actor": "zhao.min", "roles": ["guide"]}, "may not amend the registration"),
    ({"reason": " "}, "reason: say why the registration changes"),
    ({"headcount": 0}, "headcount:"),
    ({"account_no": "12ab"}, "account_no: '12ab' is not an account number"),
    ({"lead_phone": "13900000001"}, "lead_phone: '13900000001' is not a phone number"),
    ({"lead_name": ""}, "lead_name:"),
    ({}, "registration: nothing to amend"),
    ({"headcount": 20}, "registration: no change"),
])
def test_the_validator_refuses_with_one_line_naming_the_field_or_the_rule(fields, says):
    m = new_machine()
    if fields.keys() <= {"actor", "roles", "reason"} and fields:
        fields["media_present"] = True  # something to amend: the refusal is the rule's or the reason's
    req = AmendRegistration(actor=fields.pop("actor", "sun.li"), reason=fields.pop("reason", "核实"), **fields)
    with pytest.raises(ApplicationError) as refused:
        check_amend(m, req)
    assert says in str(refused.value)


def test_the_director_may_amend_and_a_closed_incident_is_not_amended():
    m = new_machine()
    check_amend(m, AmendRegistration(actor="wang.jun", reason="核实", headcount=25))
    m.close_incident(T0, "test")
    with pytest.raises(ApplicationError, match="is closed"):
        check_amend(m, AmendRegistration(actor="sun.li", reason="核实", headcount=25))


# ---- became_group: a single complaint (or one about attitude) that more people joined -------------------------

ATTITUDE = load_playbook(REPO_ROOT / "playbooks" / "service-attitude-complaint.yaml")


def offered(m):
    from groupdesk.incidents.actions import actions

    return {(a["step"], a["outcome"]) for a in actions(m.state, m.pb)}


def test_became_group_is_offered_only_while_two_or_more_came_and_hands_over_to_the_chosen_playbook():
    from groupdesk.core.models import RecordOutcome
    from workflows.checks import check_outcome
    from workflows.machine.record import StartChild

    m = new_machine(playbook=SINGLE)
    drain(m)
    assert ("contact_customer", "became_group") not in offered(m)
    req = RecordOutcome(step="contact_customer", outcome="became_group", actor="sun.li",
                        data={"playbook": "outage-group-complaint"})
    with pytest.raises(ApplicationError, match="offered only while the headcount is 2 or more"):
        check_outcome(m, req, T0)
    amend(m, headcount=8, category="outage", reason="停电,又来了7位邻居")
    assert ("contact_customer", "became_group") in offered(m)
    with pytest.raises(ApplicationError, match="give it as --data playbook=ID"):
        check_outcome(m, req.model_copy(update={"data": {}}), T0)
    with pytest.raises(ApplicationError, match="not single-complaint"):
        check_outcome(m, req.model_copy(update={"data": {"playbook": "single-complaint"}}), T0)
    check_outcome(m, req, T0)
    m.record_outcome(req, LATER)
    (child,) = [e for e in drain(m) if isinstance(e, StartChild)]
    assert child.spec.playbook == "outage-group-complaint" and child.spec.parent == "close"
    assert m.state.status == "closed" and m.state.linked[0].playbook == "outage-group-complaint"
    start = m.child_start(child, load_playbook(REPO_ROOT / "playbooks" / "outage-group-complaint.yaml"))
    assert start.headcount == 8 and start.registration.category == "outage" and start.parent.id == "inc-1"


def test_every_step_of_single_and_attitude_offers_it_once_more_people_came():
    for playbook in (SINGLE, ATTITUDE):
        tasks = [sid for sid, step in playbook.steps.items()  # not the director's review of a finding, after close
                 if step.kind == "task" and sid != "finding_review"]
        assert all("became_group" in playbook.steps[sid].outcomes for sid in tasks), playbook.id
    m = new_machine(playbook=ATTITUDE)  # 20 people: offered from the start
    assert ("take_over", "became_group") in offered(m)


def test_the_playbook_chosen_for_the_headcount_and_category_now(tmp_path):
    from groupdesk.playbooks.choice import ChoiceError, chosen_now

    m = new_machine(playbook=SINGLE)
    drain(m)
    amend(m, headcount=6, category="business")
    assert chosen_now(REPO_ROOT / "playbooks", m.state).id == "smart-meter-group-complaint"
    amend(m, category="outage")
    assert chosen_now(REPO_ROOT / "playbooks", m.state).id == "outage-group-complaint"
    attitude = new_machine(playbook=ATTITUDE)  # service, with the person involved: only itself fits
    attitude.state.registration.category = "service"
    with pytest.raises(ChoiceError, match="no playbook applies to category service and 20 people"):
        chosen_now(REPO_ROOT / "playbooks", attitude.state)


def test_the_console_reads_the_amendment_in_words():
    from groupdesk.web.event_words import amended_text

    m = new_machine(playbook=SINGLE)
    drain(m)
    amend(m, headcount=6, category="outage", media_present=True, reason="又来了5位邻居")
    (detail,) = entries(m)
    assert amended_text(detail, "zh-CN") == ("来访人数: 1 → 6; 投诉类别: - → 停电; 有媒体在场: 无 → 有;"
                                             " 人数超出本方案适用范围,已通知营业厅负责人 — 又来了5位邻居")
    assert amended_text(detail, "en").startswith("Number of people: 1 → 6; Category: - → outage; Media present: no → yes")


def test_the_person_complained_about_may_not_amend_even_as_a_hall_lead():
    m = new_machine(playbook=ATTITUDE)  # zhao.min (the guide) is the person involved
    with pytest.raises(ApplicationError, match="may not amend the registration: this complaint is about them"):
        check_amend(m, AmendRegistration(actor="zhao.min", reason="核实", headcount=3, roles=["hall_lead"]))
