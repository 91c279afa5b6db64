"""ops reset: back to just before a step began, recorded, and no message sent twice unless asked."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections import Counter

import pytest


from groupdesk.drills.smart_meter import record, wait_for
from groupdesk.core.models import DecideApproval
from groupdesk.messaging.outbox import Outbox
from helpers import WF, decide, run_cli, start
from worker import build_worker

pytestmark = pytest.mark.devserver


async def cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return await run_cli(env, *args)


async def at_metering(env, settings, make_start):
    handle = await start(env, settings, make_start(incident_id=f"reset-{uuid.uuid4().hex[:8]}"))
    await record(handle, "move_to_vip_room", "done", "zhao.min")
    await record(handle, "keep_order", "done", "qian.lei")
    await record(handle, "talk_with_lead", "not_accepted", "sun.li")
    await wait_for(handle, lambda s: "director_review" in s.current_steps)
    await decide(handle, "wang.jun")
    await wait_for(handle, lambda s: sum("metering_explanation" in d.key for d in s.deliveries) >= 2)  # the two technicians
    return handle


async def explanation_sent(settings, incident: str, copies: int, timeout: float = 30) -> None:
    """Wait (with a deadline) until every message of the re-entered step is sent, `copies` times each."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        rows = [r for r in Outbox(settings).list(incident) if r.step == "metering_explanation"]
        per_message = Counter((r.to_number, r.purpose) for r in rows)
        if rows and all(r.status == "sent" for r in rows) and set(per_message.values()) == {copies}:
            return
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("resend", [False, True])
async def test_reset_to_a_step(dev_env, dev_setup, tmp_path, make_start, resend):
    settings, env = dev_setup.settings, dev_setup.env
    async with build_worker(dev_env.client, settings):
        handle = await at_metering(dev_env, settings, make_start)
        refused = await cli(env, "ops", "reset", handle.id, "--to-step", "metrology_calibration",
                            "--reason", "x", "--as", "ma.ning")
        assert refused.returncode != 0 and "never began" in refused.stderr
        args = ["ops", "reset", handle.id, "--to-step", "metering_explanation", "--reason",
                "主任误操作,重新审批", "--as", "ma.ning"] + (["--resend"] if resend else [])
        done = await cli(env, *args)
        assert done.returncode == 0, done.stderr
        fresh = dev_env.client.get_workflow_handle(handle.id)
        st = await wait_for(fresh, lambda s: any(e.kind == "reset" for e in s.timeline))
        assert st.current_steps == ["director_review"] and st.warning_tier == 0, "back before the approval"
        (entry,) = [e for e in st.timeline if e.kind == "reset"]
        assert entry.actor == "ma.ning" and "主任误操作" in entry.detail
        await fresh.execute_update(WF.decide_approval, DecideApproval(decision="approve", actor="wang.jun"))
        await wait_for(fresh, lambda s: s.current_steps == ["metering_explanation"])
        await explanation_sent(settings, handle.id, copies=2 if resend else 1)
        exported = await cli(env, "history", "export", handle.id, "-o", str(tmp_path / "h.json"))
        assert exported.returncode == 0, exported.stderr
        from_file = await cli(env, "replay", str(tmp_path / "h.json"))
        live = await cli(env, "replay", "--workflow-id", handle.id)
        assert from_file.returncode == 0 and live.returncode == 0, from_file.stderr + live.stderr
        assert "1 replayed, 0 failed" in live.stdout
    rows = Outbox(settings).list(handle.id)
    per_message = Counter((r.to_number, r.step, r.purpose) for r in rows if r.step == "metering_explanation")
    assert set(per_message.values()) == ({2} if resend else {1})
