"""The outage and single-complaint playbooks, walked by the pure machine (no server, `now` passed in):
what their users rely on beyond "every path closes" (tests/test_machine_playbooks.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from groupdesk.runtime.config import REPO_ROOT
from groupdesk.core.models import RecordFollowUp, RecordOutcome
from groupdesk.core.workcal import add_working_days
from groupdesk.playbooks.loader import load_playbook
from machine_helpers import T0, decide, drain, new_machine, no_temporal_server, resolve, sends  # noqa: F401

OUTAGE = load_playbook(REPO_ROOT / "playbooks" / "outage-group-complaint.yaml")
SINGLE = load_playbook(REPO_ROOT / "playbooks" / "single-complaint.yaml")


def record(m, step, name, now, actor="sun.li", note="", **data):
    m.record_outcome(RecordOutcome(step=step, outcome=name, actor=actor, note=note, data=data), now)
    return resolve(m, drain(m))


def to_dispatch(m, now, escalate=False):
    drain(m)
    record(m, "move_to_vip_room", "done", now, "zhao.min")
    record(m, "keep_order", "done", now, "qian.lei")
    effects = record(m, "talk_with_lead", "escalate" if escalate else "understood", now)
    if escalate:
        assert m.active_steps() == ["director_review"]
        effects = decide(m, now)
    assert m.active_steps() == ["dispatch_repair_crew"]
    return effects


@pytest.mark.parametrize("area, limit", [("urban", 45), ("rural", 90), ("remote", 120)])
def test_the_repair_crew_must_be_on_site_within_the_limit_for_its_area(area, limit):
    m = new_machine(playbook=OUTAGE)
    to_dispatch(m, T0)
    now = T0 + timedelta(minutes=3)
    effects = record(m, "dispatch_repair_crew", f"dispatched_{area}", now, "dispatch.duty")
    assert m.state.steps["crew_on_site"].deadline_at == now + timedelta(minutes=limit)
    [started] = [s for s in sends(effects) if s.step == "crew_on_site"]
    assert started.recipients == ["repair_crew", "lead_complainant"]  # the group hears the crew is coming
    assert "lead_complainant" in started.audience_templates
    # missed: the crew is reminded, then dispatch, then the director (the chain of this playbook)
    m.fire_due(now + timedelta(minutes=limit + 20))
    up = [(s.purpose, [r for r in s.recipients if not r.startswith("person:")])  # (the owner is copied too)
          for s in sends(drain(m))]
    assert up == [("reminder", ["repair_crew"]), ("escalation", ["repair_dispatch"]), ("escalation", ["centre_director"])]


def test_a_drill_scales_the_area_limit():
    m = new_machine(playbook=OUTAGE, time_scale=60)
    to_dispatch(m, T0)
    record(m, "dispatch_repair_crew", "dispatched_rural", T0, "dispatch.duty")
    assert m.state.steps["crew_on_site"].deadline_at == T0 + timedelta(seconds=90)


def test_restoration_promised_then_re_promised_tells_the_group_each_time_and_reminds_before_the_latest():
    m = new_machine(playbook=OUTAGE)
    to_dispatch(m, T0)
    record(m, "dispatch_repair_crew", "dispatched_urban", T0, "dispatch.duty")
    record(m, "crew_on_site", "on_site", T0 + timedelta(minutes=30), "tang.wei")
    first_at, second_at = T0 + timedelta(hours=2), T0 + timedelta(hours=3)
    told = record(m, "restore_power", "restore_promised", T0 + timedelta(minutes=40), "tang.wei",
                  restore_at=first_at.isoformat())
    update = record(m, "restore_power", "group_updated", T0 + timedelta(minutes=50), "sun.li", note="已找到故障电缆")
    again = record(m, "restore_power", "restore_promised", T0 + timedelta(minutes=60), "tang.wei",
                   restore_at=second_at.isoformat())
    messages = sends(told) + sends(update) + sends(again)
    assert [(s.recipients, s.context.get("appointment_at")) for s in messages] == [
        (["lead_complainant"], first_at.isoformat()), (["lead_complainant"], None),
        # re-promised: one message naming the old time and the new, to the group, the crew and the hall lead
        (["lead_complainant", "repair_crew", "hall_lead"], second_at.isoformat())]
    assert (messages[2].purpose, messages[2].context["previous_at"]) == ("appointment_changed", first_at.isoformat())
    assert messages[1].context["reason"] == "已找到故障电缆"
    assert len({s.key for s in messages}) == 3, "each promise and update is its own message"
    # only the latest promise is reminded, 30 minutes before it, to the crew and the hall lead
    m.fire_due(first_at - timedelta(minutes=30))
    assert sends(drain(m)) == []
    m.fire_due(second_at - timedelta(minutes=30))
    [reminder] = sends(drain(m))
    assert reminder.recipients == ["repair_crew", "hall_lead"] and reminder.context["appointment_at"] == second_at.isoformat()
    closing = record(m, "restore_power", "restored", second_at, "tang.wei")
    [notice] = [s for s in sends(closing) if s.step == "close"]
    assert notice.recipients == ["hall_lead", "centre_director", "lead_complainant"]
    assert m.state.stage == "follow_up"


def test_the_warning_plan_when_the_group_will_not_leave_reports_progress_until_close():
    m = new_machine(playbook=OUTAGE)
    effects = to_dispatch(m, T0, escalate=True)
    assert m.state.warning_tier == 3
    assert {tuple(s.recipients) for s in sends(effects)} >= {("city_emergency_office",),
                                                           ("emergency_leadership_office",)}
    reports = sends(record(m, "dispatch_repair_crew", "dispatched_urban", T0, "dispatch.duty"))
    assert ["emergency_leadership_office"] in [s.recipients for s in reports]
    record(m, "crew_on_site", "on_site", T0 + timedelta(minutes=40), "tang.wei")
    record(m, "restore_power", "restored", T0 + timedelta(hours=1), "tang.wei")
    assert m.state.warning_tier == 0 and any(e.kind == "warning_plan_ended" for e in m.state.timeline)


def test_single_complaint_contact_within_a_working_day_and_an_opinion_within_seven():
    m = new_machine(playbook=SINGLE)
    assert m.state.headcount == 1
    resolve(m, drain(m))
    assert m.state.steps["contact_customer"].deadline_at == add_working_days(T0, 1)
    now = T0 + timedelta(hours=3)
    effects = record(m, "contact_customer", "contacted", now)
    assert m.state.steps["handling_opinion"].deadline_at == add_working_days(now, 7)
    [started] = sends(effects)
    # the owner (首问负责人: here the hall lead who registered it, one message) and the customer, who hears it was taken up
    assert started.recipients == ["person:sun.li", "hall_lead", "lead_complainant"]


def test_single_complaint_the_agreed_feedback_time_is_told_and_reminded_then_a_refusal_goes_to_the_director():
    m = new_machine(playbook=SINGLE)
    resolve(m, drain(m))
    record(m, "contact_customer", "contacted", T0)
    feedback_at = T0 + timedelta(days=3)
    [told] = sends(record(m, "handling_opinion", "feedback_agreed", T0, feedback_at=feedback_at.isoformat()))
    assert told.recipients == ["lead_complainant"] and told.context["appointment_at"] == feedback_at.isoformat()
    m.fire_due(feedback_at - timedelta(hours=2))
    [reminder] = sends(drain(m))
    assert reminder.recipients == ["person:sun.li", "hall_lead"] and reminder.purpose == "reminder"
    record(m, "handling_opinion", "opinion_ready", feedback_at)
    record(m, "reply_customer", "not_accepted", feedback_at + timedelta(minutes=20), note="要求赔偿")
    assert m.active_steps() == ["director_handles"]
    record(m, "director_handles", "answered", feedback_at + timedelta(days=1), actor="wang.jun")
    follow = m.state.follow_up
    m.fire_due(follow.send_at)
    [survey] = sends(resolve(m, drain(m)))
    assert survey.purpose == "follow_up" and survey.recipients == ["lead_complainant"]
    m.answer_follow_up(RecordFollowUp(score=4, actor="sun.li"), follow.send_at + timedelta(hours=1))
    assert m.state.status == "closed"


def _outage_closed(m, now):
    if "talk_with_lead" not in m.state.steps:
        to_dispatch(m, now)
    else:
        record(m, "talk_with_lead", "understood", now)
    record(m, "dispatch_repair_crew", "dispatched_urban", now, "dispatch.duty")
    record(m, "crew_on_site", "on_site", now + timedelta(minutes=30), "tang.wei")
    record(m, "restore_power", "restored", now + timedelta(hours=1), "tang.wei")


def _single_closed(m, now):
    if "contact_customer" not in m.state.steps or m.state.steps["contact_customer"].status == "active":
        resolve(m, drain(m))
        record(m, "contact_customer", "contacted", now)
    record(m, "handling_opinion", "opinion_ready", now + timedelta(days=1))
    record(m, "reply_customer", "accepted", now + timedelta(days=1, hours=1))


@pytest.mark.parametrize("playbook, handle, again", [(OUTAGE, _outage_closed, "talk_with_lead"),
                                                     (SINGLE, _single_closed, "handling_opinion")],
                         ids=["outage", "single"])
def test_a_dissatisfied_follow_up_reopens_then_a_second_hands_over_to_the_ladder(playbook, handle, again):
    from workflows.machine.record import StartChild

    m = new_machine(playbook=playbook)
    handle(m, T0)
    m.fire_due(m.state.follow_up.send_at)
    resolve(m, drain(m))
    answered = m.state.follow_up.send_at + timedelta(minutes=1)
    m.answer_follow_up(RecordFollowUp(score=2, actor="sun.li", comment="还是不满意"), answered)
    assert m.state.status == "open" and m.state.reopened == 1 and m.state.follow_up is None
    assert m.state.current_steps == [again] and m.state.steps[again].visit == 2, "handled again (seed 004)"
    told = next(s for s in sends(resolve(m, drain(m))) if s.purpose == "reopened")
    assert told.recipients == ["hall_lead"] and told.context["score"] == 2
    handle(m, answered + timedelta(minutes=5))
    assert m.state.stage == "follow_up"
    m.fire_due(m.state.follow_up.send_at)
    [survey] = sends(resolve(m, drain(m)))
    assert survey.key.endswith("/close#2/follow_up/survey"), "a new survey for the second close"
    m.answer_follow_up(RecordFollowUp(score=1, actor="sun.li"), m.state.follow_up.send_at + timedelta(minutes=1))
    (child,) = [e for e in drain(m) if isinstance(e, StartChild)]
    assert (child.spec.playbook, child.spec.parent) == ("dispute-ladder", "close")
    assert m.state.status == "closed" and m.state.resolution == "handed over to dispute-ladder: inc-1-c1"
