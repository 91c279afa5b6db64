"""Intake from every door (issue 28), the pure rules: who may start each playbook (`started_by`), who owns it
from the start (首问负责制, the hall's duty lead), and a step owned by `incident_owner`."""

from __future__ import annotations

import pytest

from groupdesk.core.roles import INCIDENT_OWNER, with_ownership
from groupdesk.core.starting import start_refusal
from groupdesk.core.validation import InputError
from groupdesk.incidents.registration import start_problems
from groupdesk.people.directory import Directory, load_directory
from groupdesk.people.permissions import viewer_for
from groupdesk.playbooks.loader import load_playbooks
from groupdesk.runtime.config import EXAMPLE_DIRECTORY, REPO_ROOT

PLAYBOOKS = load_playbooks(REPO_ROOT / "playbooks")


def test_the_shipped_playbooks_say_who_registers_them():
    assert {pid: pb.started_by for pid, pb in PLAYBOOKS.items()} == {
        "smart-meter-group-complaint": ["guide", "security_guard", "hall_lead"],
        "outage-group-complaint": ["guide", "security_guard", "hall_lead"],
        "single-complaint": ["counter_clerk", "guide", "hall_lead"],
        "service-attitude-complaint": ["counter_clerk", "guide", "hall_lead"],
        "dispute-ladder": ["hall_lead", "centre_director"],
    }


@pytest.mark.parametrize("person,playbook,may", [
    ("li.qiang", "single-complaint", True), ("li.qiang", "service-attitude-complaint", True),
    ("li.qiang", "smart-meter-group-complaint", False), ("zhao.min", "smart-meter-group-complaint", True),
    ("qian.lei", "outage-group-complaint", True), ("qian.lei", "single-complaint", False),
    ("wang.jun", "dispute-ladder", True), ("zhao.min", "dispute-ladder", False),
    ("feng.tao", "single-complaint", False), ("sun.li", "single-complaint", True),
])
def test_one_rule_for_the_viewer_and_the_registration(directory, person, playbook, may):
    pb = PLAYBOOKS[playbook]
    assert viewer_for(directory, person).may_start("xicheng", pb) is may
    problem = start_problems(directory, hall="xicheng", headcount=1 if pb.applies.headcount.max == 1 else 20,
                             lead_name="张三", lead_phone="13800138000", summary="x", drill=False, time_scale=None,
                             started_by=person, playbook=pb,
                             registration={"person_involved": "chen.yu"}).get("started_by")
    assert (problem is None) is may


def test_the_refusal_names_the_playbooks_roles():
    line = start_refusal("li.qiang", "xicheng", "smart-meter-group-complaint",
                         PLAYBOOKS["smart-meter-group-complaint"].started_by, ["counter_clerk"])
    assert line == ("li.qiang may not start smart-meter-group-complaint at hall xicheng: it is started by"
                    " guide (引导员), security_guard (营业厅保安), hall_lead (营业厅负责人)")
    # the clerk's role holds only at their own hall
    assert start_refusal("li.qiang", "dongcheng", "single-complaint", PLAYBOOKS["single-complaint"].started_by, [])


def test_a_guide_registers_a_group_and_the_duty_lead_owns_it(make_start, directory):
    start = make_start(started_by="zhao.min")
    assert start.started_by == "zhao.min" and start.owner == directory.duty_lead("xicheng") == "sun.li"
    assert make_start(started_by="sun.li").owner == ""  # a hall lead owns what they register


def test_a_clerk_owns_the_single_complaint_they_receive(make_start):
    start = make_start(playbook=PLAYBOOKS["single-complaint"], headcount=1, started_by="li.qiang")
    assert start.owner == "" and start.started_by == "li.qiang"  # the starter owns it (首问负责制)
    with pytest.raises(InputError) as info:
        make_start(started_by="li.qiang")  # a group playbook: not a clerk's
    assert info.value.field == "--as" and "guide (引导员), security_guard" in str(info.value)


def test_the_duty_lead_defaults_to_the_first_hall_lead_and_must_be_one():
    raw = load_directory(EXAMPLE_DIRECTORY).model_dump()
    assert Directory.model_validate(raw).duty_lead("dongcheng") == "wu.fang"  # none named: the first listed
    raw["halls"][1]["duty_lead"] = "anna.lee"
    assert Directory.model_validate(raw).duty_lead("dongcheng") == "anna.lee"
    raw["halls"][1]["duty_lead"] = "zhou.jie"
    with pytest.raises(ValueError, match="duty_lead: 'zhou.jie' is not a hall lead"):
        Directory.model_validate(raw)


