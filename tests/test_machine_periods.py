"""Sensitive periods in the pure machine: deadlines shortened by the period's factor (clock and working days),
the responsible person told at the start and sent every development whatever the warning tier."""

from __future__ import annotations

from datetime import date, timedelta

from activities.sms import _context, source_for
from groupdesk.core.models import RecordOutcome, SendMessages
from groupdesk.core.periods import SensitivePeriod
from groupdesk.playbooks.templating import render
from machine_helpers import (
    DIRECTORY,
    PLAYBOOK,
    T0,
    by_purpose,
    decide,
    drain,
    kinds,
    no_temporal_server,  # noqa: F401  (autouse)
    outcome,
    resolve,
    sends,
    to_director,
)
from groupdesk.incidents.registration import prepare_start
from workflows.machine import timers
from workflows.machine.incident import IncidentMachine, ResolveWorkingDays

MIN = timedelta(minutes=1)
TWO_SESSIONS = SensitivePeriod(name="全国两会", first_day=date(2026, 11, 20), last_day=date(2026, 11, 30),
                               deadline_factor=0.5, responsible="wang.jun")


def in_period(period: SensitivePeriod | None = TWO_SESSIONS, time_scale: float | None = None) -> IncidentMachine:
    request = prepare_start(
        directory=DIRECTORY, playbook=PLAYBOOK, hall_id="xicheng", headcount=20, lead_name="张建国",
        lead_phone="13800138000", summary="智能电表换装后电量异常增长", started_by="sun.li",
        incident_id="inc-1", drill=time_scale is not None, time_scale=time_scale)
    request.sensitive_period = period
    return IncidentMachine.new(request, T0)


def text(request: SendMessages, lang: str) -> str:
    role = request.recipients[0]
    return render(source_for(request, role, lang), _context(request, role, "王军", lang))


def test_an_incident_in_a_period_is_marked_and_its_clock_deadlines_are_halved():
    m = in_period()
    drain(m)
    assert m.state.sensitive_period == TWO_SESSIONS
    assert kinds(m)[:2] == ["incident_started", "sensitive_period"]
    for sid in ("move_to_vip_room", "keep_order"):
        assert m.state.steps[sid].deadline_at == T0 + 2.5 * MIN  # 5m in the playbook
    # the escalation ladder's grace (10m) is halved too: the first rung at 2.5 + 5 minutes
    assert [(d.kind, d.due_at) for d in timers.upcoming(m)][2] == ("escalation", T0 + 7.5 * MIN)
    m.fire_due(T0 + 7.5 * MIN)
    assert by_purpose(drain(m)) == {"reminder": [["guide", "person:sun.li"], ["security_guard", "person:sun.li"]],
                                    "escalation": [["hall_lead"], ["hall_lead"]]}


def test_outside_a_period_nothing_changes():
    m = in_period(period=None)
    effects = drain(m)
    assert m.state.sensitive_period is None and "sensitive_period" not in kinds(m)
    assert m.state.steps["keep_order"].deadline_at == T0 + 5 * MIN
    assert "sensitive_period_start" not in by_purpose(effects)


def test_a_drill_in_a_period_applies_both_the_time_scale_and_the_factor():
    m = in_period(time_scale=60)
    drain(m)
    assert m.state.steps["keep_order"].deadline_at == T0 + timedelta(seconds=2.5)


def test_working_day_deadlines_are_shortened_in_whole_working_days():
    m = in_period()
    to_director(m)
    decide(m, T0, approve=False)
    m.record_outcome(RecordOutcome(step="metering_explanation", outcome="not_accepted", actor="feng.tao"),
                     T0 + 20 * MIN)
    (ask,) = [e for e in drain(m) if isinstance(e, ResolveWorkingDays)]
    assert ask.working_days == 3  # 5wd x 0.5, rounded up to a whole working day
    resolve(m, [ask])
    # from Monday 2026-11-23: Tuesday, Wednesday, Thursday
    assert m.state.steps["metrology_calibration"].deadline_at == T0 + 20 * MIN + timedelta(days=3)


def test_the_responsible_person_is_told_at_the_start_in_their_language():
    m = in_period()
    effects = drain(m)
    (notice,) = [e for e in sends(effects) if e.purpose == "sensitive_period_start"]
    assert notice.recipients == ["person:wang.jun"] and notice.key == "inc-1/-#1/sensitive_period_start/start"
    zh, en = text(notice, "zh-CN"), text(notice, "en")
    assert "全国两会" in zh and "50%" in zh and "西城营业厅" in zh and "inc-1" in zh
    assert "cut to 50%" in en and "Xicheng service hall" in en


def test_the_responsible_person_gets_every_development_whatever_the_tier():
    m = in_period()
    drain(m)
    # tier 0: the playbook's own reports (min_tier 3) go to no one, the responsible person still hears
    effects = outcome(m, "move_to_vip_room", "done", T0 + MIN)
    (report,) = [e for e in sends(effects) if e.purpose == "progress_report"]
    assert report.recipients == ["person:wang.jun"]
    zh, en = text(report, "zh-CN"), text(report, "en")
    assert "全国两会" in zh and "引导客户至VIP室" in zh and "维持营业厅秩序" in zh  # what happened, what is under way
    assert "Move the group to the VIP room" in en
    outcome(m, "keep_order", "done", T0 + 2 * MIN)
    outcome(m, "talk_with_lead", "not_accepted", T0 + 3 * MIN)
    # tier 3: the office gets the playbook's report and the responsible person their own, once each
    effects = decide(m, T0 + 4 * MIN)
    reports = [e.recipients for e in sends(effects) if e.purpose == "progress_report"]
    assert ["emergency_leadership_office"] in reports and ["person:wang.jun"] in reports
    keys = [e.key for e in sends(effects)]
    assert len(keys) == len(set(keys))


def test_a_period_naming_no_one_for_the_hall_sends_nothing_extra():
    m = in_period(TWO_SESSIONS.model_copy(update={"responsible": None}))
    effects = drain(m)
    assert m.state.steps["keep_order"].deadline_at == T0 + 2.5 * MIN
    assert "sensitive_period_start" not in by_purpose(effects)
    assert [e for e in sends(outcome(m, "move_to_vip_room", "done", T0 + MIN)) if e.purpose == "progress_report"] == []
