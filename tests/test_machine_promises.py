"""Promises in the pure machine (合理承诺,有诺必行): the owner reminded at 80 % of the time, a miss told to the owner
and escalated up the playbook's chain, keeping and re-promising told to the complainant, closing refused while
a promise is open until the centre director waives it. No Temporal server: `now` is passed in by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError

from groupdesk.core.models import DecideApproval, PromiseChange, RecordOutcome
from machine_helpers import T0, drain, new_machine, no_temporal_server, outcome, resolve, sends, unfounded  # noqa: F401
from workflows import checks, promise_checks
from workflows.machine import timers
from workflows.machine.record import ResolveWorkingDays

MIN = timedelta(minutes=1)


def promised(m, now=T0, due="30m", owner="sun.li", role="hall_lead", what="明天17:00前反馈校验结果", **more):
    req = PromiseChange(kind="add", actor="sun.li", what=what, owner=owner, owner_role=role, due=due, **more)
    promise_checks.check_promise(m, req, now)
    return m.change_promises(req, now)


def change(m, now, kind, promise="p1", actor="sun.li", **more):
    req = PromiseChange(kind=kind, actor=actor, promise=promise, **more)
    promise_checks.check_promise(m, req, now)
    m.change_promises(req, now)
    return [e for e in resolve(m, drain(m)) if e.purpose.startswith("promise_")]


def fire(m, now):
    m.fire_due(now)
    return [(e.purpose, e.recipients, e.key.rpartition("/")[2]) for e in sends(resolve(m, drain(m)))
            if e.purpose.startswith("promise_")]


def test_the_owner_is_reminded_at_80_percent_and_a_miss_climbs_the_chain():
    m = new_machine()
    drain(m)
    assert promised(m) == "p1"
    p = m.state.promises[0]
    assert (p.due_at, p.remind_at, p.step, p.to) == (T0 + 30 * MIN, T0 + 24 * MIN, "move_to_vip_room",
                                                      "lead_complainant")
    assert [d.kind for d in timers.upcoming(m) if d.promise] == ["promise_reminder"]
    assert fire(m, T0 + 23 * MIN) == []
    assert fire(m, T0 + 24 * MIN) == [("promise_reminder", ["person:sun.li"], "p1-c0")]
    assert fire(m, T0 + 29 * MIN) == []
    # Due and not kept: missed; the owner is told, and the role above the owner's (hall lead -> director) at once.
    assert fire(m, T0 + 30 * MIN) == [("promise_missed", ["person:sun.li"], "p1-c0"),
                                      ("promise_missed", ["centre_director"], "p1-c0-level1")]
    assert (p.status, p.missed_at) == ("missed", T0 + 30 * MIN)
    # Each grace (10m) later the next rung up: the director's chain goes to the city emergency office.
    assert fire(m, T0 + 40 * MIN) == [("promise_missed", ["city_emergency_office"], "p1-c0-level2")]
    assert fire(m, T0 + 90 * MIN) == []  # the top of the chain: nothing more
    kinds = [e.kind for e in m.state.timeline if e.kind.startswith("promise")]
    assert kinds == ["promise_made", "promise_reminder", "promise_missed", "promise_escalation", "promise_escalation"]


def test_keeping_tells_the_complainant_and_stops_the_timers():
    m = new_machine()
    drain(m)
    promised(m)
    sent = change(m, T0 + 10 * MIN, "kept", note="已电话告知")
    assert [(e.purpose, e.recipients, e.lead is not None) for e in sent] == [("promise_kept", ["lead_complainant"], True)]
    assert sent[0].context["what"] == "明天17:00前反馈校验结果" and sent[0].context["note"] == "已电话告知"
    p = m.state.promises[0]
    assert (p.status, p.resolved_by, p.resolved_at) == ("kept", "sun.li", T0 + 10 * MIN)
    assert fire(m, T0 + 60 * MIN) == [] and not [d for d in timers.upcoming(m) if d.promise]
    with pytest.raises(ApplicationError, match="already kept"):
        change(m, T0 + 11 * MIN, "kept")


def test_a_missed_promise_kept_late_and_a_re_promise_tell_the_complainant_the_new_time():
    m = new_machine()
    drain(m)
    promised(m, owner="zhao.min", role="guide")
    fire(m, T0 + 30 * MIN)
    assert m.state.promises[0].status == "missed"
    sent = change(m, T0 + 35 * MIN, "change", due="1h", note="计量局排期")
    p = m.state.promises[0]
    assert (p.status, p.due_at, p.changes, p.escalation_level) == ("open", T0 + 95 * MIN, 1, 0)
    assert [(e.purpose, e.recipients, e.key.rpartition("/")[2]) for e in sent] == [
        ("promise_changed", ["lead_complainant"], "p1-c1")]
    assert sent[0].context["deadline"] == (T0 + 95 * MIN).isoformat() and sent[0].context["note"] == "计量局排期"
    assert fire(m, T0 + 83 * MIN) == [("promise_reminder", ["person:zhao.min"], "p1-c1")]  # a fresh reminder
    change(m, T0 + 84 * MIN, "kept", actor="zhao.min")
    assert m.state.promises[0].missed_at == T0 + 30 * MIN  # kept late: the miss stays on record
    assert "p1 (late)" in m.state.timeline[-1].detail


def test_a_due_in_working_days_is_counted_on_the_calendar_and_a_drill_scales_durations():
    m = new_machine()
    drain(m)
    promised(m, due="2wd")
    [request] = [e for e in drain(m) if isinstance(e, ResolveWorkingDays)]
    assert (request.target, request.step, request.working_days) == ("promise", "p1", 2)
    assert m.state.promises[0].due_at is None
    resolve(m, [request])
    assert m.state.promises[0].due_at == T0 + timedelta(days=2)  # Monday 10:00 -> Wednesday 10:00
    drill = new_machine(time_scale=60)
    drain(drill)
    promised(drill, due="30m")
    assert drill.state.promises[0].due_at == T0 + timedelta(seconds=30)


def test_closing_is_refused_while_a_promise_is_open_until_the_director_waives_it():
    m = new_machine()
    drain(m)
    outcome(m, "move_to_vip_room", "done", T0)
    outcome(m, "keep_order", "done", T0)
    promised(m, T0 + MIN)
    promised(m, T0 + MIN, due="2026-11-23T18:00+08:00", what="今晚6点前回电")
    unfounded(m, T0 + MIN)  # the close's finding is there: the promises alone keep it open
    accept = RecordOutcome(step="talk_with_lead", outcome="accepted", actor="sun.li")
    with pytest.raises(ApplicationError, match=r"2 promise\(s\) .* are not kept \(p1, p2\)"):
        checks.check_outcome(m, accept, T0)
    change(m, T0 + 2 * MIN, "kept", promise="p1")
    with pytest.raises(ApplicationError, match="may not waive"):  # only the centre director waives
        change(m, T0 + 3 * MIN, "waive", promise="p2", note="客户撤回")
    with pytest.raises(ApplicationError, match="reason"):
        change(m, T0 + 3 * MIN, "waive", promise="p2", actor="wang.jun")
    change(m, T0 + 3 * MIN, "waive", promise="", actor="wang.jun", note="客户当场表示不需要回电")  # every open one
    assert [(p.id, p.status) for p in m.state.promises] == [("p1", "kept"), ("p2", "waived")]
    checks.check_outcome(m, accept, T0)  # now it may close
    from groupdesk.record.archive_record import build_record

    record = build_record(m.start, m.state, "run-1", b"k" * 32)  # (issue 16's report reads these from the archive)
    assert record["promises"] == {"made": 2, "kept": 1, "kept_late": 0, "missed": 0, "waived": 1}
    outcome(m, "talk_with_lead", "accepted", T0 + 4 * MIN)
    assert m.state.stage == "follow_up"
    with pytest.raises(ApplicationError, match="resolved"):
        promised(m, T0 + 5 * MIN)


def test_an_approval_leading_to_the_close_is_refused_too():
    from machine_helpers import to_director

    m = new_machine()
    to_director(m)
    promised(m, T0 + MIN)
    wanted = m.pb.steps["director_review"].outcomes
    closing = [name for name, o in wanted.items() if m.pb.steps[o.next].kind == "close"]
    for name in closing:  # (the shipped playbook's decisions lead on to the explanation, never straight to close)
        with pytest.raises(ApplicationError, match="not kept"):
            checks.check_approval(m, DecideApproval(decision="approve" if name == "approved" else "reject",
                                                    actor="wang.jun", reason="x"))


@pytest.mark.parametrize("fields, message", [
    (dict(what=" "), "what: say what was promised"),
    (dict(what="x" * 501), "what: 501 characters is too long"),
    (dict(due="soon"), "due: 'soon' is not a due time"),
    (dict(due="2026-11-22T10:00+08:00"), "due: .* has passed"),
    (dict(due="91d"), "due: .*too long"),
    (dict(owner="Nobody!"), "owner: 'Nobody!' is not a staff id"),
    (dict(owner="zhou.jie", role=None), "owner: 'zhou.jie' holds no role at hall xicheng"),
    (dict(owner="qian.lei", role="security_guard", involved="qian.lei"), "owner: 'qian.lei' is the staff member"),
])
def test_bad_promises_are_refused_and_nothing_is_recorded(fields, message):
    m = new_machine()
    drain(m)
    args = dict(due="30m", owner="sun.li", role="hall_lead", what="反馈结果")
    args.update(fields)
    m.state.registration.person_involved = args.pop("involved", "")
    with pytest.raises(ApplicationError, match=message):
        promised(m, **args)
    assert m.state.promises == [] and not drain(m)
