"""Record full incident histories on the real dev server, for the replay tests.

    .venv/bin/python tests/record_histories.py        # rewrites tests/histories/*.json

Each path of the smart-meter playbook runs as a drill on compressed time, so reminders,
escalations and the follow-up all happen within seconds and end up in the history.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from groupdesk.binaries import temporal_cli  # noqa: E402
from groupdesk.config import EXAMPLE_DIRECTORY, REPO_ROOT, Settings  # noqa: E402
from groupdesk.client import start_incident  # noqa: E402
from groupdesk.directory import load_directory  # noqa: E402
from groupdesk.incidents import prepare_start  # noqa: E402
from groupdesk.models import DecideApproval, RecordFollowUp, RecordOutcome  # noqa: E402
from groupdesk.playbook_loader import find_playbook  # noqa: E402
from worker import build_worker  # noqa: E402
from workflows import search_attributes as sa  # noqa: E402
from workflows.group_incident import GroupIncidentWorkflow as WF  # noqa: E402

HISTORIES = Path(__file__).resolve().parent / "histories"
TIME_SCALE = 20_000.0  # 5 min -> 15 ms; one working day (up to 4 days) -> under 20 s


async def wait_for(handle, predicate, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = await handle.query(WF.state)
        if predicate(st):
            return st
        await asyncio.sleep(0.2)
    raise TimeoutError(f"{handle.id}: condition not reached")


async def record_outcome(handle, step, name, actor, **data):
    await wait_for(handle, lambda st: step in st.current_steps)
    await handle.execute_update(WF.record_outcome, RecordOutcome(step=step, outcome=name, actor=actor, data=data))


async def talk_accepted(handle):
    await record_outcome(handle, "move_to_vip_room", "done", "zhao.min")
    await record_outcome(handle, "keep_order", "done", "qian.lei")
    await record_outcome(handle, "talk_with_lead", "accepted", "sun.li")


async def approved_then_metrology(handle):
    await talk_rejected(handle)
    await handle.execute_update(WF.decide_approval, DecideApproval(decision="approve", actor="wang.jun"))
    await record_outcome(handle, "metering_explanation", "not_accepted", "feng.tao")
    at = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    await record_outcome(handle, "metrology_calibration", "scheduled", "sun.li", calibration_at=at)
    await record_outcome(handle, "metrology_calibration", "meter_inaccurate", "sun.li")


async def rejected_then_explained(handle):
    await talk_rejected(handle)
    await handle.execute_update(WF.decide_approval, DecideApproval(decision="reject", actor="wang.jun",
                                                                   reason="现场可控"))
    await record_outcome(handle, "metering_explanation", "accepted", "chen.yu")


async def talk_rejected(handle):
    await record_outcome(handle, "move_to_vip_room", "done", "zhao.min")
    await record_outcome(handle, "keep_order", "done", "qian.lei")
    await record_outcome(handle, "talk_with_lead", "not_accepted", "sun.li")


PATHS = {
    "talk_accepted": talk_accepted,
    "approved_then_metrology": approved_then_metrology,
    "rejected_then_explained": rejected_then_explained,
}


async def main() -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()), search_attributes=sa.ALL,
        data_converter=pydantic_data_converter,
    )
    directory = load_directory(EXAMPLE_DIRECTORY)
    playbook = find_playbook(REPO_ROOT / "playbooks", "smart-meter-group-complaint")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(GROUPDESK_DATA_DIR=Path(tmp), GROUPDESK_TASK_QUEUE="record")
        async with build_worker(env.client, settings):
            for name, drive in PATHS.items():
                request = prepare_start(
                    directory=directory, playbook=playbook, hall_id="xicheng", headcount=18, lead_name="张建国",
                    lead_phone="13800138000", summary="智能电表换装后电量异常增长", started_by="sun.li",
                    incident_id=f"history-{name}", drill=True, time_scale=TIME_SCALE,
                )
                handle = await start_incident(env.client, settings, request)
                await drive(handle)
                await wait_for(handle, lambda st: st.follow_up is not None and st.follow_up.sent)
                await handle.execute_update(WF.record_follow_up, RecordFollowUp(score=4, actor="sun.li"))
                await handle.result()
                history = await handle.fetch_history()
                (HISTORIES / f"{name}.json").write_text(history.to_json(), encoding="utf-8")
                print(f"{name}: {len(history.events)} events")
    await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
