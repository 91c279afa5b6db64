"""Promises in the report and the accountability ledger (issue 16): kept, kept late, missed and waived, summed
by SQL from the archive's columns, checked against promises the interpreter kept, missed and waived here."""

from __future__ import annotations

import json
from datetime import date, timedelta

from typer.testing import CliRunner

from conftest import utc
from groupdesk.record.chain import append, verify
from groupdesk.record.ledger import build_ledger
from groupdesk.record.archive_record import build_record
from groupdesk.record.report import build_report
from groupdesk.cli import app
from groupdesk.core.models import PromiseChange
from groupdesk.storage import Database
from workflows import promise_checks
from workflows.machine.incident import IncidentMachine

KEY = b"k" * 40
MIN = timedelta(minutes=1)


def promise(m, now, kind, actor="sun.li", **fields):
    req = PromiseChange(kind=kind, actor=actor, **fields)
    promise_checks.check_promise(m, req, now)
    m.change_promises(req, now)


def closed(make_start, n: int, hall: str, lead: str, drive) -> dict:
    start = make_start(hall_id=hall, started_by=lead, lead_phone=f"1390013900{n}", incident_id=f"pr-{n}")
    t0 = utc(2026, 11, 16 + n, 2, 0)
    m = IncidentMachine.new(start, t0)
    drive(m, t0)
    m.take_effects()
    m.finish("move_to_vip_room", "done", lead, "", t0 + 90 * MIN)
    m.finish("keep_order", "done", lead, "", t0 + 90 * MIN)
    m.finish("talk_with_lead", "accepted", lead, "", t0 + 95 * MIN)
    m.close_incident(t0 + timedelta(days=1), "closed without follow-up")
    return build_record(start, m.state, "run", KEY)


def kept_and_late(m, t0):  # p1 kept on time; p2 missed at 30 minutes, kept an hour in
    promise(m, t0, "add", what="十分钟内回电", owner="sun.li", owner_role="hall_lead", due="1h")
    promise(m, t0, "add", what="半小时内答复", owner="sun.li", owner_role="hall_lead", due="30m")
    promise(m, t0 + 10 * MIN, "kept", promise="p1")
    m.fire_due(t0 + 30 * MIN)
    promise(m, t0 + 60 * MIN, "kept", promise="p2")


def missed_and_waived(m, t0):  # p1 missed at 30 minutes, then waived by the director
    promise(m, t0, "add", actor="wu.fang", what="半小时内答复", owner="wu.fang", owner_role="hall_lead", due="30m")
    m.fire_due(t0 + 30 * MIN)
    promise(m, t0 + 40 * MIN, "waive", actor="wang.jun", promise="p1", note="客户改为书面答复")


async def test_the_report_and_the_ledger_count_the_promises_kept_and_missed(database_url, make_start, tmp_path):
    db = Database(database_url)
    try:
        a = closed(make_start, 1, "xicheng", "sun.li", kept_and_late)
        b = closed(make_start, 2, "dongcheng", "wu.fang", missed_and_waived)
        c = closed(make_start, 3, "xicheng", "sun.li", lambda m, t0: None)
        assert (a["promises"], b["promises"], c["promises"]) == (
            {"made": 2, "kept": 2, "kept_late": 1, "missed": 1, "waived": 0},
            {"made": 1, "kept": 0, "kept_late": 0, "missed": 1, "waived": 1},
            {"made": 0, "kept": 0, "kept_late": 0, "missed": 0, "waived": 0})
        for record in (a, b, c):
            append(db, KEY, record)
        assert verify(db, KEY).intact
        november = (date(2026, 11, 1), date(2026, 11, 30))
        assert build_report(db, *november, drills=True)["promises"] == {
            "made": 3, "kept": 2, "kept_late": 1, "missed": 2, "waived": 1, "incidents_with_missed": 2}
        assert build_report(db, *november, hall="xicheng", drills=True)["promises"]["missed"] == 1
        ledger = {(r["hall"], r["role"]): r for r in build_ledger(db, *november, drills=True)}
        assert ledger[("xicheng", "hall")]["broken_promises"] == 1
        assert ledger[("xicheng", "hall")]["incidents"]["broken_promises"] == ["pr-1 (1)"]
        assert ledger[("dongcheng", "hall")]["incidents"]["broken_promises"] == ["pr-2 (1)"]

        env = {"GROUPDESK_DATABASE_URL": db.url, "GROUPDESK_DATA_DIR": str(tmp_path / "data")}
        period = ["--from", "2026-11-01", "--to", "2026-11-30", "--with-drills"]
        got = CliRunner().invoke(app, ["report", *period, "--json"], env=env)
        assert got.exit_code == 0, got.output
        assert json.loads(got.output)["promises"]["kept_late"] == 1
        text = CliRunner().invoke(app, ["report", *period], env=env).output
        assert "promises made 3   kept 2 (late 1)   missed 2 (in 2 incidents)   waived 1" in text

        from groupdesk.web.app import create_app
        from helpers import setup_for
        from web_helpers import signed_in

        site = create_app(setup_for(tmp_path / "data", GROUPDESK_DATABASE_URL=db.url).settings)
        async with signed_in(site, "wang.jun") as web:
            page = (await web.get("/reports?start=2026-11-01&end=2026-11-30&drills=true")).text
        assert '<li id="promises"><b>2</b> 项承诺已兑现 · <b>2</b> 项承诺逾期 (共 3)</li>' in page
        assert "pr-2 (1)" in page.split("责任台账")[1]  # the incident behind 东城's broken promise
    finally:
        db.dispose()
