"""The dispute ladder, hand-overs to a child incident, reopening on a dissatisfied follow-up,
adjourning and 信访: the pure machine alone (no server, `now` passed in)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError

from groupdesk.incidents.actions import actions
from groupdesk.runtime.config import REPO_ROOT
from groupdesk.core.links import ChildResult
from groupdesk.core.models import RecordFollowUp, RecordOutcome
from groupdesk.playbooks.loader import load_playbook
from machine_helpers import (  # noqa: F401  (autouse)
    T0,
    by_purpose,
    decide,
    drain,
    kinds,
    new_machine,
    no_temporal_server,
    outcome,
    resolve,
    to_director,
)
from workflows import checks
from workflows.machine import timers
from workflows.machine.record import StartChild
from workflows.machine.incident import IncidentMachine

MIN = timedelta(minutes=1)
LADDER = load_playbook(REPO_ROOT / "playbooks" / "dispute-ladder.yaml")


def ladder() -> IncidentMachine:
    m = new_machine(playbook=LADDER)
    resolve(m, drain(m))
    return m


def to_close(m: IncidentMachine, now) -> list:
    """Send the follow-up survey of a closed step; the messages it made."""
    m.fire_due(m.state.follow_up.send_at)
    return drain(m)


# ---- the dispute ladder ---------------------------------------------------------------------

def test_the_ladder_starts_with_the_investigation_owned_by_the_hall_lead_on_a_working_day_deadline():
    m = new_machine(playbook=LADDER)
    effects = drain(m)
    assert m.state.current_steps == ["investigate"]
    assert [(e.target, e.working_days) for e in effects] == [("step", 2)]  # the calendar says when
    sent = resolve(m, effects)
    assert by_purpose(sent) == {"step_started": [["hall_lead", "lead_complainant"]]}
    assert sent[0].audience_templates["lead_complainant"] == LADDER.templates["investigate_complainant"]
    assert m.state.steps["investigate"].deadline_at is not None


def test_negotiation_ends_in_a_signed_agreement_with_its_number_and_terms():
    m = ladder()
    outcome(m, "investigate", "objection", T0 + MIN, findings="换表前后电量对比无异常")
    assert m.state.current_steps == ["negotiate"]
    at = T0 + timedelta(days=2)
    outcome(m, "negotiate", "meeting_set", T0 + 2 * MIN, meeting_at=at.isoformat())
    (appt,) = m.state.appointments
    m.fire_due(appt.remind_at)
    (reminder,) = drain(m)
    assert reminder.recipients == ["hall_lead", "lead_complainant"]
    sent = outcome(m, "negotiate", "agreement_signed", at, agreement_no="XC-2026-031", terms="免费复检并退还差额")
    (notice,) = [r for r in sent if r.key.endswith("/closed")]  # one message each: the close notice says it
    assert notice.recipients == ["hall_lead", "centre_director", "lead_complainant"]
    assert notice.context["resolution"] == "已签下处理协议"
    assert m.state.steps["negotiate"].data == {"meeting_at": at.isoformat(), "agreement_no": "XC-2026-031",
                                               "terms": "免费复检并退还差额"}  # all the step recorded
    entry = next(e for e in m.state.timeline if e.kind == "outcome" and e.step == "negotiate")
    assert "agreement_no: XC-2026-031" in entry.detail and "terms: 免费复检并退还差额" in entry.detail
    assert m.state.stage == "follow_up" and m.state.resolution.startswith("已签下处理协议")


def test_mediation_then_court():
    m = ladder()
    outcome(m, "investigate", "objection", T0, findings="-")
    outcome(m, "negotiate", "no_agreement", T0 + MIN)
    assert m.state.current_steps == ["mediation"] and LADDER.steps["mediation"].owner == "centre_director"
    outcome(m, "mediation", "mediator_engaged", T0 + 2 * MIN, mediator="西城区消费者协会")
    assert m.state.current_steps == ["mediation"]  # engaging a mediator stays on the step
    assert m.state.steps["mediation"].data == {"mediator": "西城区消费者协会"}
    sent = outcome(m, "mediation", "mediation_failed", T0 + 3 * MIN)
    assert m.state.current_steps == ["judicial"]
    assert by_purpose(sent)["step_started"] == [["centre_director", "city_emergency_office", "lead_complainant"]]
    outcome(m, "judicial", "judgment", T0 + 4 * MIN, case_no="(2026)京0102民初123号", ruling="驳回诉讼请求")
    assert m.state.stage == "follow_up"


def test_an_unreasonable_demand_is_refused_lawfully_with_reason_and_basis_and_the_complainant_is_told_once():
    m = ladder()
    request = RecordOutcome(step="investigate", outcome="refused_lawfully", actor="sun.li",
                            data={"legal_basis": "《供电营业规则》第八十条"})
    with pytest.raises(ApplicationError, match="needs a reason"):
        checks.check_outcome(m, request, T0)
    with pytest.raises(ApplicationError, match="needs legal_basis"):
        checks.check_outcome(m, request.model_copy(update={"note": "要求赔偿十倍电费", "data": {}}), T0)
    sent = outcome(m, "investigate", "refused_lawfully", T0, note="要求赔偿十倍电费",
                   legal_basis="《供电营业规则》第八十条")
    (notice,) = [r for r in sent if r.key.endswith("/closed")]
    assert "lead_complainant" in notice.recipients and "centre_director" in notice.recipients
    assert notice.context["resolution"] == "依法拒绝无理要求: 要求赔偿十倍电费"
    assert notice.audience_templates["lead_complainant"] == LADDER.templates["close_complainant"]  # recourse named
    assert "legal_basis: 《供电营业规则》第八十条" in next(e.detail for e in m.state.timeline if e.kind == "outcome")
    assert m.state.stage == "follow_up"


# ---- hand-over to a child incident (parent waits) ----------------------------------------------

def _at_calibration() -> IncidentMachine:
    m = new_machine()
    to_director(m)
    decide(m, T0, approve=False)
    outcome(m, "metering_explanation", "not_accepted", T0 + MIN)
    return m


def test_a_disputed_calibration_result_hands_over_to_the_ladder_and_the_parent_waits_for_it():
    m = _at_calibration()
    m.record_outcome(RecordOutcome(step="metrology_calibration", outcome="result_disputed", actor="sun.li"),
                     T0 + 2 * MIN)
    (child,) = [e for e in drain(m) if isinstance(e, StartChild)]
    assert child.child_id == "inc-1-c1" and child.spec.playbook == "dispute-ladder" and child.spec.parent == "wait"
    assert m.state.status == "open" and m.state.current_steps == [] and m.state.stage == "waiting_child"
    assert timers.upcoming(m) == []  # nothing of its own is due while it waits
    (link,) = m.state.linked
    assert (link.id, link.relation, link.playbook, link.status, link.next) == (
        "inc-1-c1", "child", "dispute-ladder", "starting", "close")

    start = m.child_start(child, LADDER)
    assert (start.incident_id, start.playbook.id, start.hall_id, start.lead, start.registration) == (
        "inc-1-c1", "dispute-ladder", "xicheng", m.start.lead, m.start.registration)
    assert start.parent.id == "inc-1" and start.parent.step == "metrology_calibration" and start.carried is None
    kid = IncidentMachine.new(start, T0 + 3 * MIN)
    (parent,) = kid.state.linked
    assert (parent.id, parent.relation, parent.playbook) == ("inc-1", "parent", "smart-meter-group-complaint")
    assert kinds(kid)[:2] == ["incident_started", "handed_over_from"]

    m.child_started("inc-1-c1", T0 + 3 * MIN)
    assert m.state.linked[0].status == "open"
    m.child_finished(ChildResult(id="inc-1-c1", status="closed", resolution="已签下处理协议", score=5), T0 + 9 * MIN)
    assert m.state.linked[0].status == "closed" and m.state.linked[0].result == "已签下处理协议"
    result = next(e for e in m.state.timeline if e.kind == "child_result")
    assert result.detail == "inc-1-c1: 已签下处理协议 (satisfaction 5/5)"
    assert m.state.stage == "follow_up" and "dispute-ladder: 已签下处理协议" in m.state.resolution
    assert by_purpose(drain(m))["step_started"] == [m.pb.steps["close"].notify]  # the close notice


def test_a_child_that_cannot_be_started_is_on_the_timeline_and_the_parent_goes_on():
    m = _at_calibration()
    m.record_outcome(RecordOutcome(step="metrology_calibration", outcome="result_disputed", actor="sun.li"), T0)
    drain(m)
    m.child_failed("inc-1-c1", "unknown playbook 'dispute-ladder'", T0 + MIN)
    assert m.state.linked[0].status == "failed"
    assert "failed: unknown playbook" in next(e.detail for e in m.state.timeline if e.kind == "child_result")
    assert m.state.stage == "follow_up"


# ---- reopen on a dissatisfied follow-up --------------------------------------------------------

def _awaiting_answer(m: IncidentMachine | None = None) -> IncidentMachine:
    m = m or new_machine()
    if "talk_with_lead" not in m.state.steps:
        drain(m)
        outcome(m, "move_to_vip_room", "done", T0)
        outcome(m, "keep_order", "done", T0)
    outcome(m, "talk_with_lead", "accepted", m.state.timeline[-1].at + MIN)
    m.fire_due(m.state.follow_up.send_at)
    drain(m)
    return m


def test_a_first_dissatisfied_answer_goes_back_to_the_talk_and_tells_the_hall_lead():
    m = _awaiting_answer()
    answered = m.state.follow_up.send_at + MIN
    m.answer_follow_up(RecordFollowUp(score=2, actor="lead_complainant", comment="电费还是高"), answered)
    assert m.state.status == "open" and m.state.reopened == 1 and m.state.follow_up is None
    assert m.state.current_steps == ["talk_with_lead"] and m.state.steps["talk_with_lead"].visit == 2
    assert kinds(m)[-3:] == ["follow_up_answered", "reopened", "step_started"]
    sent = resolve(m, drain(m))
    told = next(r for r in sent if r.purpose == "reopened")
    assert told.recipients == ["hall_lead"] and told.context["score"] == 2 and told.context["comment"] == "电费还是高"
    assert any(r.key.endswith("talk_with_lead#2/step_started/start") for r in sent)  # the talk again
    # handled again, closed again: a new survey with its own key
    outcome(m, "talk_with_lead", "accepted", answered + MIN)
    m.fire_due(m.state.follow_up.send_at)
    (survey,) = drain(m)
    assert survey.key.endswith("/close#2/follow_up/survey")
    m.answer_follow_up(RecordFollowUp(score=4, actor="sun.li"), m.state.follow_up.send_at + MIN)
    assert m.state.status == "closed"


def test_a_second_dissatisfied_answer_hands_over_to_the_ladder_and_closes():
    m = _awaiting_answer()
    m.answer_follow_up(RecordFollowUp(score=1, actor="sun.li"), m.state.follow_up.send_at + MIN)
    resolve(m, drain(m))
    _awaiting_answer(m)
    m.answer_follow_up(RecordFollowUp(score=2, actor="sun.li"), m.state.follow_up.send_at + MIN)
    (child,) = [e for e in drain(m) if isinstance(e, StartChild)]
    assert child.spec.playbook == "dispute-ladder" and child.spec.parent == "close" and child.step == "follow_up"
    assert m.state.status == "closed" and m.state.linked[0].relation == "child"
    assert kinds(m)[-3:] == ["dissatisfied_again", "handed_over_to", "incident_closed"]
    assert m.state.resolution == "handed over to dispute-ladder: inc-1-c1"


def test_a_satisfied_answer_still_closes():
    m = _awaiting_answer()
    m.answer_follow_up(RecordFollowUp(score=3, actor="sun.li"), m.state.follow_up.send_at + MIN)
    assert m.state.status == "closed" and m.state.reopened == 0


# ---- adjourning and 信访 ---------------------------------------------------------------------

def _talking() -> IncidentMachine:
    m = new_machine()
    drain(m)
    outcome(m, "move_to_vip_room", "done", T0)
    outcome(m, "keep_order", "done", T0)
    return m


def test_the_group_leaves_with_an_agreed_time_the_talk_waits_and_the_director_is_told():
    m = _talking()
    bad = RecordOutcome(step="talk_with_lead", outcome="adjourned", actor="sun.li", data={"agreed_at": "明天上午"})
    with pytest.raises(ApplicationError, match="agreed_at: '明天上午' is not a date and time"):
        checks.check_outcome(m, bad, T0)
    agreed = T0 + timedelta(days=1)
    sent = outcome(m, "talk_with_lead", "adjourned", T0 + MIN, note="留下电话,明早再谈", agreed_at=agreed.isoformat())
    (report,) = sent
    assert report.recipients == ["centre_director"] and report.key.endswith("/outcome-adjourned-1")
    assert m.state.current_steps == ["talk_with_lead"] and m.state.steps["talk_with_lead"].deadline_at == agreed
    assert kinds(m)[-3:] == ["recorded", "adjourned", "reported_upward"]
    (appt,) = m.state.appointments
    assert appt.remind_at == agreed - timedelta(hours=1)
    m.fire_due(T0 + timedelta(hours=2))  # the step's old 30-minute deadline no longer fires
    assert drain(m) == []
    m.fire_due(appt.remind_at)
    (reminder,) = drain(m)
    assert reminder.recipients == ["hall_lead", "lead_complainant"]
    assert reminder.audience_templates["lead_complainant"] == m.pb.templates["adjourn_reminder_complainant"]
    m.fire_due(agreed)  # the agreed time passes with nothing recorded: the hall lead is reminded
    (late,) = drain(m)
    assert late.purpose == "reminder" and late.key.endswith("/reminder/deadline-r1")


def test_going_to_the_government_is_reported_upward_at_once_and_recorded():
    m = _talking()
    with pytest.raises(ApplicationError, match="needs department"):
        checks.check_outcome(m, RecordOutcome(step="talk_with_lead", outcome="went_to_government", actor="sun.li"), T0)
    sent = outcome(m, "talk_with_lead", "went_to_government", T0 + MIN, department="市信访局")
    (report,) = sent
    assert report.recipients == ["centre_director", "city_emergency_office"]
    assert report.purpose == "progress_report" and report.template == m.pb.templates["petition_report"]
    assert m.state.steps["talk_with_lead"].data == {"department": "市信访局"}
    assert next(e for e in m.state.timeline if e.kind == "reported_upward").detail.endswith(
        "-> centre_director, city_emergency_office")
    assert m.state.current_steps == ["talk_with_lead"]  # the talk goes on
    again = outcome(m, "talk_with_lead", "went_to_government", T0 + 2 * MIN, department="区政府")
    assert again[0].key.endswith("/outcome-went_to_government-2")  # a second report is not swallowed


def test_actions_offer_the_new_outcomes_with_their_data():
    m = _talking()
    offered = {(a["step"], a["outcome"]): a for a in actions(m.state, m.pb)}
    assert offered[("talk_with_lead", "adjourned")]["data"] == ["agreed_at"]
    assert offered[("talk_with_lead", "went_to_government")]["data"] == ["department"]
    m2 = _at_calibration()
    offered = {(a["step"], a["outcome"]) for a in actions(m2.state, m2.pb)}
    assert ("metrology_calibration", "result_disputed") in offered
    m2.record_outcome(RecordOutcome(step="metrology_calibration", outcome="result_disputed", actor="sun.li"), T0)
    assert actions(m2.state, m2.pb) == []  # a parent that waits offers nothing
    kid = ladder()
    offered = {(a["step"], a["outcome"]): a for a in actions(kid.state, kid.pb)}
    assert set(offered) == {("investigate", o) for o in ("explained", "objection", "refused_lawfully")}
    assert offered[("investigate", "refused_lawfully")]["requires_reason"]
