"""The incident machine without a server: every path of the shipped playbook, `now` passed in.

Each test drives `IncidentMachine` directly and checks the state it keeps and the effects it
records (messages by purpose and recipients, working-day requests). No Temporal server runs:
the `no_temporal_server` fixture fails any attempt to start one.
"""

from __future__ import annotations

from datetime import timedelta

from groupdesk.core.models import RecordFollowUp, RecordOutcome, SendMessages
from machine_helpers import (
    T0,
    by_purpose,
    decide,
    delivered,
    drain,
    kinds,
    new_machine,
    no_temporal_server,  # noqa: F401  (autouse)
    outcome,
    resolve,
    sends,
    to_director,
)
from workflows.machine import timers
from workflows.machine.record import ResolveWorkingDays

MIN = timedelta(minutes=1)


def test_a_new_incident_starts_the_first_steps_with_deadlines_and_messages():
    m = new_machine()
    effects = drain(m)
    assert m.state.current_steps == ["move_to_vip_room", "keep_order"]
    assert m.state.stage == "move_to_vip_room+keep_order"
    for sid in ("move_to_vip_room", "keep_order"):
        assert m.state.steps[sid].deadline_at == T0 + 5 * MIN
    assert by_purpose(effects) == {"step_started": [["guide", "hall_lead"], ["security_guard", "security_department"]]}
    assert [e.key for e in sends(effects)] == ["inc-1/move_to_vip_room#1/step_started/start",
                                               "inc-1/keep_order#1/step_started/start"]
    assert kinds(m) == ["incident_started", "step_started", "step_started"]


def test_the_talk_waits_for_both_first_steps():
    m = new_machine()
    drain(m)
    assert outcome(m, "move_to_vip_room", "done", T0 + MIN) == []
    assert m.state.steps["talk_with_lead"].status == "waiting"
    assert m.state.current_steps == ["keep_order"]
    effects = outcome(m, "keep_order", "done", T0 + 2 * MIN)
    talk = m.state.steps["talk_with_lead"]
    assert talk.status == "active" and talk.deadline_at == T0 + 2 * MIN + 30 * MIN
    assert by_purpose(effects) == {"step_started": [["hall_lead"]]}
    assert sends(effects)[0].context["deadline"] == talk.deadline_at.isoformat()


def test_talk_accepted_closes_and_asks_the_calendar_for_the_follow_up():
    m = new_machine()
    drain(m)
    outcome(m, "move_to_vip_room", "done", T0)
    outcome(m, "keep_order", "done", T0)
    now = T0 + 10 * MIN
    m.record_outcome(RecordOutcome(
        step="talk_with_lead", outcome="accepted", actor="sun.li"), now)
    effects = drain(m)
    assert [type(e).__name__ for e in effects] == ["SendMessages", "ResolveWorkingDays"]
    close, ask = effects
    assert close.recipients == ["hall_lead", "centre_director", "lead_complainant"] and close.key.endswith("/step_started/closed")
    assert "warning_plan_ended" not in [e.kind for e in m.state.timeline]  # no plan ran, none ended at close
    assert isinstance(ask, ResolveWorkingDays) and ask.target == "follow_up" and ask.working_days == 1
    assert m.state.stage == "follow_up" and m.state.current_steps == ["close"]
    assert timers.upcoming(m) == []  # the close step has no deadline; the follow-up waits for the calendar
    assert m.state.resolution == "客户认可解释"
    assert m.state.status == "open" and m.state.follow_up.send_at is None
    resolve(m, [ask])
    assert m.state.follow_up.send_at == T0 + 10 * MIN + timedelta(days=1)  # Monday -> Tuesday


def _closed_awaiting_follow_up():
    m = new_machine()
    drain(m)
    outcome(m, "move_to_vip_room", "done", T0)
    outcome(m, "keep_order", "done", T0)
    outcome(m, "talk_with_lead", "accepted", T0)
    return m


