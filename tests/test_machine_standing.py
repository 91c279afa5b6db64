"""The standing outcomes of every shipped playbook (issue 28), as the smart-meter one has them: adjourning with an
agreed time (the group or customer leaves; the step waits until then), 信访 reported upward at once, and the 话术 by
complainant type. On the outage talk, on `contact_customer` and `handling_opinion` of the single complaint, and on
`take_over` and `investigate` of the attitude complaint. The pure machine alone (no server, `now` passed in)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError

from groupdesk.core.models import RecordOutcome
from groupdesk.core.validation import COMPLAINANT_TYPES
from groupdesk.incidents.actions import actions, step_scripts
from groupdesk.incidents.registration import prepare_start
from groupdesk.playbooks.loader import load_playbook
from groupdesk.runtime.config import REPO_ROOT
from machine_helpers import (  # noqa: F401  (no_temporal_server is autouse)
    DIRECTORY, T0, drain, kinds, no_temporal_server, outcome, resolve, sends, text, told_once,
)
from workflows import checks
from workflows.machine.incident import IncidentMachine

MIN = timedelta(minutes=1)
# playbook, step, the outcomes that lead there
CASES = [
    ("outage-group-complaint", "talk_with_lead", [("move_to_vip_room", "done"), ("keep_order", "done")]),
    ("single-complaint", "contact_customer", []),
    ("single-complaint", "handling_opinion", [("contact_customer", "contacted")]),
    ("service-attitude-complaint", "take_over", []),
    ("service-attitude-complaint", "investigate", [("take_over", "received")]),
]
IDS = [f"{pb}:{step}" for pb, step, _ in CASES]


def at_step(playbook_id: str, step: str, before: list[tuple[str, str]], complainant_type: str | None = None):
    pb = load_playbook(REPO_ROOT / "playbooks" / f"{playbook_id}.yaml")
    registration = {"person_involved": "zhao.min"} if "person_involved" in pb.registration_requires else {}
    if complainant_type:
        registration["complainant_type"] = complainant_type
    span = pb.applies.headcount
    m = IncidentMachine.new(prepare_start(
        directory=DIRECTORY, playbook=pb, hall_id="xicheng", headcount=min(max(20, span.min), span.max),
        lead_name="张建国", lead_phone="13800138000", summary="投诉处理进展缓慢", started_by="sun.li",
        incident_id="inc-s", registration=registration or None), T0)
    drain(m)
    for sid, name in before:
        outcome(m, sid, name, T0, actor="sun.li")
    assert step in m.active_steps()
    return m


def record(m: IncidentMachine, step: str, name: str, now, **data: str) -> list:
    req = RecordOutcome(step=step, outcome=name, actor="sun.li", note="留下电话", data=data)
    checks.check_outcome(m, req, now)  # as the workflow's validator would
    m.record_outcome(req, now)
    return sends(resolve(m, drain(m)))


@pytest.mark.parametrize("playbook_id, step, before", CASES, ids=IDS)
def test_the_complainant_leaves_with_an_agreed_time_and_the_step_waits_until_then(playbook_id, step, before):
    m = at_step(playbook_id, step, before)
    agreed = T0 + timedelta(days=1)
    (report,) = record(m, step, "adjourned", T0 + MIN, agreed_at=agreed.isoformat())
    assert (report.purpose, report.recipients) == ("progress_report", ["centre_director"])
    assert report.template == m.pb.templates["adjourn_report"] and "约定时间再谈" in text(report, "centre_director")
    assert kinds(m)[-3:] == ["recorded", "adjourned", "reported_upward"]
    assert m.state.steps[step].deadline_at == agreed and step in m.active_steps()
    (appt,) = [a for a in m.state.appointments if a.field == "agreed_at"]
    assert appt.remind_at == agreed - timedelta(hours=1)
    m.fire_due(appt.remind_at)
    (reminder,) = [e for e in sends(drain(m)) if "/appointment" in e.key]
    assert reminder.recipients == ["hall_lead", "lead_complainant"]
    assert "再次面谈时间为11月24日 10:00" in text(reminder, "lead_complainant")
    # the same time again is no change; another time is one message naming both, and the step waits for it
    with pytest.raises(ApplicationError, match="agreed_at: 2026-11-24 10:00 is the time already recorded"):
        checks.check_outcome(m, RecordOutcome(step=step, outcome="adjourned", actor="sun.li",
                                              data={"agreed_at": agreed.isoformat()}), T0 + 2 * MIN)
    later = agreed + timedelta(days=1)
    moved = record(m, step, "adjourned", T0 + 2 * MIN, agreed_at=later.isoformat())
    told_once(moved)
    (changed,) = moved
    assert changed.purpose == "appointment_changed"
    assert changed.recipients == ["centre_director", "hall_lead", "lead_complainant"]
    assert "由 11月24日 10:00 改为 11月25日 10:00" in text(changed, "lead_complainant")
    assert m.state.steps[step].deadline_at == later
    m.fire_due(later)  # the agreed time passes with nothing recorded: the owner is reminded, under a new key
    assert any(e.purpose == "reminder" and e.key.endswith("/reminder/deadline-r2") for e in sends(drain(m)))


@pytest.mark.parametrize("playbook_id, step, before", CASES, ids=IDS)
def test_going_to_the_government_is_reported_upward_at_once_and_the_step_goes_on(playbook_id, step, before):
    m = at_step(playbook_id, step, before)
    with pytest.raises(ApplicationError, match="needs department"):
        checks.check_outcome(m, RecordOutcome(step=step, outcome="went_to_government", actor="sun.li"), T0)
    (report,) = record(m, step, "went_to_government", T0 + MIN, department="市信访局")
    assert report.recipients == ["centre_director", "city_emergency_office"]
    assert report.template == m.pb.templates["petition_report"] and "信访" in text(report, "city_emergency_office")
    assert m.state.steps[step].data == {"department": "市信访局"} and step in m.active_steps()
    assert kinds(m)[-2:] == ["recorded", "reported_upward"]
    (again,) = record(m, step, "went_to_government", T0 + 2 * MIN, department="区政府")
    assert again.key.endswith("/outcome-went_to_government-2")  # a second report is not swallowed
    offered = {a["outcome"]: a for a in actions(m.state, m.pb) if a["step"] == step}
    assert offered["adjourned"]["data"] == ["agreed_at"] and offered["went_to_government"]["data"] == ["department"]


@pytest.mark.parametrize("playbook_id, step, before", CASES, ids=IDS)
def test_the_step_has_scripts_for_each_kind_of_complainant(playbook_id, step, before):
    for kind in COMPLAINANT_TYPES:
        m = at_step(playbook_id, step, before, complainant_type=kind)
        shown = {s["step"]: s for s in step_scripts(m.state, m.pb)}[step]
        assert shown["complainant_type"] == kind and shown["for_complainant_type"], kind
        assert shown["for_complainant_type"] == m.pb.steps[step].scripts_by_complainant_type[kind]["zh-CN"]
        english = {s["step"]: s for s in step_scripts(m.state, m.pb, "en")}[step]["for_complainant_type"]
        assert english == m.pb.steps[step].scripts_by_complainant_type[kind]["en"] != shown["for_complainant_type"]
    plain = at_step(playbook_id, step, before)
    assert {s["step"]: s for s in step_scripts(plain.state, plain.pb)}[step]["for_complainant_type"] == []
