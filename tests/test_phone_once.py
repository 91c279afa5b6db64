"""A phone number is parsed once where it comes in (CLI, console, API, amend, directory, webhook), then carried
as one Phone: counted calls of phonenumbers.parse, no server."""

from __future__ import annotations

import json
from collections import Counter

import phonenumbers
import pytest

from groupdesk.core.models import StartIncident
from groupdesk.core.phones import Phone
from groupdesk.incidents.amend import amend_keys, prepare_amend
from groupdesk.incidents.registration import check_start, prepare_start
from groupdesk.messaging.domestic import national
from groupdesk.messaging.routes import parse_routes
from groupdesk.people.directory import load_directory
from groupdesk.runtime.config import EXAMPLE_DIRECTORY, REPO_ROOT
from groupdesk.playbooks.loader import load_playbook
from groupdesk.record.repeat_keys import complainant_key, start_keys
from groupdesk.runtime.keyed import follow_up_key
from groupdesk.core.validation import InputError
from machine_helpers import T0, new_machine
from workflows.machine.incident import IncidentMachine

PLAYBOOK = load_playbook(REPO_ROOT / "playbooks" / "smart-meter-group-complaint.yaml")
DIRECTORY = load_directory(EXAMPLE_DIRECTORY)
KEY = b"k" * 32


@pytest.fixture
def parses(monkeypatch) -> Counter:
    """Every call of phonenumbers.parse from here on, by the raw number it was given."""
    seen: Counter = Counter()
    real = phonenumbers.parse

    def counted(number, region=None, *args, **kwargs):
        seen[number] += 1
        return real(number, region, *args, **kwargs)

    monkeypatch.setattr(phonenumbers, "parse", counted)
    return seen


def start_args(**override) -> dict:
    return dict(directory=DIRECTORY, playbook=PLAYBOOK, hall_id="xicheng", headcount=20, lead_name="张建国",
                lead_phone="138 0013 8000", summary="智能电表换装后电量异常增长", started_by="sun.li",
                incident_id="xicheng-1") | override


def test_a_start_from_the_cli_parses_the_lead_phone_once_and_carries_it_to_the_sms(parses):
    start = prepare_start(**start_args())  # the CLI and the API: checked and built in one call
    assert start.lead.phone == "+8613800138000" and isinstance(start.lead.phone, Phone)
    # what the gateway keys and the workflow carries, and the outbox's route and national form: no parse
    follow_up_key(KEY, start.lead.phone), complainant_key(KEY, start.lead.phone), start_keys(KEY, start)
    again = StartIncident.model_validate_json(start.model_dump_json())  # as the workflow loads its input
    assert again.lead.phone == start.lead.phone and isinstance(again.lead.phone, Phone)
    assert json.loads(start.model_dump_json())["lead"]["phone"] == "+8613800138000"  # serialised unchanged
    IncidentMachine.new(again, T0).take_effects()  # the workflow runs with it: its messages go to the lead
    assert parse_routes("86=aliyun,*=twilio", "outbox").provider_for(again.lead.phone) == "aliyun"
    assert national(again.lead.phone) == (86, "13800138000")
    assert parses == Counter({"138 0013 8000": 1})


def test_a_start_from_the_console_checks_and_builds_from_one_parse(parses):
    args = start_args(incident_id="pending")
    checked = check_start(DIRECTORY, hall="xicheng", headcount=20, lead_name="张建国", lead_phone="138 0013 8000",
                          summary="电量异常", drill=False, time_scale=None, started_by="sun.li", playbook=PLAYBOOK)
    assert checked.problems == {} and checked.lead_phone == "+8613800138000"
    start = prepare_start(**args | {"lead_phone": checked.lead_phone})  # the console's two steps
    assert start.lead.phone == "+8613800138000"
    assert parses == Counter({"138 0013 8000": 1})


def test_a_wrong_lead_phone_is_parsed_once_and_named(parses):
    with pytest.raises(InputError) as info:
        prepare_start(**start_args(lead_phone="12345"))
    assert info.value.field == "--lead-phone" and "write it like +86 139 0000 0001" in str(info.value)
    assert parses == Counter({"12345": 1})


def test_amending_the_lead_phone_parses_the_new_number_once(parses):
    machine = new_machine()
    parses.clear()
    req = prepare_amend("sun.li", "手机号记错", lead_phone="139 0013 9000")
    assert req.lead_phone == "+8613900139000"
    keys = amend_keys(KEY, machine.state, req)
    assert keys.follow_up_key == follow_up_key(KEY, "+8613900139000")
    assert parses == Counter({"139 0013 9000": 1})


def test_a_directory_load_parses_each_mobile_once(parses):
    import yaml

    raw = yaml.safe_load(EXAMPLE_DIRECTORY.read_text(encoding="utf-8"))
    directory = load_directory(EXAMPLE_DIRECTORY)
    assert parses == Counter(str(person["mobile"]) for person in raw["people"])
    assert all(isinstance(person.mobile, Phone) for person in directory.people)


def test_a_carried_phone_is_checked_for_its_shape_not_parsed(parses):
    assert Phone.of("+8613800138000") == "+8613800138000"
    with pytest.raises(ValueError, match="is not a phone number in E.164 form"):
        Phone.of("13800138000")
    with pytest.raises(ValueError):
        StartIncident.model_validate(json.loads(prepare_start(**start_args()).model_dump_json())
                                     | {"lead": {"name": "张", "phone": "138"}})
    assert parses == Counter({"138 0013 8000": 1})  # only the prepare_start above