def test_the_follow_up_is_sent_when_due_and_an_answer_closes_the_incident():
    m = _closed_awaiting_follow_up()
    send_at = m.state.follow_up.send_at
    m.fire_due(send_at - MIN)
    assert drain(m) == [] and not m.state.follow_up.sent
    m.fire_due(send_at)
    (survey,) = drain(m)
    assert survey.purpose == "follow_up" and survey.recipients == ["lead_complainant"]
    assert survey.lead is not None and survey.lead.phone == "+8613800138000"
    assert m.state.follow_up.expires_at == send_at + timedelta(days=3)
    m.answer_follow_up(RecordFollowUp(score=4, actor="sun.li", comment="满意"), send_at + MIN)
    assert m.state.status == "closed" and m.state.stage == "closed" and m.state.closed_at == send_at + MIN
    assert m.state.follow_up.outcome == "answered" and m.state.follow_up.score == 4
    assert kinds(m)[-2:] == ["follow_up_answered", "incident_closed"]
    assert timers.upcoming(m) == [] and timers.next_due(m) is None


def test_an_unanswered_follow_up_expires_and_closes():
    m = _closed_awaiting_follow_up()
    m.fire_due(m.state.follow_up.send_at)
    drain(m)
    expires = m.state.follow_up.expires_at
    assert timers.next_due(m) == expires
    m.fire_due(expires)
    assert drain(m) == []
    assert m.state.status == "closed" and m.state.follow_up.outcome == "expired"
    assert m.state.timeline[-1].detail == "follow-up expired without an answer"
    m.fire_due(expires + timedelta(days=30))  # nothing fires on a closed incident
    assert drain(m) == []


def test_not_accepted_asks_the_director_for_approval():
    m = new_machine()
    effects = to_director(m)
    assert m.state.current_steps == ["director_review"]
    assert by_purpose(effects) == {"approval_request": [["centre_director"]]}
    assert m.pending_approvals() == ["director_review"]
    assert m.state.approval_key is None and "approval_code" not in sends(effects)[0].context  # the activity makes it
    assert m.state.steps["director_review"].deadline_at == T0 + 15 * MIN


def test_the_approval_code_key_is_kept_only_for_the_approval_still_waiting():
    m = new_machine()
    (request,) = sends(to_director(m))
    stale = request.model_copy(update={"visit": 2})
    assert not m.record_sent(stale, delivered(stale, key="k-stale"), T0).key_registered
    other = request.model_copy(update={"purpose": "reminder"})
    assert not m.record_sent(other, delivered(other, key="k-other"), T0).key_registered
    assert m.state.approval_key is None
    assert m.record_sent(request, delivered(request, key="k1"), T0).key_registered
    assert m.state.approval_key == "k1"
    assert m.shown_state().approval_key is None  # never shown
    decide(m, T0 + MIN)
    assert m.state.approval_key is None  # single use: it dies with the decision
    assert not m.record_sent(request, delivered(request, key="k1"), T0 + 2 * MIN).key_registered


def test_approved_starts_the_warning_plan_and_its_progress_reports():
    m = new_machine()
    to_director(m)
    effects = decide(m, T0 + 5 * MIN)
    assert m.state.warning_tier == 3
    assert "warning_tier" in kinds(m)
    purposes = by_purpose(effects)
    # the city emergency office and the hall lead are told the plan started; the leadership office hears it
    # once, in the report; the technicians' step tells only them
    assert purposes["progress_report"] == [["city_emergency_office", "hall_lead"], ["emergency_leadership_office"]]
    assert purposes["step_started"] == [["metering_technician"]]
    report = [e for e in sends(effects) if e.key.endswith("/report1")]
    assert report and report[0].context["current_steps"]["zh-CN"] == "计量专业技术人员现场讲解"
    assert m.state.steps["director_review"].outcome == "approved"