def test_the_owner_acts_as_incident_owner():
    assert with_ownership(["counter_clerk"], "li.qiang", "li.qiang") == {"counter_clerk", INCIDENT_OWNER}
    assert with_ownership(["guide"], "zhao.min", "li.qiang") == {"guide"}


# ---- ownership on the pure machine ------------------------------------------------------------------------

def _machine(playbook: str, starter: str, headcount: int = 12):
    from groupdesk.incidents.registration import prepare_start
    from machine_helpers import DIRECTORY, T0
    from workflows.machine.incident import IncidentMachine

    request = prepare_start(directory=DIRECTORY, playbook=PLAYBOOKS[playbook], hall_id="xicheng", headcount=headcount,
                            lead_name="张建国", lead_phone="13800138000", summary="电量异常", started_by=starter,
                            incident_id="inc-o")
    return IncidentMachine.new(request, T0)


def test_the_duty_lead_owns_a_group_a_guide_registered_and_is_texted_at_once():
    from machine_helpers import by_purpose, drain

    m = _machine("smart-meter-group-complaint", "zhao.min")
    assert m.state.owner == "sun.li" and m.state.started_by == "zhao.min"
    assert "registered_by_other" in [e.kind for e in m.state.timeline]
    effects = drain(m)
    assert by_purpose(effects)["registered_by_other"] == [["person:sun.li"]]
    notice = next(e for e in effects if getattr(e, "purpose", "") == "registered_by_other")
    assert notice.context["starter_name"] == "赵敏" and notice.context["starter_role"]["zh-CN"] == "引导员"
    lead = _machine("smart-meter-group-complaint", "sun.li")  # a hall lead registers and owns it: nobody told
    assert lead.state.owner == "sun.li" and "registered_by_other" not in by_purpose(drain(lead))


def test_a_clerk_owns_a_single_complaint_records_its_steps_and_gets_its_messages():
    from datetime import timedelta

    from groupdesk.core.models import RecordOutcome
    from groupdesk.incidents.actions import actions, waiting_on
    from machine_helpers import DIRECTORY, T0, by_purpose, drain, resolve
    from workflows import checks

    m = _machine("single-complaint", "li.qiang", headcount=1)
    assert m.state.owner == "li.qiang"
    first = resolve(m, drain(m))
    assert ["person:li.qiang", "hall_lead"] in by_purpose(first)["step_started"]  # the owner as one person
    assert "registered_by_other" not in by_purpose(first)
    pb = PLAYBOOKS["single-complaint"]
    assert {a["step"] for a in actions(m.state, pb, DIRECTORY, viewer="li.qiang")} == {"contact_customer"}
    assert actions(m.state, pb, DIRECTORY, viewer="zhao.min") == []  # the guide owns nothing here
    assert {a["step"] for a in actions(m.state, pb, DIRECTORY, viewer="sun.li")} == {"contact_customer"}
    must = waiting_on(m.state, pb, DIRECTORY)[0]["must_act"]
    assert [(w["role"], w["person_ids"]) for w in must] == [("incident_owner", ["li.qiang"]), ("hall_lead", ["sun.li"])]
    req = RecordOutcome(step="contact_customer", outcome="contacted", actor="li.qiang", roles=["counter_clerk"])
    checks.check_outcome(m, req, T0 + timedelta(minutes=5))  # the validator lets the owner record it
    m.record_outcome(req, T0 + timedelta(minutes=5))
    assert "handling_opinion" in m.state.current_steps
    with pytest.raises(Exception, match="incident_owner or hall_lead"):
        checks.check_outcome(m, RecordOutcome(step="handling_opinion", outcome="opinion_ready", actor="zhao.min",
                                              roles=["guide"]), T0 + timedelta(minutes=6))


# ---- channel and work-order number --------------------------------------------------------------------------

@pytest.mark.parametrize("channel,ticket,ok", [
    ("hotline_95598", "20261123000123", True), ("hotline_95598", "1234567", False),  # 8 to 24 digits
    ("hotline_95598", "1" * 24, True), ("hotline_95598", "1" * 25, False), ("regulator_12398", "12398-001", False),
    ("gov_12345", "123456789012", True), ("letter", "XC-2026-017", True), ("wechat", "a" * 41, False),
    ("website", "工单1", False), ("referral", "", True), ("visit", "W1", True), ("letter", "A B", False),
])
def test_each_channel_checks_its_numbers_in_one_table(channel, ticket, ok):
    from groupdesk.core.intake import ticket_problem

    assert (ticket_problem(channel, ticket) is None) is ok


