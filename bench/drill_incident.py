"""A full drill incident per path of the smart-meter playbook, on the dev server from the wheel.

    .venv/bin/python bench/drill_incident.py [--time-scale 20000] [--repeat 3]

Prints, per path: wall time from start to closed, history events, SMS stored, and the
start -> first SMS latency. Staff act as soon as a step opens (scripted, through Updates).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from groupdesk.engine.binaries import temporal_cli  # noqa: E402
from groupdesk.runtime.config import EXAMPLE_DIRECTORY, REPO_ROOT, Settings  # noqa: E402
from groupdesk.people.directory import load_directory  # noqa: E402
from groupdesk.drills.smart_meter import PATHS, answer_follow_up  # noqa: E402
from groupdesk.incidents.gateway import Gateway  # noqa: E402
from groupdesk.incidents.registration import prepare_start  # noqa: E402
from groupdesk.runtime.logs import configure_logging  # noqa: E402
from groupdesk.messaging.outbox import Outbox  # noqa: E402
from groupdesk.people.permissions import viewer_for  # noqa: E402
from groupdesk.playbooks.loader import find_playbook  # noqa: E402
from worker import build_worker  # noqa: E402
from groupdesk.core import search_attributes as sa  # noqa: E402


async def first_sms_latency(outbox: Outbox, incident_id: str, began: float) -> float:
    while not outbox.list(incident_id, limit=1):
        await asyncio.sleep(0.005)
    return time.monotonic() - began


async def run(time_scale: float, repeat: int, encrypt: bool = False) -> list[dict]:
    import base64
    import logging
    import os

    from temporalio.client import Client

    from groupdesk.engine.codec import data_converter

    configure_logging("console", level=logging.WARNING)
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()), search_attributes=sa.ALL,
        data_converter=pydantic_data_converter,
    )
    keys = f"k1={base64.b64encode(os.urandom(32)).decode()}" if encrypt else ""
    directory = load_directory(EXAMPLE_DIRECTORY)
    playbook = find_playbook(REPO_ROOT / "playbooks", "smart-meter-group-complaint")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(GROUPDESK_DATA_DIR=Path(tmp), GROUPDESK_TASK_QUEUE="bench", GROUPDESK_CODEC_KEYS=keys)
        client = await Client.connect(env.client.service_client.config.target_host,
                                      data_converter=data_converter(settings))
        outbox = Outbox(settings)
        gateway, hall_lead = Gateway(client, settings), viewer_for(directory, "sun.li")
        async with build_worker(client, settings):
            for name, drive in PATHS.items():
                for n in range(repeat):
                    request = prepare_start(
                        directory=directory, playbook=playbook, hall_id="xicheng", headcount=20,
                        lead_name="张建国", lead_phone="13800138000", summary="智能电表换装后电量异常增长",
                        started_by="sun.li", incident_id=f"bench-{name.replace('_', '-')}-{n}", drill=True, time_scale=time_scale,
                    )
                    began = time.monotonic()
                    incident = gateway.incident(await gateway.start(hall_lead, request))
                    latency = asyncio.create_task(first_sms_latency(outbox, request.incident_id, began))
                    await drive(incident)
                    await answer_follow_up(incident)
                    state = await incident.result()
                    wall = time.monotonic() - began
                    history = await incident.history()
                    messages = outbox.list(request.incident_id)
                    sent_twice = len(messages) - len({(m.to_number, m.body) for m in messages})
                    rows.append({"encrypted": encrypt, "path": name, "wall_s": round(wall, 2), "history_events": len(history.events),
                                 "sms": len(messages), "duplicates": sent_twice,
                                 "first_sms_s": round(await latency, 3), "timeline": len(state.timeline)})
    await env.shutdown()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", type=float, default=20000.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--encrypt", action="store_true", help="also run with payload encryption and compare")
    args = parser.parse_args()
    rows = asyncio.run(run(args.time_scale, args.repeat))
    if args.encrypt:
        rows += asyncio.run(run(args.time_scale, args.repeat, encrypt=True))
    print(f"\nfull drill incidents, time scale {args.time_scale:g}, {args.repeat} per path (median)")
    print(f"{'path':46} {'wall s':>7} {'events':>7} {'SMS':>5} {'first SMS s':>12} {'dupes':>6}")
    for encrypted in sorted({r["encrypted"] for r in rows}):
        for path in PATHS:
            mine = [r for r in rows if r["path"] == path and r["encrypted"] == encrypted]
            med = {k: statistics.median(r[k] for r in mine)
                   for k in ("wall_s", "history_events", "sms", "first_sms_s")}
            label = path + (" (encrypted)" if encrypted else "")
            print(f"{label:46} {med['wall_s']:7.2f} {med['history_events']:7.0f} {med['sms']:5.0f}"
                  f" {med['first_sms_s']:12.3f} {sum(r['duplicates'] for r in mine):6d}")
    out = Path(__file__).parent / "results" / "drill_incident.json"
    out.write_text(json.dumps({"time_scale": args.time_scale, "runs": rows}, indent=2), encoding="utf-8")
    print(f"\nraw results: {out}")
    if any(r["duplicates"] for r in rows):
        sys.exit("duplicate SMS stored")


if __name__ == "__main__":
    main()
