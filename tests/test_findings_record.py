"""Findings in the record (有效投诉的认定): the archive record carries the finding as its own object beside the
role-based `responsible`, its founded and cause columns are compared with the sealed record, and the accountability
ledger counts founded complaints per person and per unit the findings named. No Temporal server."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import update

from conftest import utc
from groupdesk.core.finding import RecordFinding
from groupdesk.core.models import RecordOutcome
from groupdesk.record.archive_record import build_record
from groupdesk.record.chain import append, verify
from groupdesk.record.ledger import build_founded
from groupdesk.storage import Database
from groupdesk.storage.schema import archive_records
from machine_helpers import resolve
from workflows.machine.incident import IncidentMachine

KEY = b"k" * 40
MIN = timedelta(minutes=1)
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def closed(make_start, n: int, founded: str | None, people=(), unit="", drill=False, key: bytes = KEY) -> dict:
    """An incident at 西城 closed with this finding (a founded one confirmed by the director)."""
    start = make_start(hall_id="xicheng", started_by="sun.li", lead_phone=f"1390013900{n}", incident_id=f"fd-{n}",
                       drill=drill, time_scale=60 if drill else None)
    t0 = utc(2026, 11, 16 + n, 2, 0)
    m = IncidentMachine.new(start, t0)
    m.finish("move_to_vip_room", "done", "sun.li", "", t0 + MIN)
    m.finish("keep_order", "done", "sun.li", "", t0 + MIN)
    if founded:
        m.record_finding(RecordFinding(actor="sun.li", founded=founded, cause="metering", responsible_people=list(people),
                                       responsible_unit=unit, reason="现场核实"), t0 + 2 * MIN)
    m.record_outcome(RecordOutcome(step="talk_with_lead", outcome="accepted", actor="sun.li"), t0 + 3 * MIN)
    resolve(m, m.take_effects())
    if founded in ("yes", "partly"):
        assert m.state.current_steps == ["finding_review"]
        m.record_outcome(RecordOutcome(step="finding_review", outcome="confirmed", actor="wang.jun"), t0 + 4 * MIN)
        resolve(m, m.take_effects())
    m.fire_due(m.state.follow_up.send_at)
    m.fire_due(m.state.follow_up.expires_at)
    m.take_effects()
    assert m.state.status == "closed"
    return build_record(start, m.state, "run", key)


def test_the_record_carries_the_finding_apart_from_the_role_based_responsible(make_start):
    record = closed(make_start, 1, "yes", people=["feng.tao", "zhao.min"], unit="xicheng")
    f = record["finding"]
    assert {k: f[k] for k in ("founded", "cause", "responsible_people", "responsible_unit", "reason", "recorded_by",
                              "confirmed_by")} == {
        "founded": "yes", "cause": "metering", "responsible_people": ["feng.tao", "zhao.min"],
        "responsible_unit": "xicheng", "reason": "现场核实", "recorded_by": "sun.li", "confirmed_by": "wang.jun"}
    assert f["confirmed_at"].startswith("2026-11-17T02:04")
    assert set(record["responsible"]) == {"hall", "unit", "playbook_owner", "people", "roles"}  # as before
    assert "finding_review" in record["path"]
    assert closed(make_start, 2, None, drill=True)["finding"] is None  # a drill closes without one


def test_the_ledger_counts_founded_complaints_per_person_and_unit(database_url, make_start):
    db = Database(database_url)
    try:
        for record in (closed(make_start, 1, "yes", people=["feng.tao", "zhao.min"], unit="xicheng"),
                       closed(make_start, 2, "partly", people=["zhao.min"], unit="city-centre"),
                       closed(make_start, 3, "no"),
                       closed(make_start, 4, "yes", people=["zhao.min"], unit="xicheng")):
            append(db, KEY, record)
        assert verify(db, KEY).intact
        ledger = build_founded(db, *NOVEMBER)
        assert ledger["people"] == [
            {"person": "feng.tao", "founded": 1, "partly": 0, "incidents": ["fd-1"]},
            {"person": "zhao.min", "founded": 2, "partly": 1, "incidents": ["fd-1", "fd-2 (partly)", "fd-4"]}]
        assert ledger["units"] == [
            {"unit": "city-centre", "founded": 0, "partly": 1, "incidents": ["fd-2 (partly)"]},
            {"unit": "xicheng", "founded": 2, "partly": 0, "incidents": ["fd-1", "fd-4"]}]
        assert build_founded(db, *NOVEMBER, hall="dongcheng") == {"people": [], "units": []}
        # the columns are compared with the sealed record
        with db.write() as c:
            c.execute(update(archive_records).where(archive_records.c.incident_id == "fd-3")
                      .values(finding_founded="yes"))
        assert any("fd-3" in p and "finding" in p for p in verify(db, KEY).problems)
    finally:
        db.dispose()


async def test_the_report_page_lists_founded_complaints_per_person_and_unit(settings, make_start):
    from groupdesk.storage import open_database
    from groupdesk.web.app import create_app
    from web_helpers import signed_in

    key, db = settings.hash_key(), open_database(settings)
    append(db, key, closed(make_start, 1, "yes", people=["feng.tao"], unit="xicheng", key=key))
    append(db, key, closed(make_start, 2, "partly", people=["feng.tao", "zhao.min"], unit="city-centre", key=key))
    async with signed_in(create_app(settings), "wang.jun") as web:
        html = (await web.get("/reports?start=2026-11-01&end=2026-11-30")).text
    people = html.split('id="founded-people"')[1].split("</table>")[0]
    units = html.split('id="founded-units"')[1].split("</table>")[0]
    assert "冯涛" in people and "赵敏" in people and "fd-2 (partly)" in people and "feng.tao" not in people
    assert "西城营业厅" in units and "城区客户服务中心" in units and "fd-1" in units
