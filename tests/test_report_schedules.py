"""The periodic reports are Temporal Schedules: there once a worker starts, and a run texts each hall's summary."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from typer.testing import CliRunner

from helpers import messages
from groupdesk.record.chain import append
from groupdesk.record.archive_record import build_record
from groupdesk.cli import app
from groupdesk.engine.replay import replay
from groupdesk.record.schedules import ensure_schedules, schedule_id
from groupdesk.storage import open_database
from groupdesk.storage.schema import reports
from workflows.machine.incident import IncidentMachine
from worker import run_worker


def archived_yesterday(settings, make_start) -> str:
    """One incident at 西城 that started yesterday, missed a deadline and ended dissatisfied (1/5)."""
    start = make_start()
    t0 = datetime.now(timezone.utc) - timedelta(days=1)
    m = IncidentMachine.new(start, t0)
    m.fire_due(t0 + timedelta(minutes=6))  # both first steps past their 5-minute deadline
    m.finish("move_to_vip_room", "done", "zhao.min", "", t0 + timedelta(minutes=7))
    m.finish("keep_order", "done", "qian.lei", "", t0 + timedelta(minutes=7))
    m.finish("talk_with_lead", "accepted", "sun.li", "", t0 + timedelta(minutes=20))
    m.state.follow_up.score, m.state.follow_up.outcome = 1, "answered"
    m.close_incident(t0 + timedelta(hours=2), "answered")
    key = settings.hash_key()
    append(open_database(settings), key, build_record(start, m.state, "run-1", key))
    return start.incident_id


async def test_schedules_exist_after_worker_start_and_a_triggered_run_texts_the_summary(dev_env, settings,
                                                                                      make_start):
    client = dev_env.client
    archived_yesterday(settings, make_start)
    s = settings.model_copy(update={"temporal_address": client.service_client.config.target_host})
    worker = asyncio.create_task(run_worker(s))
    try:
        for _ in range(100):
            ids = [x.id async for x in await client.list_schedules()]
            if schedule_id("weekly") in ids and schedule_id("monthly") in ids:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"no report schedules after the worker started: {ids}")
        assert await ensure_schedules(client, s) == []  # idempotent: a second worker creates nothing
        env = {"TEMPORAL_ADDRESS": s.temporal_address, "GROUPDESK_DATA_DIR": str(s.data_dir),
               "GROUPDESK_TASK_QUEUE": s.task_queue}
        shown = await asyncio.to_thread(CliRunner().invoke, app, ["schedules", "ensure"], env=env)
        assert shown.exit_code == 0 and f"{schedule_id('weekly')}: exists" in shown.output
        described = await client.get_schedule_handle(schedule_id("weekly")).describe()
        spec = described.schedule.spec  # the server keeps the cron as a calendar: Monday 08:00 Beijing time
        assert spec.time_zone_name == "Asia/Shanghai" and [c.hour[0].start for c in spec.calendars] == [8]
        assert [c.day_of_week[0].start for c in spec.calendars] == [1]

        await client.get_schedule_handle(schedule_id("weekly")).trigger()
        for _ in range(300):
            sent = [m for m in messages(settings, None) if m.purpose == "periodic_report"]
            if len(sent) >= 4:
                break
            await asyncio.sleep(0.1)
        by = [m.body for m in sent]
        xicheng = [m.body for m in sent if "西城" in m.body and m.role == "centre_director"]
        dongcheng = [m.body for m in sent if "东城" in m.body and m.role == "centre_director"]
        office = [m for m in sent if m.role == "emergency_leadership_office"]
        assert len(xicheng) == 1 and "集体投诉 1 起" in xicheng[0] and "超时 1 起" in xicheng[0] \
            and "不满意 1 起" in xicheng[0], by
        assert len(dongcheng) == 1 and "集体投诉 0 起" in dongcheng[0]
        assert len(office) == 2
        with open_database(settings).read() as c:
            kept = {row.hall_id: json.loads(row.report) for row in c.execute(select(reports))}
        assert kept["xicheng"]["totals"]["incidents"] == 1 and kept["dongcheng"]["totals"]["incidents"] == 0

        # the run's history replays against this code; GROUPDESK_RECORD_HISTORIES=1 keeps it for test_replay
        info = (await client.get_schedule_handle(schedule_id("weekly")).describe()).info
        run = client.get_workflow_handle(info.recent_actions[-1].action.workflow_id)
        assert await run.result() == 2
        history = await run.fetch_history()
        replayed = await replay(history, "periodic report")
        assert replayed.error is None, replayed.error
        if os.environ.get("GROUPDESK_RECORD_HISTORIES"):
            (Path(__file__).parent / "histories" / "periodic-report-weekly.json").write_text(
                history.to_json(), encoding="utf-8")
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
