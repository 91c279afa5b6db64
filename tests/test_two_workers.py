"""Two workers share incidents; SIGKILL one mid-batch and the other finishes them all, nothing lost or sent twice."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timezone

import pytest

from groupdesk.incidents.gateway import start_incident
from groupdesk.engine.client import connect
from groupdesk.runtime.config import REPO_ROOT
from groupdesk.drills.smart_meter import PATHS, answer_follow_up
from groupdesk.core.models import IncidentState
from groupdesk.messaging.outbox import ABANDONED_AFTER, Outbox
from helpers import patient_playbook, setup_for, until

pytestmark = pytest.mark.devserver
INCIDENTS = 8


def spawn_worker(env: dict, log) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "worker.py"], env=env, cwd=REPO_ROOT, stdout=open(log, "wb"),
                            stderr=subprocess.STDOUT)


async def test_sigkill_one_of_two_workers_mid_batch(dev_env, tmp_path, make_start):
    setup = setup_for(tmp_path, dev_env, queue="pair", production=True)  # worker.py is always production
    env = setup.process_env()
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    workers = [spawn_worker(env, log) for log in logs]
    began = time.monotonic()
    try:
        while not all(b"worker started" in log.read_bytes() for log in logs):
            assert all(w.poll() is None for w in workers) and time.monotonic() - began < 30
            await asyncio.sleep(0.1)
        settings = setup.settings
        client = await connect(settings)  # as the workers do: payloads sealed with the production keys
        paths = list(PATHS.items())
        handles = []
        # surveys that wait (60 days, 4 min here, not 13 s): a task that waits out the killed worker must not lose it
        patient = patient_playbook(tmp_path)
        for n in range(INCIDENTS):
            request = make_start(incident_id=f"pair-{n}-{uuid.uuid4().hex[:6]}", drill=True, time_scale=20000.0,
                                 lead_phone=f"1380013{n:04d}", playbook=patient)
            handles.append((paths[n % len(paths)], await start_incident(client, settings, request)))

        async def run(path, handle):
            await path[1](handle)
            await answer_follow_up(handle)
            return await client.get_workflow_handle(handle.id, result_type=IncidentState).result()

        batch = asyncio.gather(*(run(path, handle) for path, handle in handles))
        outbox = Outbox(settings)
        # Killed mid-drill, not at a moment guessed in seconds: once every incident has stored its first messages.
        await until(lambda: {r.incident_id for r in outbox.list()} >= {h.id for _, h in handles},
                    "not every incident stored its first messages", seconds=120)
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait()
        finals = await asyncio.wait_for(batch, timeout=240)
        elapsed = time.monotonic() - began
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=20)
    assert [f.status for f in finals] == ["closed"] * INCIDENTS
    rows = [r for f in finals for r in outbox.list(f.id)]
    twice = [k for k, n in Counter((r.to_number, r.body) for r in rows).items() if n > 1]
    assert not twice
    # A message the killed worker took in a workflow task that never completed, and that its successor did not
    # decide again (an answer reached it first): the incident went on without it. The sweep parks it for ops.
    abandoned = {r.key for r in outbox.sweep_abandoned(datetime.now(timezone.utc) + ABANDONED_AFTER)}
    assert all(r.status == "sent" or r.key in abandoned for r in outbox.list() if r.incident_id.startswith("pair-"))
    recorded = {d.key for f in finals for d in f.deliveries}
    assert not abandoned & recorded  # what an incident records as sent was sent
    parked = [(f.id, a.step, a.purpose, a.attempts, a.error) for f in finals for a in f.failed_actions]
    assert all(f.deliveries for f in finals) and not parked, parked
    print(f"\ntwo workers, one SIGKILLed once all had stored messages: {INCIDENTS} incidents closed, {len(rows)} SMS,"
          f" none twice, {len(abandoned)} abandoned by the killed worker, {elapsed:.1f}s")


async def test_a_deadline_that_passed_while_no_worker_ran_reminds_in_the_first_task_of_the_one_that_takes_over(
        dev_env, tmp_path, make_start):
    """The deadline timer fires while the incident's worker is dead; the task goes to the dead worker's queue,
    times out there, and the other worker runs it: the reminders go out in that task, not a deadline later."""
    from temporalio.api.enums.v1 import EventType as T

    setup = setup_for(tmp_path, dev_env, queue="takeover", production=True)
    env = setup.process_env()
    client = await connect(setup.settings)
    first = spawn_worker(env, tmp_path / "a.log")
    try:
        await until(lambda: b"worker started" in (tmp_path / "a.log").read_bytes(), "the worker did not start", 30)
        request = make_start(drill=True, time_scale=50.0, incident_id=f"takeover-{uuid.uuid4().hex[:6]}")  # 6 s
        handle = await start_incident(client, setup.settings, request)

        async def events() -> list:
            return list((await client.get_workflow_handle(handle.id).fetch_history()).events)

        async def has(kind) -> bool:
            return any(e.event_type == kind for e in await events())

        # killed seconds before the timer is due: a loaded host cannot let it run the reminders itself
        await until(lambda: has(T.EVENT_TYPE_TIMER_STARTED), "the first deadline timer was not armed", 30)
        first.send_signal(signal.SIGKILL)
        first.wait()
        await until(lambda: has(T.EVENT_TYPE_TIMER_FIRED), "the deadline timer did not fire", 30)
        survivor = spawn_worker(env, tmp_path / "b.log")
        try:
            async def survivors_task():  # the commands of the first task completed after the timer fired
                history = await events()
                fired = next(i for i, e in enumerate(history) if e.event_type == T.EVENT_TYPE_TIMER_FIRED)
                done = next((i for i, e in enumerate(history) if i > fired
                             and e.event_type == T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED), None)
                if done is None:
                    return None
                end = next((i for i, e in enumerate(history) if i > done
                            and e.event_type == T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED), len(history))
                return history[fired:end]

            task = await until(survivors_task, "the survivor never completed the incident's task", 60)
        finally:
            survivor.terminate()
            survivor.wait(timeout=20)
    finally:
        if first.poll() is None:
            first.kill()
    kinds = [e.event_type for e in task]
    assert T.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT in kinds, "the scenario: the dead worker's task timed out first"
    assert T.EVENT_TYPE_MARKER_RECORDED in kinds, \
        f"no reminder batch in the survivor's first task: {[T.Name(k) for k in kinds]}"
