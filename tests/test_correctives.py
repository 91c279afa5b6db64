"""Corrective actions (整改): each its own workflow, reminded at 80 %, escalated up the chain when missed, done by its
owner, verified or sent back by the director, archived as its own row in the same hash chain."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from helpers import running_worker, setup_for, skip
from groupdesk.core import search_attributes as sa
from groupdesk.core.corrective import CorrectiveDone, CorrectiveVerify, StartCorrective
from groupdesk.incidents.correctives import resolve_due
from groupdesk.messaging.outbox import Outbox
from groupdesk.record.chain import verify
from groupdesk.record.report import build_report
from groupdesk.storage import open_database
from groupdesk.storage.schema import archive_records
from workflows.corrective import CorrectiveActionWorkflow as WF
from workflows.machine.corrective import CorrectiveMachine

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
CHAIN = ["centre_director", "city_emergency_office"]


def make(made_at=T0, due=timedelta(hours=10), **kw) -> StartCorrective:
    args = dict(id="xicheng-20261201-abc123-c1", incident_id="xicheng-20261201-abc123", hall_id="xicheng",
                hall_name="西城营业厅", what="更换故障表计并复核电量", owner="sun.li", owner_name="孙丽",
                owner_role="hall_lead", made_by="sun.li", made_at=made_at, due_at=made_at + due, chain=CHAIN,
                grace_seconds=600, directors=["wang.jun"])
    args.update(kw)
    return StartCorrective(**args)


# ---- the machine (pure) ----------------------------------------------------------------------------------------

def test_reminder_at_80_percent_then_missed_then_each_rung_once():
    m = CorrectiveMachine(make())
    assert m.next_due() == T0 + timedelta(hours=8)
    assert m.fire_due(T0 + timedelta(hours=7)) == []
    sent = m.fire_due(T0 + timedelta(hours=8))
    assert [(r.purpose, r.recipients) for r in sent] == [("corrective_reminder", ["person:sun.li"])]
    assert m.fire_due(T0 + timedelta(hours=9)) == [] and m.next_due() == T0 + timedelta(hours=10)
    sent = m.fire_due(T0 + timedelta(hours=10))
    assert [(r.purpose, r.recipients) for r in sent] == [("corrective_missed", ["person:sun.li"]),
                                                        ("corrective_missed", ["centre_director"])]
    assert m.state.overdue(T0 + timedelta(hours=10))
    sent = m.fire_due(T0 + timedelta(hours=10, minutes=10))
    assert [(r.purpose, r.recipients) for r in sent] == [("corrective_missed", ["city_emergency_office"])]
    assert m.next_due() is None and m.fire_due(T0 + timedelta(days=3)) == []
    assert len({r.key for r in [*sent]}) == 1


def test_done_stops_the_timers_a_rejection_sends_it_back_and_verification_tells_owner_and_opener():
    m = CorrectiveMachine(make(made_by="wang.jun"))
    m.done(CorrectiveDone(actor="sun.li", note="已更换"), T0 + timedelta(hours=1))
    assert m.next_due() is None and m.fire_due(T0 + timedelta(hours=11)) == []
    (back,) = m.verify(CorrectiveVerify(actor="wang.jun", decision="reject", reason="缺少复核记录"), T0 + timedelta(hours=2))
    assert (back.purpose, back.recipients, back.context["reason"]) == ("corrective_rejected", ["person:sun.li"],
                                                                       "缺少复核记录")
    assert m.state.status == "open" and m.next_due() == T0 + timedelta(hours=8)
    m.done(CorrectiveDone(actor="sun.li", note="已补复核记录"), T0 + timedelta(hours=3))
    (told,) = m.verify(CorrectiveVerify(actor="wang.jun"), T0 + timedelta(hours=4))
    assert (told.purpose, told.recipients) == ("corrective_verified", ["person:sun.li", "person:wang.jun"])
    assert m.state.status == "verified" and m.state.rejections == 1


def test_the_due_time_is_written_as_for_promises_scaled_in_drills_and_never_past_or_beyond_90_days():
    now = T0
    assert resolve_due("2h", now) == now + timedelta(hours=2)
    assert resolve_due("2h", now, time_scale=60) == now + timedelta(minutes=2)
    assert resolve_due("2026-12-05 17:00", now) == datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="in the past"):
        resolve_due("2026-11-30 17:00", now)
    with pytest.raises(ValueError, match="more than 90 days"):
        resolve_due("2027-06-30 17:00", now)


# ---- the workflow on the time-skipping server ------------------------------------------------------------------

async def refused(update, text: str) -> None:
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await update
    assert text in str(err.value.cause)


async def _start(env, settings, start: StartCorrective):
    return await env.client.start_workflow(
        WF.run, start, id=start.id, task_queue=settings.task_queue,
        search_attributes=TypedSearchAttributes([SearchAttributePair(sa.HALL, start.hall_id), SearchAttributePair(sa.STATUS, "open")]))


async def test_reminded_escalated_across_a_worker_restart_sent_back_then_verified_and_archived(skipping_env, tmp_path):
    env = skipping_env
    # no sticky cache: a stopped worker's sticky queue would otherwise hold the next task (and the server's clock)
    settings = setup_for(tmp_path / "data", GROUPDESK_MAX_CACHED_WORKFLOWS="0").settings
    now = await env.get_current_time()
    start = make(made_at=now, due=timedelta(hours=10))
    async with running_worker(env, settings):
        handle = await _start(env, settings, start)
        await skip(env, timedelta(hours=8, minutes=1), handle)
        st = await handle.query(WF.state)
        assert st.reminded and st.missed_at is None
        assert await handle.query(WF.wakes_at) == start.due_at, "its timer now waits for the due time"
    # the worker is gone while the due time and the first rung pass: the durable timer fires on the next one
    async with running_worker(env, settings):
        await skip(env, timedelta(hours=2, minutes=15), handle)
        st = await handle.query(WF.state)
        assert st.missed_at is not None and st.escalation_level == 2
        await refused(handle.execute_update(WF.done, CorrectiveDone(actor="qian.lei", note="x")), "only its owner")
        await refused(handle.execute_update(WF.verify, CorrectiveVerify(actor="wang.jun")), "records it done first")
        await handle.execute_update(WF.done, CorrectiveDone(actor="sun.li", note="已更换表计"))
        await refused(handle.execute_update(WF.verify, CorrectiveVerify(actor="sun.li")), "only the centre director")
        st = await handle.execute_update(WF.verify, CorrectiveVerify(actor="wang.jun", decision="reject",
                                                                       reason="缺少复核记录"))
        assert st.status == "open" and st.rejections == 1
        await handle.execute_update(WF.done, CorrectiveDone(actor="sun.li", note="已补复核记录"))
        await handle.execute_update(WF.verify, CorrectiveVerify(actor="wang.jun"))
        final = await handle.result()
    assert final.status == "verified" and final.verified_by == "wang.jun"
    sent = sorted((m.purpose, m.recipient) for m in Outbox(settings).list(incident_id=start.id))
    assert sent == [("corrective_missed", "emergency.duty"), ("corrective_missed", "sun.li"),
                    ("corrective_missed", "wang.jun"), ("corrective_rejected", "sun.li"),
                    ("corrective_reminder", "sun.li"), ("corrective_verified", "sun.li")]
    db = open_database(settings)
    with db.read() as c:
        (archived,) = c.execute(archive_records.select()).mappings().all()
    assert (archived["kind"], archived["incident_id"], archived["repeat_of"]) == ("corrective", start.id,
                                                                                 start.incident_id)
    assert verify(db, settings.hash_key()).intact
    day = now.date()
    assert build_report(db, day, day + timedelta(days=1), drills=True)["totals"]["incidents"] == 0


# ---- frequent-outage lines: the counting rule (pure) -----------------------------------------------------------

from groupdesk.core.lines import count_at_start, feeder_problem, normalise_feeder  # noqa: E402
from groupdesk.incidents.lines import line_rows  # noqa: E402

DAY = timedelta(days=1)


def test_line_names_are_normalised_and_only_outage_incidents_name_one():
    assert normalise_feeder(" １０ｋＶ 杨柳线 ") == normalise_feeder("10kV杨柳线") == "10KV杨柳线"
    assert feeder_problem("10kV杨柳线", "outage") is None and feeder_problem("", "service") is None
    assert "only an outage incident" in feeder_problem("10kV杨柳线", "service")
    assert "not a line's name" in feeder_problem("10kV/杨柳线", "outage")


def test_the_first_second_and_third_outage_on_a_line_within_12_months():
    now = T0
    first = count_at_start([], now)
    assert (first.outages, first.status, first.alert) == (1, "none", "")
    second = count_at_start([now - 30 * DAY], now)
    assert (second.outages, second.status, second.alert) == (2, "warning", "warning")
    third = count_at_start([now - 60 * DAY, now - 30 * DAY], now)
    assert (third.outages, third.status, third.alert) == (3, "study", "study")
    fourth = count_at_start([now - 90 * DAY, now - 60 * DAY, now - 30 * DAY], now)
    assert (fourth.status, fourth.alert) == ("study", ""), "the study is opened once, at the 3rd"


def test_outside_12_months_is_not_counted_and_within_24_hours_is_one_outage():
    now = T0
    assert count_at_start([now - 366 * DAY], now).outages == 1
    merged = count_at_start([now - 30 * DAY, now - timedelta(hours=23)], now)
    assert (merged.outages, merged.new_outage, merged.alert) == (2, False, ""), "the same outage: no second warning"
    chained = count_at_start([now - timedelta(hours=47), now - timedelta(hours=25)], now)
    assert chained.outages == 2, "24 hours from each outage's first incident, not from the last"


def test_lines_list_each_line_with_its_outages_status_and_incidents():
    now = T0
    rows = [("L1", "a", now - 30 * DAY), ("L1", "b", now), ("L1", "c", now + timedelta(hours=2)),
            ("L2", "d", now - 60 * DAY), ("L2", "e", now - 30 * DAY), ("L2", "f", now), ("L3", "g", now)]
    listed = line_rows(rows)
    assert [(r["feeder"], r["outages_12m"], r["status"]) for r in listed] == [("L2", 3, "study"), ("L1", 2, "warning"),
                                                                            ("L3", 1, "none")]
    assert listed[1]["incidents"] == ["a", "b", "c"]
    assert [r["feeder"] for r in line_rows(rows, on_warning=True)] == ["L2", "L1"]


def test_a_corrective_row_shares_the_chain_and_passing_it_off_as_an_incident_is_caught(settings, database_url):
    from sqlalchemy import text

    from groupdesk.storage import Database

    from groupdesk.record.archive_record import corrective_record
    from groupdesk.record.chain import append
    from groupdesk.record.query import records

    m = CorrectiveMachine(make(made_by="wang.jun"))
    m.done(CorrectiveDone(actor="sun.li", note="已更换"), T0 + timedelta(hours=1))
    m.verify(CorrectiveVerify(actor="wang.jun"), T0 + timedelta(hours=2))
    db, key = Database(database_url), settings.hash_key()
    seq, new = append(db, key, corrective_record(m.start, m.state, "run-1"))
    assert new and append(db, key, corrective_record(m.start, m.state, "run-1")) == (seq, False), "written once"
    day = T0.date()
    assert records(db, day, day) == [] and build_report(db, day, day, drills=True)["totals"]["incidents"] == 0
    assert verify(db, key).intact
    with db.write() as c:
        c.execute(text("UPDATE archive_records SET kind = 'incident'"))
    assert [p.split(": ")[1] for p in verify(db, key).problems] == ["altered"]


def test_an_amended_registration_keeps_the_line_among_the_keys_that_find_the_incident():
    from groupdesk.core.amend import AmendRegistration
    from groupdesk.incidents.amend import amend_keys
    from machine_helpers import new_machine

    m = new_machine()
    m.state.registration = m.state.registration.model_copy(update={"category": "outage", "feeder": "10KV杨柳线"})
    keys = amend_keys(b"k" * 32, m.state, AmendRegistration(actor="sun.li", reason="户号听错", account_no="3200222222"))
    assert "feeder:10KV杨柳线" in keys.repeat_keys and len(keys.repeat_keys) == 2