def test_rejected_needs_no_warning_plan_and_keeps_the_reason():
    m = new_machine()
    to_director(m)
    effects = decide(m, T0 + 5 * MIN, approve=False, reason="现场可控")
    assert m.state.warning_tier == 0 and m.state.rejection_reason == "现场可控"
    assert by_purpose(effects) == {"progress_report": [["hall_lead"]], "step_started": [["metering_technician"]]}
    assert m.state.current_steps == ["metering_explanation"]
    decided = next(e for e in m.state.timeline if e.kind == "outcome" and e.step == "director_review")
    assert decided.detail == "不启动预警 — 现场可控" and decided.actor == "wang.jun"


def test_approved_then_explained_ends_the_warning_plan_at_close():
    m = new_machine()
    to_director(m)
    decide(m, T0 + 5 * MIN)
    effects = outcome(m, "metering_explanation", "accepted", T0 + 20 * MIN)
    assert m.state.warning_tier == 0
    assert "warning_plan_ended" in kinds(m)
    assert any(e.key.endswith("/closed") for e in sends(effects))  # the close is sent
    assert [e.kind for e in m.state.timeline].count("warning_plan_ended") == 1  # the plan ended with the close
    # the city emergency office is told the plan ended; the close is reported to the leadership office
    # as well (the plan ran before it)
    assert [(e.key.rsplit("/", 1)[1], e.recipients) for e in sends(effects) if e.purpose == "progress_report"] \
        == [("plan-ended2", ["city_emergency_office"]), ("report2", ["emergency_leadership_office"])]
    ended = next(e for e in m.state.timeline if e.kind == "warning_plan_ended")
    assert ended.actor is None and "automatically at close" in ended.detail


def test_metrology_waits_for_the_working_day_deadline_before_announcing():
    m = new_machine()
    to_director(m)
    decide(m, T0, approve=False)
    now = T0 + 20 * MIN
    m.record_outcome(RecordOutcome(step="metering_explanation",
                                   outcome="not_accepted", actor="feng.tao"), now)
    effects = drain(m)
    assert [type(e).__name__ for e in effects] == ["ResolveWorkingDays"]
    assert m.state.steps["metrology_calibration"].deadline_at is None
    announced = resolve(m, effects)
    step = m.state.steps["metrology_calibration"]
    assert step.deadline_at == now + timedelta(days=7)  # 5 working days from a Monday: next Monday
    assert by_purpose(announced) == {"step_started": [["metrology_bureau", "hall_lead", "lead_complainant"]]}
    assert announced[0].lead is not None


def test_a_late_calendar_answer_for_a_left_step_changes_nothing():
    m = new_machine()
    to_director(m)
    decide(m, T0, approve=False)
    m.record_outcome(RecordOutcome(step="metering_explanation", outcome="not_accepted", actor="feng.tao"), T0)
    (ask,) = drain(m)
    stale = ResolveWorkingDays(ask.target, ask.step, ask.visit + 1, ask.start, ask.working_days)
    m.apply_working_days(stale, T0 + timedelta(days=7))
    assert m.state.steps["metrology_calibration"].deadline_at is None and drain(m) == []


def _at_metrology(approve: bool = True):
    m = new_machine()
    to_director(m)
    decide(m, T0, approve=approve)
    outcome(m, "metering_explanation", "not_accepted", T0 + MIN)
    return m


