"""Two workers share incidents; SIGKILL one mid-batch and the other finishes them all, nothing lost or sent twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter

import pytest

from groupdesk.incidents.gateway import start_incident
from groupdesk.runtime.config import REPO_ROOT, Settings
from groupdesk.drills.smart_meter import PATHS, answer_follow_up
from groupdesk.core.models import IncidentState
from groupdesk.messaging.outbox import Outbox

pytestmark = pytest.mark.devserver
INCIDENTS = 8


def spawn_worker(env: dict, log) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "worker.py"], env=env, cwd=REPO_ROOT, stdout=open(log, "wb"),
                            stderr=subprocess.STDOUT)


async def test_sigkill_one_of_two_workers_mid_batch(dev_env, tmp_path, make_start):
    queue = f"pair-{uuid.uuid4().hex[:6]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROUPDESK_")}
    env.update(TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host, GROUPDESK_DATA_DIR=str(tmp_path),
               GROUPDESK_TASK_QUEUE=queue, GROUPDESK_DEV_MODE="true")  # workers on this machine
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    workers = [spawn_worker(env, log) for log in logs]
    began = time.monotonic()
    try:
        while not all(b"worker started" in log.read_bytes() for log in logs):
            assert all(w.poll() is None for w in workers) and time.monotonic() - began < 30
            await asyncio.sleep(0.1)
        settings = Settings(GROUPDESK_DATA_DIR=tmp_path, GROUPDESK_TASK_QUEUE=queue)
        paths = list(PATHS.items())
        handles = []
        for n in range(INCIDENTS):
            request = make_start(incident_id=f"pair-{n}-{uuid.uuid4().hex[:6]}", drill=True, time_scale=20000.0,
                                 lead_phone=f"1380013{n:04d}")
            handles.append((paths[n % len(paths)], await start_incident(dev_env.client, settings, request)))

        async def run(path, handle):
            await path[1](handle)
            await answer_follow_up(handle)
            return await dev_env.client.get_workflow_handle(handle.id, result_type=IncidentState).result()

        batch = asyncio.gather(*(run(path, handle) for path, handle in handles))
        await asyncio.sleep(2)
        workers[0].send_signal(signal.SIGKILL)  # mid-batch
        workers[0].wait()
        finals = await asyncio.wait_for(batch, timeout=240)
        elapsed = time.monotonic() - began
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=20)
    assert [f.status for f in finals] == ["closed"] * INCIDENTS
    rows = [r for f in finals for r in Outbox(settings).list(f.id)]
    twice = [k for k, n in Counter((r.to_number, r.body) for r in rows).items() if n > 1]
    assert not twice and all(r.status == "sent" for r in rows)
    assert all(f.deliveries and not f.failed_actions for f in finals)
    print(f"\ntwo workers, one SIGKILLed after 2 s: {INCIDENTS} incidents closed, {len(rows)} SMS, none twice,"
          f" {elapsed:.1f}s")
