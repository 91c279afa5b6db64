"""One roster rule: who may act is who the directory names now, as for the SMS (not the roster copied at start)."""

from __future__ import annotations

import uuid

import pytest
import yaml
from temporalio.client import WorkflowUpdateFailedError

from groupdesk.runtime.config import EXAMPLE_DIRECTORY, REPO_ROOT
from groupdesk.people.directory import load_directory
from groupdesk.drills.smart_meter import wait_for
from groupdesk.incidents.registration import prepare_start
from groupdesk.playbooks.loader import load_playbook
from helpers import outcome, start, run_cli as cli
from worker import build_worker

pytestmark = pytest.mark.devserver



async def test_a_guide_added_after_the_start_records_their_step_from_the_cli(dev_env, dev_setup, tmp_path):
    staff = yaml.safe_load(EXAMPLE_DIRECTORY.read_text(encoding="utf-8"))
    directory_file = tmp_path / "directory.yaml"
    directory_file.write_text(yaml.safe_dump(staff, allow_unicode=True), encoding="utf-8")
    setup = dev_setup.but(GROUPDESK_DIRECTORY=directory_file)
    env, settings = setup.env, setup.settings
    request = prepare_start(directory=load_directory(directory_file),
                            playbook=load_playbook(REPO_ROOT / "playbooks" / "smart-meter-group-complaint.yaml"),
                            hall_id="xicheng", headcount=9, lead_name="张建国", lead_phone="13800138000",
                            summary="电量异常", started_by="sun.li", incident_id=f"roster-{uuid.uuid4().hex[:8]}")
    async with build_worker(dev_env.client, settings):
        handle = await start(dev_env, settings, request)
        await wait_for(handle, lambda s: len(s.deliveries) >= 1)
        # the hall changes its guide after the start: gao.jie replaces zhao.min
        staff["people"].append({"id": "gao.jie", "name": "高杰", "mobile": "+86 139 0000 0105"})
        staff["halls"][0]["roles"]["guide"] = ["gao.jie"]
        directory_file.write_text(yaml.safe_dump(staff, allow_unicode=True), encoding="utf-8")

        gone = await cli(env, "outcome", handle.id, "move_to_vip_room", "done", "--as", "zhao.min")
        assert gone.returncode == 2 and "zhao.min may not" in gone.stderr, gone.stderr  # in the start's roster, not now
        with pytest.raises(WorkflowUpdateFailedError):  # sent straight to Temporal (no roles): the start's roster
            await outcome(handle, "move_to_vip_room", "done", "gao.jie")
        done = await cli(env, "outcome", handle.id, "move_to_vip_room", "done", "--as", "gao.jie")
        assert done.returncode == 0, done.stderr
        noted = await cli(env, "note", handle.id, "已引导至贵宾室", "--as", "gao.jie")  # a signal: dropped if refused
        assert noted.returncode == 0, noted.stderr
        state = await wait_for(handle, lambda s: any(e.kind == "note" for e in s.timeline))
        assert state.steps["move_to_vip_room"].status == "done"
        assert [(e.kind, e.actor) for e in state.timeline if e.kind in ("outcome", "note")] == [
            ("outcome", "gao.jie"), ("note", "gao.jie")]