def test_a_scheduled_calibration_stays_on_the_step_and_reminds_a_day_before():
    m = _at_metrology(approve=False)
    at = T0 + timedelta(days=2)
    (told,) = outcome(m, "metrology_calibration", "scheduled", T0 + 2 * MIN, calibration_at=at.isoformat())
    assert told.recipients == ["lead_complainant"] and told.context["appointment_at"] == at.isoformat()
    assert m.state.current_steps == ["metrology_calibration"]
    (appt,) = m.state.appointments
    assert appt.remind_at == at - timedelta(days=1)
    m.fire_due(appt.remind_at - MIN)
    assert drain(m) == []
    m.fire_due(appt.remind_at)
    (reminder,) = drain(m)
    assert reminder.purpose == "reminder" and reminder.key.endswith("/appointment1")
    assert reminder.recipients == ["metrology_bureau", "metering_technician", "hall_lead", "lead_complainant"]
    assert reminder.context["appointment_at"] == at.isoformat()
    m.fire_due(appt.remind_at + MIN)
    assert drain(m) == []  # once


def test_a_rescheduled_calibration_reminds_only_for_the_new_time():
    m = _at_metrology()
    first, second = T0 + timedelta(days=2), T0 + timedelta(days=3)
    outcome(m, "metrology_calibration", "scheduled", T0 + 2 * MIN, calibration_at=first.isoformat())
    outcome(m, "metrology_calibration", "scheduled", T0 + 3 * MIN, calibration_at=second.isoformat())
    m.fire_due(second - timedelta(days=1))
    reminders = [e for e in drain(m) if e.key.endswith(("appointment1", "appointment2"))]
    assert [r.key.rsplit("/", 1)[1] for r in reminders] == ["appointment2"]
    assert not m.state.appointments[0].reminded


def test_meter_accurate_closes_with_its_label_and_inaccurate_leads_to_the_remedy_first():
    m = _at_metrology()
    outcome(m, "metrology_calibration", "meter_accurate", T0 + timedelta(days=1))
    assert m.state.stage == "follow_up" and m.state.resolution == "表计准确" and m.state.warning_tier == 0
    m = _at_metrology()
    outcome(m, "metrology_calibration", "meter_inaccurate", T0 + timedelta(days=1))
    assert m.state.current_steps == ["meter_replacement_and_refund"] and m.state.warning_tier == 3
    outcome(m, "meter_replacement_and_refund", "done", T0 + timedelta(days=2))
    assert m.state.stage == "follow_up" and m.state.resolution == "已更换表计并退补电费"
    assert m.state.warning_tier == 0


def test_a_missed_deadline_reminds_the_owner_then_escalates_up_the_chain():
    m = new_machine()
    drain(m)
    deadline = T0 + 5 * MIN
    m.fire_due(deadline - timedelta(seconds=1))
    assert drain(m) == []
    m.fire_due(deadline)
    effects = drain(m)
    assert by_purpose(effects) == {"reminder": [["guide", "person:sun.li"], ["security_guard", "person:sun.li"]]}
    m.fire_due(deadline + 10 * MIN)
    effects = drain(m)
    assert by_purpose(effects) == {"escalation": [["hall_lead"], ["hall_lead"]]}
    assert effects[0].escalated_from == "guide" and effects[0].context["overdue"] == 600
    m.fire_due(deadline + 20 * MIN)
    assert by_purpose(drain(m)) == {"escalation": [["centre_director"], ["centre_director"]]}
    m.fire_due(deadline + 30 * MIN)
    assert by_purpose(drain(m)) == {"escalation": [["city_emergency_office"], ["city_emergency_office"]]}
    m.fire_due(deadline + 5 * 60 * MIN)
    assert drain(m) == []  # the top of the chain: nothing more
    assert m.state.steps["move_to_vip_room"].escalation_level == 3


def test_a_late_wake_up_fires_every_rung_that_is_due_at_once_in_order():
    m = new_machine()
    drain(m)
    m.fire_due(T0 + 5 * MIN + 25 * MIN)
    keys = [e.key.split("/", 1)[1] for e in drain(m)]
    assert keys == ["move_to_vip_room#1/reminder/deadline", "move_to_vip_room#1/escalation/level1",
                    "move_to_vip_room#1/escalation/level2", "keep_order#1/reminder/deadline",
                    "keep_order#1/escalation/level1", "keep_order#1/escalation/level2"]