def test_channel_and_ticket_are_registered_and_a_bad_one_names_its_flag(make_start):
    from groupdesk.core.intake import CHANNEL_IDS, channel_label

    assert CHANNEL_IDS == ("visit", "hotline_95598", "regulator_12398", "gov_12345", "letter", "website", "wechat",
                           "referral")
    assert [channel_label(c) for c in CHANNEL_IDS] == ["来访", "95598", "12398", "12345", "信函", "网站", "微信", "上级转办"]
    start = make_start(registration={"channel": "hotline_95598", "ticket_no": "2026112300012345"})
    assert (start.registration.channel, start.registration.ticket_no) == ("hotline_95598", "2026112300012345")
    assert make_start().registration.channel == "visit"  # the default: they came to the hall
    for fields, flag, says in [({"channel": "fax"}, "--channel", "is not a channel; use one of visit, hotline_95598"),
                               ({"channel": "gov_12345", "ticket_no": "12-34"}, "--ticket-no", "give 8 to 24 digits")]:
        with pytest.raises(InputError) as info:
            make_start(registration=fields)
        assert info.value.field == flag and says in str(info.value)


def test_the_same_channel_and_ticket_is_a_repeat_key_published_with_a_prefix(make_start):
    from groupdesk.record.repeat_keys import search_values, start_keys, ticket_values

    key = b"k" * 40
    first = start_keys(key, make_start(registration={"channel": "hotline_95598", "ticket_no": "2026112300012345"}))
    again = start_keys(key, make_start(lead_phone="13900139000",
                                       registration={"channel": "hotline_95598", "ticket_no": "2026112300012345"}))
    other = start_keys(key, make_start(registration={"channel": "gov_12345", "ticket_no": "2026112300012345"}))
    assert first["same_ticket"] == again["same_ticket"] != other["same_ticket"]
    published = [v for v in search_values(first) if v.startswith("ticket:")]
    assert published == [f"ticket:{first['same_ticket']}"] and "2026112300012345" not in published[0]
    assert published[0] in ticket_values(key, "2026112300012345")  # found without naming the channel
    assert ticket_values(key, "2026112300012345", "hotline_95598") == published


# ---- amending the channel and the work order ------------------------------------------------------------------

def test_the_channel_and_work_order_are_amended_rekeyed_and_read_in_words():
    from datetime import timedelta

    from groupdesk.core.amend import AmendRegistration
    from groupdesk.incidents.amend import amend_keys, prepare_amend
    from groupdesk.record.repeat_keys import search_values, start_keys
    from groupdesk.web.event_words import amended_text
    from machine_helpers import T0, drain, new_machine
    from workflows.amend_checks import check_amend

    key = b"k" * 32
    m = new_machine()
    drain(m)
    req = prepare_amend("sun.li", "补登95598工单", channel="hotline_95598", ticket_no=" 2026112300012345 ")
    keys = amend_keys(key, m.state, req)
    check_amend(m, req)
    m.amend_registration(req.model_copy(update={"keys": keys}), T0 + timedelta(minutes=5))
    reg = m.state.registration
    assert (reg.channel, reg.ticket_no) == ("hotline_95598", "2026112300012345")
    assert keys.repeat_keys == search_values(start_keys(key, m.start))  # the work order re-keyed like a start
    assert any(v.startswith("ticket:") for v in keys.repeat_keys)
    detail = next(e.detail for e in m.state.timeline if e.kind == "registration_amended")
    assert amended_text(detail, "zh-CN").startswith("受理渠道: 来访 → 95598; 工单号: - → 2026112300012345")
    # a number is checked against the channel it will stand with: here the hotline's kept
    wrong = AmendRegistration(actor="sun.li", reason="改号", ticket_no="WO-1")
    with pytest.raises(Exception, match="ticket_no: 'WO-1' is not a hotline_95598 number; give 8 to 24 digits"):
        check_amend(m, wrong)
    with pytest.raises(InputError) as info:
        prepare_amend("sun.li", "改渠道", channel="fax")
    assert info.value.field == "channel"
