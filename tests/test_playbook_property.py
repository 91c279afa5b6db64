"""Property: any playbook the validator accepts runs its first steps without a failed workflow task.

hypothesis varies the shipped playbook where authors make mistakes: durations (clock and working
days, far past the bounds too), which steps start, warning tiers, titles. Every variant the loader
accepts runs on one time-skipping server: started, past every deadline and escalation of its first
steps, their outcomes recorded, past the next steps' deadlines. No WorkflowTaskFailed may appear.
"""

from __future__ import annotations

import asyncio
import copy
import shutil
import tempfile
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, note, settings as hsettings, strategies as st
from temporalio.api.enums.v1 import EventType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.service import RPCError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from groupdesk.engine.binaries import temporal_test_server
from groupdesk.runtime.config import EXAMPLE_DIRECTORY, REPO_ROOT
from helpers import setup_for, skip
from groupdesk.people.directory import load_directory
from groupdesk.incidents.registration import prepare_start
from groupdesk.core.models import RecordOutcome
from groupdesk.playbooks.loader import PlaybookError, load_playbook
from worker import build_worker
from groupdesk.core import search_attributes as sa
from workflows.group_incident import GroupIncidentWorkflow as WF

SHIPPED = REPO_ROOT / "playbooks" / "smart-meter-group-complaint.yaml"
BASE = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
STEPS = list(BASE["steps"])
AFTER_EVERYTHING = timedelta(days=200)  # past any deadline and escalation the bounds allow

valid_durations = st.one_of(
    st.builds(lambda n: f"{n}s", st.integers(1, 90 * 86400)),
    st.builds(lambda n, unit: f"{n}{unit}", st.integers(1, 90), st.sampled_from(["m", "h", "d"])),
    st.builds(lambda n: f"{n}wd", st.integers(1, 60)),
    st.sampled_from(["90d", "60wd", "1s", "89d23h59m59s", "1h30m"]),
)
invalid_durations = st.one_of(
    st.builds(lambda n, unit: f"{n}{unit}", st.integers(91, 10 ** 9), st.sampled_from(["d", "h"])),
    st.sampled_from(["3000000d", "61wd", "0s", "-5m", "5x", ""]),
)
clock = st.builds(lambda n, unit: f"{n}{unit}", st.integers(1, 90), st.sampled_from(["s", "m", "h", "d"]))
starts = st.sampled_from([BASE["start"], ["keep_order", "move_to_vip_room"]])
any_start = st.lists(st.sampled_from(STEPS), min_size=1, max_size=3, unique=True)


@st.composite
def playbooks(draw) -> dict:
    """Valid durations everywhere, except now and then one out of bounds or malformed, or any start."""
    raw = copy.deepcopy(BASE)
    durations = valid_durations
    for sid, step in raw["steps"].items():
        if "deadline" in step:
            step["deadline"] = draw(durations)
        for outcome in step.get("outcomes", {}).values():
            if "set_warning_tier" in outcome:
                outcome["set_warning_tier"] = draw(st.integers(-1, 5))
            if outcome.get("appointment"):
                outcome["appointment"]["remind_before"] = draw(clock)
        if step.get("follow_up"):
            step["follow_up"]["after"] = draw(durations)
            step["follow_up"]["expires_after"] = draw(clock)
        step["title"]["zh-CN"] = draw(st.text(min_size=1, max_size=30))
    raw["escalation"]["grace"] = draw(clock)
    raw["start"] = draw(starts) if draw(st.integers(0, 5)) < 5 else draw(any_start)
    if draw(st.integers(0, 3)) == 3:
        sid = draw(st.sampled_from([s for s in STEPS if "deadline" in BASE["steps"][s]]))
        raw["steps"][sid]["deadline"] = draw(invalid_durations)
    return raw


class Loop:
    """An event loop on its own thread, so hypothesis' synchronous examples can await the server."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 120):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


async def run_first_steps(env, settings, playbook) -> list[str]:
    """Start an incident on `playbook`, go past its first deadlines, record its first steps' outcomes, go past
    the next deadlines; the workflow task failures in its history."""
    directory = load_directory(EXAMPLE_DIRECTORY)
    request = prepare_start(directory=directory, playbook=playbook, hall_id="xicheng", headcount=12,
                            lead_name="张建国", lead_phone="13800138000", summary="电量异常", started_by="sun.li",
                            incident_id=f"prop-{uuid.uuid4().hex[:10]}")
    handle = await env.client.start_workflow(WF.run, request, id=request.incident_id, task_queue=settings.task_queue)
    try:
        await skip(env, AFTER_EVERYTHING, handle)
        state = await handle.query(WF.state)
        if state.status == "open":
            for sid in state.current_steps:
                step = playbook.steps[sid]
                name, chosen = next(iter(step.outcomes.items()), (None, None))
                holders = [s.id for s in request.roster.get(step.owner, [])]
                if step.kind == "task" and chosen and not chosen.requires_data and holders:
                    await handle.execute_update(WF.record_outcome, RecordOutcome(
                        step=sid, outcome=name, actor=holders[0], note="property test"))
            await skip(env, AFTER_EVERYTHING, handle)
        events = (await handle.fetch_history()).events
        return [str(e.workflow_task_failed_event_attributes.failure.message) for e in events
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]
    finally:
        try:
            await handle.terminate(reason="property test done")
        except RPCError:
            pass  # it had closed by itself


def test_accepted_playbooks_run_their_first_steps_without_failed_tasks():
    loop = Loop()
    scratch = Path(tempfile.mkdtemp(prefix="groupdesk-prop-"))
    shutil.copytree(SHIPPED.parent / "templates", scratch / "templates")
    settings = setup_for(scratch / "data", queue="prop").settings

    async def up():
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(temporal_test_server()), data_converter=pydantic_data_converter)
        await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
            namespace=env.client.namespace, search_attributes=sa.indexed_types()))
        worker = build_worker(env.client, settings)
        task = asyncio.ensure_future(worker.run())
        return env, worker, task

    env, worker, task = loop.run(up())
    seen = {"accepted": 0, "rejected": 0}
    try:
        @given(raw=playbooks())
        @hsettings(max_examples=15, deadline=None, database=None, derandomize=True,
                   suppress_health_check=list(HealthCheck))
        def property_holds(raw):
            path = scratch / f"variant-{uuid.uuid4().hex[:8]}.yaml"
            path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
            try:
                playbook = load_playbook(path, templates_root=scratch / "templates")
            except PlaybookError as exc:
                seen["rejected"] += 1
                print("refused:", str(exc).split(": ", 1)[-1][:160])
                assert "\n" not in str(exc) and str(exc).startswith(str(path)), "one line naming the file"
                return
            seen["accepted"] += 1
            note(f"start={raw['start']} deadlines={[s.get('deadline') for s in raw['steps'].values()]}")
            failures = loop.run(run_first_steps(env, settings, playbook))
            assert not failures, failures

        property_holds()
    finally:
        async def down():
            await worker.shutdown()
            await task
            await env.shutdown()

        loop.run(down())
        loop.close()
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\nplaybook property: {seen['accepted']} accepted variants ran clean, {seen['rejected']} refused in one line")
    assert seen["accepted"] >= 3, seen