def test_a_drill_on_compressed_time_divides_every_duration():
    m = new_machine(time_scale=60)
    drain(m)
    assert m.state.steps["keep_order"].deadline_at == T0 + timedelta(seconds=5)
    m.fire_due(T0 + timedelta(seconds=15))  # deadline 5 s + grace 10 s
    effects = drain(m)
    escalation = next(e for e in effects if e.purpose == "escalation")
    assert escalation.context["overdue"] == 600  # reported in real minutes, not drill seconds


def test_the_deadlines_ahead_are_listed_soonest_first():
    m = new_machine()
    drain(m)
    ahead = timers.upcoming(m)
    assert [(d.kind, d.step, d.role) for d in ahead] == [
        ("step", "move_to_vip_room", "guide"), ("step", "keep_order", "security_guard"),
        ("escalation", "move_to_vip_room", "hall_lead"), ("escalation", "keep_order", "hall_lead")]
    m.fire_due(T0 + 5 * MIN)
    assert [d.kind for d in timers.upcoming(m)] == ["escalation", "escalation"]
    assert m.shown_state().deadlines == timers.upcoming(m)


def test_every_message_of_the_longest_path_has_its_own_key():
    m = new_machine()
    seen = sends(drain(m))
    m.fire_due(T0 + 40 * MIN)
    seen += sends(drain(m))
    seen += sends(to_director(m, T0 + 41 * MIN))
    seen += sends(decide(m, T0 + 42 * MIN))
    seen += sends(outcome(m, "metering_explanation", "not_accepted", T0 + 43 * MIN))
    at = T0 + timedelta(days=2)
    seen += sends(outcome(m, "metrology_calibration", "scheduled", T0 + 44 * MIN, calibration_at=at.isoformat()))
    m.fire_due(at - timedelta(days=1))
    seen += sends(drain(m))
    seen += sends(outcome(m, "metrology_calibration", "meter_accurate", at + MIN))
    m.fire_due(m.state.follow_up.send_at)
    seen += sends(drain(m))
    keys = [s.key for s in seen]
    assert len(keys) == len(set(keys)) and len(keys) >= 20
    assert {s.purpose for s in seen} == {"step_started", "reminder", "escalation", "approval_request",
                                         "progress_report", "follow_up"}
    assert all(isinstance(s, SendMessages) for s in seen)


def test_no_one_gets_two_messages_for_one_event():
    """Every transition of the smart-meter playbook's tier-3 path sends each role at most one message."""
    m = new_machine()
    checked = [to_director(m), decide(m, T0 + 5 * MIN),
               outcome(m, "metering_explanation", "not_accepted", T0 + 20 * MIN)]
    checked.append(resolve(m, checked[-1]))
    checked.append(outcome(m, "metrology_calibration", "meter_accurate", T0 + 60 * MIN))
    for effects in checked:
        roles = [role for request in sends(effects) for role in request.recipients]
        assert len(roles) == len(set(roles)), f"a role told twice at one moment: {roles}"


def test_the_report_after_the_plan_ends_says_so_instead_of_tier_0():
    from activities.sms import _context, source_for
    from groupdesk.playbooks.templating import render

    m = new_machine()
    to_director(m)
    decide(m, T0 + 5 * MIN)
    effects = outcome(m, "metering_explanation", "accepted", T0 + 20 * MIN)
    report = next(e for e in sends(effects) if e.key.endswith("/report2"))
    assert report.context["tier_name"] == {"zh-CN": "", "en": ""}
    texts = {lang: render(source_for(report, "emergency_leadership_office", lang),
                          _context(report, "emergency_leadership_office", "应急办", lang)) for lang in ("zh-CN", "en")}
    assert "预警:已结束" in texts["zh-CN"] and "0级" not in texts["zh-CN"]
    assert "warning plan: ended" in texts["en"] and "tier 0" not in texts["en"]
