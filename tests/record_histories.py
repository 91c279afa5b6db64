"""Record full incident histories on the real dev server, for the replay tests.

    .venv/bin/python tests/record_histories.py        # rewrites tests/histories/*.json
    .venv/bin/python tests/record_histories.py archive-at-close- talk_accepted   # adds archive-at-close-talk_accepted.json
    .venv/bin/python tests/record_histories.py sensitive-period- approved_then_metrology  # started inside a period
    .venv/bin/python tests/record_histories.py --playbook outage-group-complaint   # every path of that playbook,
                                                           # as <playbook>-<choices>.json (groupdesk.drills.paths)
    .venv/bin/python tests/record_histories.py --playbook dispute-ladder --only=dispute-ladder-explained  # only that path
    (a hand-over the parent waits for drives the child too; its history is <path>-child.json)

Each path of the smart-meter playbook runs as a drill on compressed time, so reminders,
escalations and the follow-up all happen within seconds and end up in the history.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.client import WorkflowExecutionStatus  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from groupdesk.engine.binaries import temporal_cli  # noqa: E402
from groupdesk.runtime.config import EXAMPLE_DIRECTORY, REPO_ROOT, Settings  # noqa: E402
from groupdesk.incidents.gateway import start_incident  # noqa: E402
from groupdesk.people.directory import load_directory  # noqa: E402
from groupdesk.incidents.registration import prepare_start  # noqa: E402
from groupdesk.drills.smart_meter import PATHS, RECORDED_ONLY, answer_follow_up  # noqa: E402
from groupdesk.drills.handovers import LADDER_PATHS  # noqa: E402
from groupdesk.playbooks.loader import find_playbook  # noqa: E402
from worker import build_worker  # noqa: E402
from groupdesk.core import search_attributes as sa  # noqa: E402
from groupdesk.core.periods import SensitivePeriod  # noqa: E402

HISTORIES = Path(__file__).resolve().parent / "histories"
TIME_SCALE = 20_000.0  # 5 min -> 15 ms; one working day (up to 4 days) -> under 20 s
# With the prefix sensitive-period-, incidents start inside this period (deadlines halved, its responsible told).
PERIOD = SensitivePeriod(name="全国两会", first_day="2027-03-03", last_day="2027-03-15", deadline_factor=0.5,
                         responsible="wang.jun")


async def main(prefix: str = "", only: list[str] | None = None) -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()), search_attributes=sa.ALL,
        data_converter=pydantic_data_converter,
    )
    directory = load_directory(EXAMPLE_DIRECTORY)
    playbook = find_playbook(REPO_ROOT / "playbooks", "smart-meter-group-complaint")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(GROUPDESK_DATA_DIR=Path(tmp), GROUPDESK_TASK_QUEUE="record")
        async with build_worker(env.client, settings):
            for name, drive in {**PATHS, **RECORDED_ONLY, **LADDER_PATHS}.items():
                if only and name not in only:
                    continue
                request = prepare_start(
                    directory=directory, playbook=playbook, hall_id="xicheng", headcount=18, lead_name="张建国",
                    lead_phone="13800138000", summary="智能电表换装后电量异常增长", started_by="sun.li",
                    incident_id=f"history-{name.replace('_', '-')}", drill=True, time_scale=TIME_SCALE,
                )
                if prefix.startswith("sensitive-period-"):
                    request.sensitive_period = PERIOD
                handle = await start_incident(env.client, settings, request)
                await drive(handle)
                await save(env.client, handle, name, prefix)
            await record_people(env.client, settings, directory, prefix, only)
            await record_ladder(env.client, settings, directory, prefix, only)
    await env.shutdown()


async def record_ladder(client, settings, directory, prefix: str, only: list[str] | None) -> None:
    """The dispute ladder's own paths, started on their own: dispute-ladder-<path>.json."""
    from groupdesk.drills.handovers import LADDER_OWN_PATHS

    playbook = find_playbook(REPO_ROOT / "playbooks", "dispute-ladder")
    for name, drive in LADDER_OWN_PATHS.items():
        if only and f"dispute-ladder-{name}" not in only:
            continue
        request = prepare_start(
            directory=directory, playbook=playbook, hall_id="xicheng", headcount=2, lead_name="赵志刚",
            lead_phone="13600136000", summary="对电表校验结果有异议", started_by="sun.li",
            incident_id=f"history-dispute-ladder-{name.replace('_', '-')}", drill=True, time_scale=TIME_SCALE,
        )
        handle = await start_incident(client, settings, request)
        await drive(handle)
        await save(client, handle, f"dispute-ladder-{name}", prefix)


