"""Times that make sense (issue 28): an agreed, promised or appointment time in the past or more than 90 days ahead
is refused naming the field, the same time again is refused as "no change", and a different time is one message
naming the old time and the new. The one rule (groupdesk.core.times) through the workflow's validators, the
gateway's checks and the pure machine; no Temporal server."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from temporalio.exceptions import ApplicationError

from groupdesk.core.models import PromiseChange, RecordOutcome
from groupdesk.core.times import AHEAD_MAX, time_problem
from groupdesk.core.validation import InputError
from groupdesk.incidents.times import check_outcome_times, check_promise_due
from groupdesk.playbooks.loader import load_playbook
from groupdesk.runtime.config import REPO_ROOT
from groupdesk.web.event_words import event_text
from machine_helpers import DIRECTORY, T0, drain, new_machine, no_temporal_server, outcome, resolve, sends, text  # noqa: F401
from workflows import checks, promise_checks

MIN = timedelta(minutes=1)
OUTAGE = load_playbook(REPO_ROOT / "playbooks" / "outage-group-complaint.yaml")


def test_the_rule_refuses_past_far_and_unchanged_times_and_takes_the_rest():
    soon = T0 + timedelta(hours=2)
    assert time_problem(soon, T0) is None
    assert time_problem(T0 + AHEAD_MAX, T0) is None  # 90 days to the minute is still near enough
    assert time_problem(T0, T0) == "2026-11-23 10:00 has passed; give a time in the future"
    assert time_problem(T0 - timedelta(days=4), T0).startswith("2026-11-19 10:00 has passed")
    assert time_problem(T0 + AHEAD_MAX + MIN, T0) == "2027-02-21 10:01 is more than 90 days ahead; give a nearer time"
    assert "no change" in time_problem(soon, T0, before=soon)
    assert time_problem(soon, T0, before=soon + MIN) is None  # a different time: a re-promise
    assert "no UTC offset" in time_problem(datetime(2026, 11, 24, 10, 0), T0)


def restoring():
    """An outage incident at its restoration step (the 5 December case of the issue)."""
    m = new_machine(playbook=OUTAGE)
    drain(m)
    for step, name in [("move_to_vip_room", "done"), ("keep_order", "done"), ("talk_with_lead", "understood"),
                       ("dispatch_repair_crew", "dispatched_urban"), ("crew_on_site", "on_site")]:
        outcome(m, step, name, T0, actor="sun.li")
    assert m.active_steps() == ["restore_power"]
    return m


def promise_restore(at: datetime) -> RecordOutcome:
    return RecordOutcome(step="restore_power", outcome="restore_promised", actor="sun.li",
                         data={"restore_at": at.isoformat()})


@pytest.mark.parametrize("at, says", [
    (T0 - timedelta(days=4), "restore_at: 2026-11-19 10:00 has passed; give a time in the future"),
    (T0 + timedelta(days=91), "restore_at: 2027-02-22 10:00 is more than 90 days ahead"),
])
def test_a_past_or_far_restoration_time_is_refused_by_the_validator_and_the_gateway(at, says):
    m = restoring()
    with pytest.raises(ApplicationError, match=says):
        checks.check_outcome(m, promise_restore(at), T0 + MIN)
    with pytest.raises(InputError) as refused:
        check_outcome_times(m.state, m.pb, promise_restore(at), T0 + MIN)
    assert f"data.{says}".startswith(str(refused.value).split(";")[0])
    assert m.state.appointments == [] and drain(m) == []  # nothing recorded, nothing sent


def test_the_same_time_again_is_no_change_and_a_new_time_is_one_message_with_both():
    m = restoring()
    first, later = T0 + timedelta(hours=3), T0 + timedelta(hours=5)
    checks.check_outcome(m, promise_restore(first), T0 + MIN)
    m.record_outcome(promise_restore(first), T0 + MIN)
    (told,) = sends(resolve(m, drain(m)))
    assert (told.purpose, told.recipients) == ("progress_report", ["lead_complainant"])
    # the same time again: refused as no change, at both doors, and nobody is texted the same message twice
    with pytest.raises(ApplicationError, match="restore_at: 2026-11-23 13:00 is the time already recorded: no change"):
        checks.check_outcome(m, promise_restore(first), T0 + 2 * MIN)
    with pytest.raises(InputError, match="data.restore_at: .* no change"):
        check_outcome_times(m.state, m.pb, promise_restore(first), T0 + 2 * MIN)
    # a different time: a re-promise, ONE message to everyone the time concerns, naming the old and the new
    checks.check_outcome(m, promise_restore(later), T0 + 2 * MIN)
    check_outcome_times(m.state, m.pb, promise_restore(later), T0 + 2 * MIN)
    m.record_outcome(promise_restore(later), T0 + 2 * MIN)
    (moved,) = sends(resolve(m, drain(m)))
    assert moved.purpose == "appointment_changed" and moved.key.endswith("/outcome-restore_promised-2")
    assert moved.recipients == ["lead_complainant", "repair_crew", "hall_lead"]
    body = text(moved, "lead_complainant")
    assert "11月23日 13:00" in body and "11月23日 15:00" in body and body.index("13:00") < body.index("15:00")
    assert "from 23 Nov 13:00 to 23 Nov 15:00" in text(moved, "hall_lead", "en")
    entry = m.state.timeline[-1]
    assert "(was 2026-11-23T05:00:00+00:00)" in entry.detail
    assert event_text(entry, m.pb, DIRECTORY, "zh-CN") == "已承诺复电时间 — 承诺复电时间 11月23日 15:00(原定 11月23日 13:00)"
    assert event_text(entry, m.pb, DIRECTORY, "en") == \
        "restoration time promised — restoration time 23 Nov 15:00 (was 23 Nov 13:00)"
    # only the new time is reminded, once, half an hour before it
    m.fire_due(first - 30 * MIN)
    assert [e for e in drain(m) if "/appointment" in e.key] == []
    m.fire_due(later - 30 * MIN)
    (reminder,) = [e for e in drain(m) if "/appointment" in e.key]
    assert reminder.purpose == "reminder" and reminder.context["appointment_at"] == later.isoformat()


def test_adjourning_to_a_past_time_is_refused_naming_agreed_at():
    m = new_machine()
    drain(m)
    outcome(m, "move_to_vip_room", "done", T0)
    outcome(m, "keep_order", "done", T0)
    past = RecordOutcome(step="talk_with_lead", outcome="adjourned", actor="sun.li",
                         data={"agreed_at": (T0 - timedelta(hours=1)).isoformat()})
    with pytest.raises(ApplicationError, match="agreed_at: 2026-11-23 09:00 has passed"):
        checks.check_outcome(m, past, T0)


def promised(m, due: str, now=T0) -> None:
    req = PromiseChange(kind="add", actor="sun.li", what="今天17:00前回电", owner="sun.li", owner_role="hall_lead",
                        due=due)
    promise_checks.check_promise(m, req, now)
    m.change_promises(req, now)


@pytest.mark.parametrize("due, says", [
    ("2026-11-22T10:00+08:00", "due: 2026-11-22 10:00 has passed"),
    ("2027-03-01T10:00+08:00", "due: 2027-03-01 10:00 is more than 90 days ahead"),
])
def test_a_promise_due_in_the_past_or_too_far_is_refused_at_both_doors(due, says):
    m = new_machine()
    req = PromiseChange(kind="add", actor="sun.li", what="回电", owner="sun.li", owner_role="hall_lead", due=due)
    with pytest.raises(ApplicationError, match=says):
        promise_checks.check_promise(m, req, T0)
    with pytest.raises(InputError, match=says):
        check_promise_due(m.state, req, T0)


def test_a_re_promise_to_the_same_time_is_no_change_and_to_another_names_both():
    m = new_machine()
    drain(m)
    promised(m, "2026-11-23T17:00+08:00")
    drain(m)
    same = PromiseChange(kind="change", actor="sun.li", promise="p1", due="2026-11-23T17:00+08:00", note="再确认")
    with pytest.raises(ApplicationError, match="due: 2026-11-23 17:00 is the time already recorded: no change"):
        promise_checks.check_promise(m, same, T0 + MIN)
    with pytest.raises(InputError, match="no change"):
        check_promise_due(m.state, same, T0 + MIN)
    moved = same.model_copy(update={"due": "2026-11-24T12:00+08:00", "note": "需要调取计量数据"})
    promise_checks.check_promise(m, moved, T0 + MIN)
    m.change_promises(moved, T0 + MIN)
    (told,) = [e for e in sends(resolve(m, drain(m))) if e.purpose == "promise_changed"]
    body = text(told, "lead_complainant")
    assert "由 11月23日 17:00 调整为 11月24日 12:00" in body and "需要调取计量数据" in body
    assert "moves from 23 Nov 17:00 to 24 Nov 12:00" in text(told, "lead_complainant", "en")
