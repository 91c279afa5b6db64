"""Reports up the hierarchy, against a hand-counted fixture: a province with two cities, a county under one of
them, four halls under three centres. Each level's roll-up, the console page within each viewer's scope (a city
manager never sees the other city), and the spreadsheet opened with openpyxl and compared cell by cell with the
JSON report."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import yaml
from openpyxl import load_workbook
from typer.testing import CliRunner

from conftest import utc
from groupdesk.core.intake import channel_label
from groupdesk.record.chain import append
from groupdesk.record.archive_record import build_record
from groupdesk.cli import app
from groupdesk.runtime.config import EXAMPLE_DIRECTORY
from helpers import setup_for
from groupdesk.people.directory import load_directory
from groupdesk.incidents.registration import prepare_start
from groupdesk.record.workbook import KINDS, PROMISES, ROLLUP, TOTALS
from groupdesk.storage import open_database
from groupdesk.web.app import create_app
from web_helpers import signed_in
from workflows.machine.incident import IncidentMachine

# hall: (city, [(minutes late, follow-up score), ...]); 16 minutes late misses the first two deadlines
INCIDENTS = {"xicheng": [(16, 2), (1, 5)], "dongcheng": [(1, 4)], "haidian": [(16, 4)], "tongzhou": [(1, 1), (1, 5)]}
# Hand-counted from INCIDENTS: incidents, past a deadline, dissatisfied (score 2 or less)
EXPECTED = {
    "north": (6, 2, 2),  # the province: everything
    "city-a": (4, 2, 1), "centre-a": (3, 1, 1), "xicheng": (2, 1, 1), "dongcheng": (1, 0, 0),
    "county-a1": (1, 1, 0), "centre-a1": (1, 1, 0), "haidian": (1, 1, 0),
    "city-b": (2, 0, 1), "centre-b": (2, 0, 1), "tongzhou": (2, 0, 1),
}
ORDER = ["north", "city-a", "county-a1", "centre-a1", "haidian", "centre-a", "xicheng", "dongcheng", "city-b",
         "centre-b", "tongzhou"]  # depth first: each unit, its sub-units, then its halls
ALL = ["--from", "2026-11-01", "--to", "2026-11-30"]


@pytest.fixture
def hierarchy(tmp_path, playbook):
    """The example directory with two more halls, two cities, a county and three centres; a manager per level."""
    raw = yaml.safe_load(EXAMPLE_DIRECTORY.read_text(encoding="utf-8"))
    raw["people"] += [{"id": "city.b", "name": "周密", "mobile": "+86 139 0000 0903"}]
    raw["units"] = [
        {"id": "north", "name": "北方省公司", "kind": "province", "roles": {"province_service_manager": ["song.yu"]}},
        {"id": "city-a", "name": "甲市公司", "kind": "city", "parent": "north", "roles": {"city_service_manager": ["he.ping"]}},
        {"id": "county-a1", "name": "甲一县公司", "kind": "county", "parent": "city-a"},
        {"id": "centre-a", "name": "甲市城区中心", "kind": "centre", "parent": "city-a"},
        {"id": "centre-a1", "name": "甲一县中心", "kind": "centre", "parent": "county-a1"},
        {"id": "city-b", "name": "乙市公司", "kind": "city", "parent": "north", "roles": {"city_service_manager": ["city.b"]}},
        {"id": "centre-b", "name": "乙市中心", "kind": "centre", "parent": "city-b"},
    ]
    base = next(h for h in raw["halls"] if h["id"] == "xicheng")
    raw["halls"] += [{**base, "id": "haidian", "name": "海淀营业厅", "name_en": "Haidian hall"},
                     {**base, "id": "tongzhou", "name": "通州营业厅", "name_en": "Tongzhou hall"}]
    for hall in raw["halls"]:
        hall["unit"] = {"xicheng": "centre-a", "dongcheng": "centre-a", "haidian": "centre-a1",
                        "tongzhou": "centre-b"}[hall["id"]]
    path = tmp_path / "directory.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    settings = setup_for(tmp_path / "data", GROUPDESK_DIRECTORY=path).settings  # accounts for city.b too
    directory, key, db = load_directory(path), settings.hash_key(), open_database(settings)
    n = 0
    for hall, incidents in INCIDENTS.items():
        for late, score in incidents + ([(16, 1)] if hall == "tongzhou" else []):  # the last one a drill
            n += 1
            start = prepare_start(directory=directory, playbook=playbook, hall_id=hall, headcount=10, lead_name="张三",
                                  lead_phone=f"138001380{n:02d}", summary="电量异常",
                                  started_by="wu.fang" if hall == "dongcheng" else "sun.li",
                                  incident_id=f"roll-{n}", drill=late == 16 and score == 1)
            t0 = utc(2026, 11, 2 + n, 2, 0)
            machine = IncidentMachine.new(start, t0)
            machine.fire_due(t0 + timedelta(minutes=late))
            for step in ("move_to_vip_room", "keep_order"):
                machine.finish(step, "done", start.started_by, "", t0 + timedelta(minutes=late))
            machine.finish("talk_with_lead", "accepted", start.started_by, "", t0 + timedelta(minutes=late + 10))
            machine.state.follow_up.score, machine.state.follow_up.outcome = score, "answered"
            machine.close_incident(t0 + timedelta(days=1), "answered")
            append(db, key, build_record(start, machine.state, "run", key))
    return settings


def cli(settings, *args):
    done = CliRunner().invoke(app, list(args), env={"GROUPDESK_DATA_DIR": str(settings.data_dir),
                                                   "GROUPDESK_DIRECTORY": str(settings.directory),
                                                   "TEMPORAL_ADDRESS": "127.0.0.1:1"})
    assert done.exit_code == 0, done.output
    return done.output


@pytest.mark.parametrize("unit", ["north", "city-a", "county-a1", "city-b", "centre-a"])
def test_each_level_rolls_up_what_is_below_it(hierarchy, unit):
    got = json.loads(cli(hierarchy, "report", *ALL, "--unit", unit, "--json"))
    rows = {r["unit"]: r for r in got["rollup"]}
    assert [r["unit"] for r in got["rollup"]] == [u for u in ORDER if u in rows]
    assert got["rollup"][0]["unit"] == unit and got["rollup"][0]["level"] == 0
    for name, row in rows.items():
        assert (row["incidents"], row["sla_breached"], row["dissatisfied"]) == EXPECTED[name], name
    assert (got["totals"]["incidents"], got["totals"]["sla_breached"], got["dissatisfied"]["incidents"]) == EXPECTED[unit]
    assert got["period"]["unit"] == unit and sum(r["incidents"] for r in got["by_hall"]) == EXPECTED[unit][0]
    ledger = json.loads(cli(hierarchy, "accountability", *ALL, "--unit", unit, "--json"))["ledger"]
    assert {row["hall"] for row in ledger} <= set(got["period"]["halls"])


def test_the_spreadsheet_holds_the_numbers_of_the_json_report(hierarchy, tmp_path):
    target = tmp_path / "city-a.xlsx"
    got = json.loads(cli(hierarchy, "report", *ALL, "--unit", "city-a", "--json", "--xlsx", str(target)))
    book = load_workbook(target)
    assert book.sheetnames == ["汇总", "各级汇总", "按营业厅", "按周", "按投诉类别", "按受理渠道", "类别×周", "按预案", "各环节",
                               "满意度"]

    def cells(title):
        return [list(row) for row in book[title].iter_rows(values_only=True)]

    totals = dict(cells("汇总")[1:])
    assert {key: totals[label] for key, label in TOTALS.items()} == got["totals"]
    assert {key: totals[f"承诺:{label}"] for key, label in PROMISES.items()} == got["promises"]
    assert cells("各级汇总")[0][:5] == ["单位编号", "单位", "类型", "层级", "集体投诉"]
    assert cells("各级汇总")[1:] == [[r["unit"], r["name"], KINDS[r["kind"]], r["level"], *(r[k] for k in ROLLUP)]
                                   for r in got["rollup"]]
    assert cells("按营业厅")[1:] == [[r["hall_id"], {"xicheng": "西城营业厅", "dongcheng": "东城营业厅",
                                                   "haidian": "海淀营业厅"}[r["hall_id"]], r["incidents"]]
                                  for r in got["by_hall"]]
    assert cells("按周")[1:] == [[r["week"], r["incidents"]] for r in got["by_week"]]
    assert cells("各环节")[1:] == [[r["playbook"], r["step"], r["visits"], r["avg_seconds"], r["max_seconds"],
                                  r["deadline_missed"], r["breach_rate"], r["escalations"]] for r in got["steps"]]
    assert cells("满意度")[1:] == [[k, v] for k, v in got["satisfaction"].items()]
    assert cells("按受理渠道")[1:] == [[r["channel"], channel_label(r["channel"]), r["incidents"]] for r in got["by_channel"]]
    charted = {title: len(book[title]._charts) for title in book.sheetnames}
    assert charted == {"汇总": 0, "各级汇总": 1, "按营业厅": 1, "按周": 1, "按投诉类别": 1, "按受理渠道": 1, "类别×周": 0, "按预案": 0,
                       "各环节": 2, "满意度": 1}  # a chart where the page draws one


async def test_the_page_reads_each_level_within_the_viewers_scope(hierarchy):
    app = create_app(hierarchy)
    period = "/reports?start=2026-11-01&end=2026-11-30"
    async with signed_in(app, "city.b") as manager:  # city B's manager: city B only, whatever they ask
        own = await manager.get(period)
        assert own.status_code == 200 and 'data-unit="tongzhou"' in own.text and "西城营业厅" not in own.text
        assert '<li><b>2</b> 起已办结</li>' in own.text
        for other in ("city-a", "north", "centre-a"):
            assert (await manager.get(f"{period}&unit={other}")).status_code == 403, other
        assert (await manager.get(f"{period}&hall=xicheng")).status_code == 403
        sheet = await manager.get(f"/reports.xlsx?start=2026-11-01&end=2026-11-30&unit=city-b")
        assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("application/vnd.openxml")
        assert (await manager.get("/reports.xlsx?start=2026-11-01&end=2026-11-30&unit=north")).status_code == 403
    async with signed_in(app, "he.ping") as manager:  # city A's manager reads the city, the county, a centre
        city = await manager.get(period)
        assert '<li><b>4</b> 起已办结</li>' in city.text and "通州营业厅" not in city.text
        assert (await manager.get("/api/me")).json()["units"] == {"city_service_manager": ["city-a"]}
        county = await manager.get(f"{period}&unit=county-a1")
        assert '<li><b>1</b> 起已办结</li>' in county.text and 'data-unit="haidian"' in county.text
    async with signed_in(app, "song.yu") as province:
        whole = await province.get(f"{period}&unit=north")
        assert "<li><b>6</b> 起已办结</li>" in whole.text and whole.text.count("<svg") == 8  # the roll-up's chart too
        assert (await province.get(f"{period}&unit=nowhere")).status_code == 400


@pytest.mark.devserver
async def test_the_board_reads_a_unit_within_the_viewers_scope(hierarchy, dev_env, playbook):
    import asyncio
    import time
    import uuid

    from groupdesk.incidents.gateway import start_incident

    settings = hierarchy.model_copy(update={"task_queue": f"roll-{uuid.uuid4().hex[:6]}"})
    directory = load_directory(settings.directory)
    ids = {}
    for hall in ("xicheng", "haidian", "tongzhou"):  # no worker: the incidents wait, visibility lists them
        start = prepare_start(directory=directory, playbook=playbook, hall_id=hall, headcount=10, lead_name="张三",
                              lead_phone=f"1370013{uuid.uuid4().int % 10000:04d}", summary="电量异常",
                              started_by="sun.li", incident_id=f"board-{hall}-{uuid.uuid4().hex[:6]}")
        ids[hall] = (await start_incident(dev_env.client, settings, start)).id
    app = create_app(settings, client=dev_env.client)

    async def board_ids(web, query="", want=None):
        """The incidents the board shows, once it shows `want` (visibility follows a start shortly after)."""
        deadline = time.monotonic() + 60
        while True:
            page = (await web.get(f"/{query}")).text
            found = {hall for hall, incident in ids.items() if incident in page}
            if want is None or found == want or time.monotonic() > deadline:
                return found, page
            await asyncio.sleep(0.5)

    async with signed_in(app, "song.yu") as province:  # everything is listed: visibility has caught up
        assert (await board_ids(province, "?unit=north", set(ids)))[0] == set(ids)
        assert (await province.get("/?unit=nowhere")).status_code == 400
    async with signed_in(app, "he.ping") as manager:
        found, page = await board_ids(manager, "", {"xicheng", "haidian"})
        assert found == {"xicheng", "haidian"} and "甲一县公司" in page  # the unit filter offers the county
        assert (await board_ids(manager, "?unit=county-a1"))[0] == {"haidian"}
    async with signed_in(app, "city.b") as manager:
        assert (await board_ids(manager))[0] == {"tongzhou"}  # never city A's halls
        assert (await board_ids(manager, "?unit=city-a"))[0] == set()
    for incident in ids.values():
        await dev_env.client.get_workflow_handle(incident).terminate("test over")


def test_the_monthly_report_texts_each_units_managers_their_roll_up(hierarchy):
    from activities.reports import ReportActivities
    from groupdesk.core.models import ReportPeriod
    from groupdesk.playbooks.templating import render

    directory = load_directory(hierarchy.directory)
    activities = ReportActivities(open_database(hierarchy), lambda: directory)
    weekly = activities.summaries(ReportPeriod(kind="weekly", first="2026-11-01", last="2026-11-07"))
    assert {m.purpose for m in weekly} == {"periodic_report"}  # the weekly report stays per hall
    monthly = activities.summaries(ReportPeriod(kind="monthly", first="2026-11-01", last="2026-11-30"))
    units = {m.key.rsplit("/", 1)[1]: m for m in monthly if m.purpose == "periodic_report_unit"}
    assert sorted(units) == ["city-a", "city-b", "north"]  # the units with managers; the county has none
    assert units["city-a"].recipients == ["person:he.ping"] and units["north"].recipients == ["person:song.yu"]
    for unit, message in units.items():
        c = message.context
        assert (c["incidents"], c["breached"], c["dissatisfied"]) == EXPECTED[unit], unit
    text = render(units["city-b"].template["zh-CN"], {k: (v["zh-CN"] if isinstance(v, dict) else v)
                                                       for k, v in units["city-b"].context.items()})
    assert text == "【月统计 2026-11-01至2026-11-30】乙市公司(下辖1个营业厅):集体投诉 2 起,超时 0 起,升级 0 次," \
                   "重复投诉 0 起,三级及以上预警 0 起,不满意 1 起。"
