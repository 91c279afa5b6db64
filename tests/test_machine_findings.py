"""Findings at close (有效投诉的认定) on the pure machine: an unfounded finding closes directly, a founded one waits
for the centre director's review (1 working day, the playbook's escalation), a sent-back one is corrected and closed
again, a drill closes without one, and closing is refused while a required finding is missing. No Temporal server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError

from groupdesk.core.finding import CAUSES, REVIEW_STEP, RecordFinding, finding_problems
from groupdesk.core.models import RecordOutcome
from groupdesk.playbooks.loader import load_playbook
from groupdesk.runtime.config import REPO_ROOT
from machine_helpers import T0, by_purpose, drain, new_machine, no_temporal_server, resolve, sends, text  # noqa: F401
from workflows import checks, finding_checks
from workflows.machine import timers

SINGLE = load_playbook(REPO_ROOT / "playbooks" / "single-complaint.yaml")
MIN = timedelta(minutes=1)


def act(m, step, name, now=T0, actor="sun.li", note=""):
    """Through the validator, as the workflow does."""
    req = RecordOutcome(step=step, outcome=name, actor=actor, note=note)
    checks.check_outcome(m, req, now)
    m.record_outcome(req, now)
    return resolve(m, drain(m))


def find(m, founded="no", actor="sun.li", people=(), unit="", cause="service_attitude", reason="经核实,工作人员按规定办理",
         now=T0, roles=None):
    req = RecordFinding(actor=actor, founded=founded, cause=cause, responsible_people=list(people),
                        responsible_unit=unit, reason=reason, roles=roles)
    finding_checks.check_finding(m, req)
    m.record_finding(req, now)
    return resolve(m, drain(m))


def to_reply(m):
    drain(m)
    act(m, "contact_customer", "contacted")
    act(m, "handling_opinion", "opinion_ready")


def refused(call, *words):
    with pytest.raises(ApplicationError) as info:
        call()
    for word in words:
        assert word in str(info.value), str(info.value)
    return str(info.value)


def test_every_shipped_playbook_requires_a_finding_and_has_the_directors_review():
    from groupdesk.playbooks.loader import load_playbooks

    for pb in load_playbooks(REPO_ROOT / "playbooks").values():
        close = next(sid for sid, s in pb.steps.items() if s.kind == "close")
        assert pb.steps[close].finding == "required", pb.id
        review = pb.steps[REVIEW_STEP]
        assert (review.owner, str(review.deadline), review.notify) == ("centre_director", "1wd", ["centre_director"])
        assert review.outcomes["confirmed"].next == close
        assert review.outcomes["sent_back"].requires_reason and review.outcomes["sent_back"].back
        assert set(pb.templates[REVIEW_STEP]) == {"zh-CN", "en"}


def test_closing_is_refused_without_a_finding_naming_it():
    m = new_machine(playbook=SINGLE)
    to_reply(m)
    message = refused(lambda: act(m, "reply_customer", "accepted"), "finding:", "groupdesk finding")
    assert m.state.id in message
    assert m.state.status == "open" and m.state.steps["reply_customer"].status == "active"


def test_an_unfounded_finding_closes_directly():
    m = new_machine(playbook=SINGLE)
    to_reply(m)
    find(m, founded="no")
    f = m.state.finding
    assert (f.founded, f.cause, f.recorded_by, f.confirmed_by) == ("no", "service_attitude", "sun.li", None)
    effects = act(m, "reply_customer", "accepted")
    assert m.state.steps["close"].status == "active" and m.state.follow_up is not None
    assert REVIEW_STEP not in m.state.steps
    assert "step_started" not in by_purpose(effects) or all(
        r != ["centre_director"] for r in by_purpose(effects)["step_started"])
    assert [e.kind for e in m.state.timeline if e.kind == "finding_recorded"] == ["finding_recorded"]


def test_a_founded_finding_needs_the_director_who_confirms_it():
    m = new_machine(playbook=SINGLE)
    to_reply(m)
    find(m, founded="yes", people=["zhao.min"], unit="xicheng", cause="business_handling",
         reason="引导员未一次性告知所需材料")
    effects = act(m, "reply_customer", "accepted")
    assert m.state.follow_up is None and "close" not in m.state.steps
    review = m.state.steps[REVIEW_STEP]
    assert review.status == "active" and review.arrived_from == ["reply_customer"]
    # 1 working day: the calendar answered (Monday 10:00 -> Tuesday 10:00), then the director is asked
    assert review.deadline_at == T0 + timedelta(days=1)
    asked = [e for e in sends(effects) if e.step == REVIEW_STEP]
    assert [e.recipients for e in asked] == [["centre_director"]]
    assert "有效投诉" in text(asked[0], "centre_director") and m.state.id in text(asked[0], "centre_director")
    assert "review the finding" in text(asked[0], "centre_director", lang="en")
    # the finding cannot change under review, and only the director may review
    refused(lambda: find(m, founded="no"), "finding_review")
    refused(lambda: act(m, REVIEW_STEP, "confirmed", actor="sun.li"), "centre_director")
    # overdue: the owner is reminded, then the playbook's escalation climbs (director -> city emergency office)
    m.fire_due(T0 + timedelta(days=1))
    assert [(e.purpose, e.recipients[0]) for e in sends(resolve(m, drain(m)))][:1] == [("reminder", "centre_director")]
    assert timers.upcoming(m)[0].kind == "escalation"
    act(m, REVIEW_STEP, "confirmed", actor="wang.jun", now=T0 + timedelta(days=1, minutes=5))
    f = m.state.finding
    assert (f.confirmed_by, f.confirmed_at) == ("wang.jun", T0 + timedelta(days=1, minutes=5))
    assert m.state.steps["close"].status == "active" and m.state.follow_up is not None
    assert m.state.resolution.startswith("客户接受处理意见")  # the closing outcome's words, not the review's


def test_a_sent_back_finding_is_corrected_and_closed_again():
    m = new_machine(playbook=SINGLE)
    to_reply(m)
    find(m, founded="partly", people=["zhao.min"], unit="xicheng")
    act(m, "reply_customer", "accepted")
    refused(lambda: act(m, REVIEW_STEP, "sent_back", actor="wang.jun"), "reason")
    act(m, REVIEW_STEP, "sent_back", actor="wang.jun", note="责任人应为当班引导员周杰,请更正")
    assert m.state.finding.sent_back == "责任人应为当班引导员周杰,请更正" and m.state.finding.confirmed_at is None
    back = m.state.steps["reply_customer"]
    assert (back.status, back.visit) == ("active", 2)  # back to the owner of the step that closed
    # closing again with the finding as it was goes to the director again; corrected to unfounded it closes
    find(m, founded="no", reason="复核录像,引导员已一次性告知,投诉不属实")
    assert m.state.finding.sent_back == "" and m.state.finding.founded == "no"
    act(m, "reply_customer", "accepted")
    assert m.state.steps["close"].status == "active" and m.state.steps[REVIEW_STEP].status == "done"


def test_a_corrected_founded_finding_is_reviewed_again():
    m = new_machine(playbook=SINGLE)
    to_reply(m)
    find(m, founded="yes", people=["zhao.min"], unit="xicheng")
    act(m, "reply_customer", "accepted")
    act(m, REVIEW_STEP, "sent_back", actor="wang.jun", note="责任单位应为东城")
    find(m, founded="yes", people=["zhao.min"], unit="dongcheng")
    act(m, "reply_customer", "accepted")
    assert m.state.steps[REVIEW_STEP].status == "active" and m.state.steps[REVIEW_STEP].visit == 2
    act(m, REVIEW_STEP, "confirmed", actor="wang.jun")
    assert m.state.finding.responsible_unit == "dongcheng" and m.state.finding.confirmed_by == "wang.jun"
    assert m.state.follow_up is not None


def test_a_drill_closes_without_a_finding():
    m = new_machine(playbook=SINGLE, time_scale=60)
    to_reply(m)
    act(m, "reply_customer", "accepted")
    assert m.state.finding is None and m.state.follow_up is not None and REVIEW_STEP not in m.state.steps


def test_who_may_record_a_finding_and_what_it_must_say():
    m = new_machine(playbook=SINGLE)
    drain(m)
    refused(lambda: find(m, actor="zhao.min"), "only its owner (sun.li)")  # a guide: not owner, lead or director
    find(m, actor="wang.jun")  # the director may
    refused(lambda: find(m, founded="maybe"), "founded:")
    refused(lambda: find(m, cause="Bad Cause"), "cause:")
    refused(lambda: find(m, founded="yes"), "responsible_people:")
    refused(lambda: find(m, founded="yes", people=["zhao.min"]), "responsible_unit:")
    refused(lambda: find(m, reason=""), "reason:")
    assert finding_problems(RecordFinding(actor="x", founded="no", cause="nonsense", reason="r"))["cause"] \
        .endswith(", ".join(CAUSES))


def test_a_hand_over_to_the_dispute_ladder_needs_no_finding_yet():
    """The disputed calibration goes to the dispute ladder (a child with its own finding); the parent closes on
    the child's result."""
    from machine_helpers import to_director, decide, outcome, settle_children

    m = new_machine()
    to_director(m)
    decide(m, T0)
    outcome(m, "metering_explanation", "not_accepted", T0)
    req = RecordOutcome(step="metrology_calibration", outcome="result_disputed", actor="sun.li")
    checks.check_outcome(m, req, T0)  # no finding asked for at the hand-over
    m.record_outcome(req, T0)
    settle_children(m, resolve(m, drain(m)), T0)
    assert m.state.follow_up is not None and m.state.finding is None
