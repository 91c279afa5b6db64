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
