"""Closed incidents are archived by the workflow's last activity, once, with what happened in them."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from sqlalchemy import select
from temporalio.testing import ActivityEnvironment
from typer.testing import CliRunner

from helpers import answer_follow_up, decide, outcome, running_worker, settle, skip, start, state, through_talk
from activities.archive import ArchiveActivities
from groupdesk.record.repeat_keys import complainant_key
from groupdesk.cli import app
from groupdesk.core.models import ArchiveIncident
from groupdesk.storage import open_database
from groupdesk.storage.schema import archive_records, archive_steps
from groupdesk.core.workcal import add_working_days


async def test_closed_incidents_are_archived_once_with_their_path_timings_and_outcome(skipping_env, settings,
                                                                                      make_start):
    env = skipping_env
    first, second = make_start(), make_start(lead_phone="13900139000")
    async with running_worker(env, settings):
        # 1: the first two steps run 16 minutes (deadline 5m, escalation 10m after), the talk is accepted,
        #    the follow-up is answered with 5
        a = await start(env, settings, first)
        await skip(env, timedelta(minutes=16), a)
        await through_talk(a)
        await outcome(a, "talk_with_lead", "accepted", "sun.li")
        closed = (await state(a)).timeline[-1].at
        await skip(env, add_working_days(closed, 1) - closed + timedelta(minutes=1), a)
        await answer_follow_up(a, 5)
        a_final = await a.result()
        # 2: the director approves the tier-3 plan, the technicians explain, nobody answers the follow-up
        b = await start(env, settings, second)
        await through_talk(b)
        await outcome(b, "talk_with_lead", "not_accepted", "sun.li")
        await settle(env, b)
        await decide(b, "wang.jun")
        await outcome(b, "metering_explanation", "accepted", "feng.tao")
        b_final = await b.result()  # skips the clock to the follow-up's expiry
    assert a_final.follow_up.outcome == "answered" and b_final.follow_up.outcome == "expired"

    db = open_database(settings)
    with db.read() as c:
        rows = [dict(r) for r in c.execute(select(archive_records).order_by(archive_records.c.seq)).mappings()]
        steps = [dict(r) for r in c.execute(select(archive_steps).where(archive_steps.c.incident_id == a.id)
                                            .order_by(archive_steps.c.position)).mappings()]
    assert [r["incident_id"] for r in rows] == [a.id, b.id]
    ra, rb = rows
    assert (ra["deadlines_missed"], ra["escalations"], ra["warning_tier"]) == (2, 2, 0)
    assert (ra["follow_up"], ra["satisfaction"]) == ("answered", 5)
    assert (rb["deadlines_missed"], rb["escalations"], rb["warning_tier"]) == (0, 0, 3)
    assert (rb["follow_up"], rb["satisfaction"]) == ("expired", None)
    assert ra["complainant_key"] == complainant_key(settings.hash_key(), "+8613800138000")
    assert ra["playbook"] == "smart-meter-group-complaint" and ra["playbook_version"] == 2
    assert [(s["step"], s["outcome"], s["actor"], s["deadline_missed"], s["escalations"]) for s in steps] == [
        ("move_to_vip_room", "done", "zhao.min", 1, 1), ("keep_order", "done", "qian.lei", 1, 1),
        ("talk_with_lead", "accepted", "sun.li", 0, 0), ("close", "resolved", None, 0, 0)]
    assert 16 * 60 <= steps[0]["seconds"] < 16 * 60 + 5 and steps[2]["seconds"] < 5
    record_b = json.loads(rb["record"])
    assert record_b["path"] == ["move_to_vip_room", "keep_order", "talk_with_lead", "director_review",
                                "metering_explanation", "close"]
    assert {"step": "director_review", "visit": 1} not in record_b["deadlines_missed"]
    director = next(s for s in record_b["steps"] if s["step"] == "director_review")
    assert (director["outcome"], director["actor"]) == ("approved", "wang.jun")
    assert {"person": "wang.jun", "role": "centre_director"} in record_b["responsible"]["people"]
    record_a = json.loads(ra["record"])
    assert [(e["step"], e["level"], e["role"]) for e in record_a["escalations"]] == [
        ("move_to_vip_room", 1, "hall_lead"), ("keep_order", 1, "hall_lead")]
    for row in rows:  # no phone and no name of the complainant in clear
        assert "138001" not in row["record"] and "139001" not in row["record"] and "张建国" not in row["record"]

    # a retried activity finds the record and writes nothing
    acts = ArchiveActivities(db, settings.hash_key())
    run_id = a.result_run_id
    again = ActivityEnvironment().run(acts.archive_incident, ArchiveIncident(
        start=first, state=a_final, run_id=run_id))
    assert again == ra["seq"]
    with db.read() as c:
        assert len(c.execute(select(archive_records.c.seq)).all()) == 2

    env_vars = {"GROUPDESK_DATA_DIR": str(settings.data_dir), "GROUPDESK_DIRECTORY": str(settings.directory)}
    verified = CliRunner().invoke(app, ["archive", "verify"], env=env_vars)
    assert verified.exit_code == 0 and "archive intact: 2 records" in verified.output
    exported = CliRunner().invoke(app, ["archive", "export", "--from", ra["started_on"], "--to", rb["started_on"]],
                                  env=env_vars)
    assert exported.exit_code == 0
    table = list(csv.DictReader(io.StringIO(exported.output)))
    assert [(r["incident_id"], r["satisfaction"], r["follow_up"]) for r in table] == [
        (a.id, "5", "answered"), (b.id, "", "expired")]
    assert table[0]["path"] == "move_to_vip_room > keep_order > talk_with_lead > close"
    assert (table[0]["channel"], table[0]["ticket_no"]) == ("visit", "")  # came in at the hall, no work order
    bad = CliRunner().invoke(app, ["archive", "export", "--from", "2026-13-01", "--to", "2026-12-01"], env=env_vars)
    assert bad.exit_code == 2 and "--from: '2026-13-01' is not a date; use YYYY-MM-DD" in bad.output