async def record_people(client, settings, directory, prefix: str, only: list[str] | None) -> None:
    """The service-attitude playbook's paths (更换当事人): service-attitude-<path>.json."""
    from groupdesk.drills.service_attitude import PERSON_INVOLVED, SERVICE_ATTITUDE, SERVICE_ATTITUDE_PATHS

    playbook = find_playbook(REPO_ROOT / "playbooks", SERVICE_ATTITUDE)
    for name, drive in SERVICE_ATTITUDE_PATHS.items():
        if only and f"service-attitude-{name}" not in only:
            continue
        request = prepare_start(
            directory=directory, playbook=playbook, hall_id="xicheng", headcount=2, lead_name="李秀英",
            lead_phone="13900139000", summary="营业员态度生硬", started_by="sun.li",
            incident_id=f"history-service-attitude-{name.replace('_', '-')}", drill=True, time_scale=TIME_SCALE,
            registration={"person_involved": PERSON_INVOLVED, "category": "service", "complainant_type": "venting"},
        )
        handle = await start_incident(client, settings, request)
        await drive(handle)
        await save(client, handle, f"service-attitude-{name}", prefix)
    if not only or "publicity-alert-talk_accepted" in only:  # media present: the alert at the start (patched)
        from groupdesk.drills.smart_meter import talk_accepted

        request = prepare_start(
            directory=directory, playbook=find_playbook(REPO_ROOT / "playbooks", "smart-meter-group-complaint"),
            hall_id="xicheng", headcount=30, lead_name="王大伟", lead_phone="13700137000", summary="电费异常,记者在场",
            started_by="sun.li", incident_id="history-publicity-alert", drill=True, time_scale=TIME_SCALE,
            registration={"media_present": True, "complainant_type": "publicity"},
        )
        handle = await start_incident(client, settings, request)
        await talk_accepted(handle)
        await save(client, handle, "publicity-alert-talk_accepted", prefix)


async def record_playbook(playbook_ids: list[str], only: list[str] | None = None) -> None:
    """Every path of each named playbook, driven by groupdesk.drills.paths as the directory's 西城 staff."""
    from groupdesk.drills.paths import drive, reopened_route, routes
    from groupdesk.drills.service_attitude import PERSON_INVOLVED

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()), search_attributes=sa.ALL,
        data_converter=pydantic_data_converter,
    )
    directory = load_directory(EXAMPLE_DIRECTORY)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(GROUPDESK_DATA_DIR=Path(tmp), GROUPDESK_TASK_QUEUE="record")
        async with build_worker(env.client, settings):
            for playbook_id in playbook_ids:
                playbook = find_playbook(REPO_ROOT / "playbooks", playbook_id)
                span = playbook.applies.headcount
                staff = {role: people[0].id for role in playbook.escalation.chain.keys() | {
                    s.owner for s in playbook.steps.values()} if (people := directory.staff("xicheng", role))}
                registration = {"person_involved": PERSON_INVOLVED, "category": "service"} \
                    if "person_involved" in playbook.registration_requires else None

                def request_for(name: str):
                    return prepare_start(
                        directory=directory, playbook=playbook, hall_id="xicheng",
                        headcount=min(max(18, span.min), span.max), lead_name="张建国", lead_phone="13800138000",
                        summary="小区频繁停电" if "outage" in playbook.id else "投诉处理", started_by="sun.li",
                        incident_id=history_id(name), drill=True, time_scale=TIME_SCALE, registration=registration,
                    )

                for name, choice in routes(playbook).items():
                    if only and name not in only:
                        continue
                    handle = await start_incident(env.client, settings, request_for(name))
                    await drive(handle, playbook, choice, staff)
                    await save(env.client, handle, name, "")
                name = reopened_route(playbook)  # the first path, answered 2 (handled again), then 1 (handed over)
                if name and (not only or name in only):
                    handle = await start_incident(env.client, settings, request_for(name))
                    first = next(iter(routes(playbook).values()))
                    await drive(handle, playbook, first, staff)
                    await answer_follow_up(handle, 2)
                    await drive(handle, playbook, first, staff)
                    await answer_follow_up(handle, 1)
                    await save(env.client, handle, name, "", answer=False)
    await env.shutdown()


def history_id(name: str) -> str:
    """A workflow id for a path's recording, unique even when the path's name is long."""
    wid = f"history-{name.replace('_', '-')}"
    return wid if len(wid) <= 64 else f"{wid[:55]}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"


async def save(client, handle, name: str, prefix: str, answer: bool = True) -> None:
    """Answer the follow-up (unless a hand-over closed it), then write <prefix><name>.json and a finished
    child's <prefix><name>-child.json."""
    if answer and (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
        await answer_follow_up(handle)
    final = await handle.result()
    history = await handle.fetch_history()
    (HISTORIES / f"{prefix}{name}.json").write_text(history.to_json(), encoding="utf-8")
    print(f"{name}: {len(history.events)} events")
    for link in final.linked:
        child = client.get_workflow_handle(link.id)
        if (await child.describe()).status == WorkflowExecutionStatus.COMPLETED:
            child_history = await child.fetch_history()
            (HISTORIES / f"{prefix}{name}-child.json").write_text(child_history.to_json(), encoding="utf-8")
            print(f"{name}-child: {len(child_history.events)} events")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--playbook"]:
        ids = [a for a in sys.argv[2:] if not a.startswith("--only=")]
        only = [n for a in sys.argv[2:] if a.startswith("--only=") for n in a[7:].split(",")]
        asyncio.run(record_playbook(ids, only or None))
    else:
        asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "", sys.argv[2:]))
