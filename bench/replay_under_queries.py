"""Incidents driven while staff read them without pause, then every history replayed against this code.

    python bench/replay_under_queries.py --incidents 36 --at-once 12 --readers 3

Core answers a query that comes while a batch's result waits by completing the workflow task with the batch's
marker and leaving what follows to a new task; replay keeps both in one. Where what follows differs for that
(a timer armed before the landing and again after, a deadline that fell due in between), the history no longer
replays. Prints how many tasks were split that way and how many histories no longer replay; each of those would
fail its incident on the next replay (a worker restart, an eviction from the cache).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from groupdesk.core import search_attributes as sa  # noqa: E402
from groupdesk.drills.smart_meter import PATHS, answer_follow_up  # noqa: E402
from groupdesk.engine.binaries import temporal_cli  # noqa: E402
from groupdesk.engine.replay import replay  # noqa: E402
from groupdesk.incidents.gateway import Incident, start_incident  # noqa: E402
from groupdesk.incidents.registration import prepare_start  # noqa: E402
from groupdesk.people.directory import load_directory  # noqa: E402
from groupdesk.playbooks.loader import find_playbook  # noqa: E402
from groupdesk.runtime.config import EXAMPLE_DIRECTORY, Settings  # noqa: E402
from helpers import split_by_query  # noqa: E402
from worker import build_worker  # noqa: E402


async def main(args) -> None:
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=str(temporal_cli()), search_attributes=sa.ALL,
                                                data_converter=pydantic_data_converter)
    directory = load_directory(EXAMPLE_DIRECTORY)
    playbook = find_playbook(ROOT / "playbooks", "smart-meter-group-complaint")
    names, gate = sorted(PATHS), asyncio.Semaphore(args.at_once)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(GROUPDESK_DATA_DIR=Path(tmp), GROUPDESK_TASK_QUEUE="replay-under-queries")

        async def one(i: int):
            async with gate:
                request = prepare_start(directory=directory, playbook=playbook, hall_id="xicheng", started_by="sun.li",
                                        incident_id=f"read-{i}", drill=True, time_scale=20_000.0, headcount=18,
                                        lead_name="张建国", lead_phone="13800138000", summary="智能电表换装后电量异常增长")
                incident = Incident.of(await start_incident(env.client, settings, request))
                reading = True

                async def read() -> None:
                    while reading:
                        with contextlib.suppress(Exception):
                            await incident.live_state()

                readers = [asyncio.create_task(read()) for _ in range(args.readers)]
                try:
                    await PATHS[names[i % len(names)]](incident)
                    await answer_follow_up(incident)
                    await incident.result()
                finally:
                    reading = False
                    await asyncio.gather(*readers)
                return await incident.history()

        async with build_worker(env.client, settings):
            histories = await asyncio.gather(*(one(i) for i in range(args.incidents)))
    failed = [(h.workflow_id, o.diverged_at) for h in histories if (o := await replay(h, h.workflow_id)).error]
    await env.shutdown()
    print(f"{'incidents':>10} {'tasks split by a query':>23} {'histories that no longer replay':>32}")
    print(f"{len(histories):>10} {sum(split_by_query(h.events) for h in histories):>23} {len(failed):>32}")
    for workflow_id, where in failed:
        print(f"  {workflow_id}: diverges at {where}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--incidents", type=int, default=36)
    parser.add_argument("--at-once", type=int, default=12)
    parser.add_argument("--readers", type=int, default=3, help="staff reading each incident without pause")
    asyncio.run(main(parser.parse_args()))
