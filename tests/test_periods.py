"""Sensitive periods end to end: the calendar file read and matched by the hall's local date, and on the real
dev server an incident started inside a period, with its halved deadline visible and its responsible
person told by SMS through the outbox."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from groupdesk.runtime.config import EXAMPLE_DIRECTORY
from helpers import setup_for
from groupdesk.people.directory import load_directory
from groupdesk.core.workcal import LOCAL_TZ
from groupdesk.core.validation import InputError
from groupdesk.incidents.registration import mark_start
from groupdesk.playbooks.periods import PeriodError, load_calendar

CALENDAR = """\
periods:
  - name: 全国两会
    from: {first}
    to: {last}
    halls: all
    deadline_factor: 0.5
    responsible: {{xicheng: wang.jun, dongcheng: wu.fang}}
  - name: 迎峰度夏
    from: 2027-07-01
    to: 2027-07-31
    halls: [dongcheng]
    deadline_factor: 0.8
"""
DIRECTORY = load_directory(EXAMPLE_DIRECTORY)


def calendar_file(tmp_path: Path, first: str = "2027-03-03", last: str = "2027-03-15") -> Path:
    path = tmp_path / "periods.yaml"
    path.write_text(CALENDAR.format(first=first, last=last), encoding="utf-8")
    return path


def test_a_period_covers_its_halls_on_their_local_dates(tmp_path):
    calendar = load_calendar(calendar_file(tmp_path), DIRECTORY)
    # 2027-03-03 00:10 in Beijing is still 2 March in UTC: the hall's date counts
    first_minute = datetime(2027, 3, 2, 16, 10, tzinfo=timezone.utc)
    period = calendar.period_at("xicheng", first_minute)
    assert period is not None and period.name == "全国两会" and period.deadline_factor == 0.5
    assert period.responsible == "wang.jun"
    assert calendar.period_at("dongcheng", first_minute).responsible == "wu.fang"
    assert calendar.period_at("xicheng", first_minute - timedelta(minutes=20)) is None  # 2 March, 23:50 local
    assert calendar.period_at("xicheng", datetime(2027, 3, 15, 23, 59, tzinfo=LOCAL_TZ)) is not None
    assert calendar.period_at("xicheng", datetime(2027, 3, 16, 0, 0, tzinfo=LOCAL_TZ)) is None
    summer = datetime(2027, 7, 5, 10, 0, tzinfo=LOCAL_TZ)
    assert calendar.period_at("xicheng", summer) is None  # only dongcheng's
    assert calendar.period_at("dongcheng", summer).responsible is None  # a period may name no one


def test_a_start_gets_its_period_from_the_configured_calendar_and_a_bad_one_refuses_it(tmp_path, make_start):
    settings = setup_for(tmp_path, GROUPDESK_SENSITIVE_PERIODS=calendar_file(tmp_path)).settings
    start = make_start()
    mark_start(settings, start, datetime(2027, 3, 10, 2, 0, tzinfo=timezone.utc))
    assert start.sensitive_period.name == "全国两会"
    later = make_start()
    mark_start(settings, later, datetime(2027, 4, 1, 2, 0, tzinfo=timezone.utc))
    assert later.sensitive_period is None
    (tmp_path / "periods.yaml").write_text("periods:\n  - name: x\n    from: 2027-03-03\n", encoding="utf-8")
    with pytest.raises(InputError) as refused:
        mark_start(settings, make_start(), datetime(2027, 3, 10, 2, 0, tzinfo=timezone.utc))
    assert str(refused.value).startswith("GROUPDESK_SENSITIVE_PERIODS: ") and "periods[0] (x).to: required" \
        in str(refused.value)


def test_overlapping_periods_for_one_hall_are_refused(tmp_path):
    path = tmp_path / "overlap.yaml"
    path.write_text(CALENDAR.format(first="2027-07-10", last="2027-07-20").replace("迎峰度夏", "夏"),
                    encoding="utf-8")
    with pytest.raises(PeriodError, match=r"periods\[1\] \(夏\): overlaps 全国两会 at hall dongcheng"):
        load_calendar(path, DIRECTORY)


@pytest.mark.devserver
async def test_an_incident_inside_a_period_on_the_real_server(dev_env, tmp_path):
    from groupdesk.drills.smart_meter import wait_for
    from groupdesk.messaging.outbox import Outbox
    from groupdesk.web.app import create_app
    from helpers import run_cli as cli
    from web_helpers import signed_in
    from worker import build_worker

    today = datetime.now(LOCAL_TZ).date()
    setup = setup_for(tmp_path, dev_env, queue="periods", GROUPDESK_SENSITIVE_PERIODS=calendar_file(
        tmp_path, str(today - timedelta(days=1)), str(today + timedelta(days=1))))
    env, settings = setup.env, setup.settings
    listed = await cli(env, "periods", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [p["name"] for p in json.loads(listed.stdout)["periods"]] == ["全国两会", "迎峰度夏"]
    async with build_worker(dev_env.client, settings):
        started = await cli(env, "start", "--hall", "xicheng", "--headcount", "12", "--lead-name", "张建国",
                            "--lead-phone", f"1380013{uuid.uuid4().int % 10000:04d}", "--summary", "两会期间电量异常",
                            "--as", "sun.li")
        assert started.returncode == 0, started.stderr
        incident_id = started.stdout.strip().split()[-1]
        handle = dev_env.client.get_workflow_handle(incident_id)
        await wait_for(handle, lambda s: any(d.key.endswith("/sensitive_period_start/start/wang.jun")
                                             for d in s.deliveries))
        shown = json.loads((await cli(env, "show", incident_id, "--json")).stdout)
        assert shown["sensitive_period"] == {"name": "全国两会", "first_day": str(today - timedelta(days=1)),
                                             "last_day": str(today + timedelta(days=1)), "deadline_factor": 0.5,
                                             "responsible": "wang.jun"}
        started_at = datetime.fromisoformat(shown["started_at"])
        for sid in ("move_to_vip_room", "keep_order"):  # 5 minutes in the playbook, halved
            assert datetime.fromisoformat(shown["steps"][sid]["deadline_at"]) - started_at == timedelta(minutes=2.5)
        (notice,) = [m for m in Outbox(settings).list(incident_id) if m.purpose == "sensitive_period_start"]
        assert (notice.recipient, notice.to_number) == ("wang.jun", "+8613900000301")
        assert "全国两会" in notice.body and "50%" in notice.body and incident_id in notice.body

        done = await cli(env, "outcome", incident_id, "move_to_vip_room", "done", "--as", "zhao.min")
        assert done.returncode == 0, done.stderr
        await wait_for(handle, lambda s: any("/progress_report/period-done/wang.jun" in d.key for d in s.deliveries))
        (report,) = [m for m in Outbox(settings).list(incident_id) if m.purpose == "progress_report"]
        assert report.recipient == "wang.jun" and "引导客户至VIP室" in report.body  # at warning tier 0

        board = json.loads((await cli(env, "list", "--hall", "xicheng", "--json")).stdout)
        assert [r["sensitive_period"] for r in board if r["id"] == incident_id] == ["全国两会"]
        async with signed_in(create_app(settings, client=dev_env.client), "lin.yue") as operator:
            page = (await operator.get(f"/incidents/{incident_id}")).text
            assert 'id="sensitive-period"' in page and "全国两会" in page and "王军" in page
            rows = (await operator.get("/")).text
            assert 'class="flag red period" title="全国两会"' in rows


def test_a_bad_calendar_stops_the_worker_and_the_console_at_start(tmp_path):
    from groupdesk.startup import problems

    path = tmp_path / "periods.yaml"
    path.write_text(CALENDAR.format(first="2027-03-03", last="2027-03-15").replace("0.5", "2"), encoding="utf-8")
    settings = setup_for(tmp_path, GROUPDESK_SENSITIVE_PERIODS=path).settings
    for process in ("worker", "console", "dev"):
        (line,) = [p for p in problems(settings, process) if "SENSITIVE" in p]
        assert line.startswith("GROUPDESK_SENSITIVE_PERIODS: ") and "deadline_factor" in line
