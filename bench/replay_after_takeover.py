"""Incidents on two worker processes, one SIGKILLed mid-run, then every history replayed against this code.

    python bench/replay_after_takeover.py --incidents 8 --rounds 3

The survivor takes the killed worker's incidents over once their workflow tasks time out (10 s). Each history that
no longer replays would fail its incident at the next replay (another restart, an eviction from the cache). Prints,
per round, how many histories no longer replay, the first event each diverges at, and the error. What it found
(README, "Replay hazards"): the survivor runs its first task of an incident in two activations (the fired timer on
a stale clock, then the task's update) where replay runs one.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from groupdesk.core import search_attributes as sa  # noqa: E402
from groupdesk.drills.smart_meter import PATHS, answer_follow_up  # noqa: E402
from groupdesk.engine.binaries import temporal_cli  # noqa: E402
from groupdesk.engine.client import connect  # noqa: E402
from groupdesk.engine.replay import replay  # noqa: E402
from groupdesk.incidents.gateway import Incident, start_incident  # noqa: E402
from groupdesk.incidents.registration import prepare_start  # noqa: E402
from groupdesk.people.directory import load_directory  # noqa: E402
from groupdesk.playbooks.loader import find_playbook  # noqa: E402
from groupdesk.runtime.config import EXAMPLE_DIRECTORY  # noqa: E402
from helpers import setup_for  # noqa: E402


async def one_round(env, incidents: int, kill_after: float) -> list[tuple[str, str, str]]:
    """One pair of workers, `incidents` drills, the first worker killed after `kill_after` s; the failed replays."""
    directory = load_directory(EXAMPLE_DIRECTORY)
    playbook = find_playbook(ROOT / "playbooks", "smart-meter-group-complaint")
    with tempfile.TemporaryDirectory() as tmp:
        setup = setup_for(Path(tmp), env, queue="takeover", production=True)
        logs = [open(Path(tmp) / f"{n}.log", "wb") for n in "ab"]
        workers = [subprocess.Popen([sys.executable, "worker.py"], env=setup.process_env(), cwd=ROOT, stdout=log,
                                    stderr=subprocess.STDOUT) for log in logs]
        try:
            deadline = time.monotonic() + 60
            while not all(b"worker started" in (Path(tmp) / f"{n}.log").read_bytes() for n in "ab"):
                assert time.monotonic() < deadline, "the workers did not start"
                await asyncio.sleep(0.1)
            client = await connect(setup.settings)
            names, handles = sorted(PATHS), []
            for n in range(incidents):
                request = prepare_start(directory=directory, playbook=playbook, hall_id="xicheng", started_by="sun.li",
                                        incident_id=f"takeover-{n}-{uuid.uuid4().hex[:6]}", drill=True,
                                        time_scale=20_000.0, headcount=18, lead_name="张建国",
                                        lead_phone=f"1380013{n:04d}", summary="智能电表换装后电量异常增长")
                handles.append(Incident.of(await start_incident(client, setup.settings, request)))

            async def drive(i: int, incident: Incident) -> None:
                await PATHS[names[i % len(names)]](incident)
                await answer_follow_up(incident)
                await incident.result()

            driving = asyncio.gather(*(drive(i, h) for i, h in enumerate(handles)), return_exceptions=True)
            await asyncio.sleep(kill_after)
            workers[0].send_signal(signal.SIGKILL)
            await asyncio.wait_for(driving, timeout=300)
            failed = []
            for incident in handles:
                history = await incident.history()
                outcome = await replay(history, incident.id, converter=client.data_converter)
                if outcome.error:
                    failed.append((incident.id, outcome.diverged_at or "?", outcome.error.split("message: ")[-1][:90]))
            return failed
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.terminate()
                    worker.wait(timeout=20)
            for log in logs:
                log.close()


async def main(args) -> None:
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=str(temporal_cli()), search_attributes=sa.ALL,
                                                data_converter=pydantic_data_converter)
    try:
        print(f"{'round':>5} {'incidents':>10} {'histories that no longer replay':>32}")
        for n in range(args.rounds):
            failed = await one_round(env, args.incidents, args.kill_after)
            print(f"{n + 1:>5} {args.incidents:>10} {len(failed):>32}")
            for workflow_id, where, error in failed:
                print(f"  {workflow_id}: {where}: {error}")
    finally:
        await env.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--incidents", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kill-after", type=float, default=2.0, help="seconds before the first worker is killed")
    asyncio.run(main(parser.parse_args()))
