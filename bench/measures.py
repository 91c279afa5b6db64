"""What a mass-event run measures of its processes and how it shows them: memory, CPU, the profile, table, chart."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import targets

RESULTS = Path(__file__).resolve().parent / "results"


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def ts(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def report(groupdesk: dict, baseline: dict, args, rss: dict, m: dict) -> dict:
    print(f"\nmass event: {args.incidents} drill incidents at once, time scale {args.time_scale:g}, "
          f"paths {dict(groupdesk['per_path'])}")
    print(targets.table(m, args.incidents, "figure (s, events, CPU s)"))
    for path, kinds in groupdesk["event_types"].items():
        print(f"  {path} events per incident by type: " + ", ".join(f"{k} {v:g}" for k, v in kinds.items()))
    print(f"SMS stored {groupdesk['sms']}, duplicates {groupdesk['duplicates']}, lost {groupdesk['lost']}; "
          f"reminders measured {len(groupdesk['timer_lag'])}")
    print(f"peak RSS MB: groupdesk worker {rss['worker']:.0f}, baseline worker {rss['baseline']:.0f}, "
          f"Temporal server {rss['server']:.0f}")
    return {"metrics": m, "event_types": groupdesk["event_types"], "sms": groupdesk["sms"],
            "duplicates": groupdesk["duplicates"], "lost": groupdesk["lost"], "rss_mb": rss,
            "throughput_ratio": groupdesk["throughput"] / baseline["throughput"]}


def chart(groupdesk: dict, baseline: dict, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib not installed: no chart)")
        return
    fig, ax = plt.subplots(figsize=(8, 4.5))
    bins = 40
    ax.hist([v * 1000 for v in groupdesk["first_sms"]], bins=bins, alpha=0.6, label="groupdesk: start -> first SMS")
    ax.hist([v * 1000 for v in baseline["first_sms"]], bins=bins, alpha=0.6, label="baseline: start -> first activity")
    ax.set_xlabel("ms")
    ax.set_ylabel("incidents")
    ax.set_title(f"Mass event, {groupdesk['incidents']} incidents at once")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"chart: {path}")


def profile(pid: int, name: str) -> subprocess.Popen:
    """py-spy sampling the groupdesk worker (and its native threads: the SDK's core): an SVG flame graph, or collapsed
    stacks (one line per stack and its count) for a name ending .txt."""
    RESULTS.mkdir(exist_ok=True)
    spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen([str(spy), "record", "--pid", str(pid), "--rate", "50", "--nonblocking",
                             "--output", str(RESULTS / name), "--format", "raw" if name.endswith(".txt") else "flamegraph"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


class Cpu:
    """CPU seconds used by the server and a worker between two moments (the split the profile needs)."""

    def __init__(self, server_pid: int | None, worker_pid: int):
        self.pids = {"server": server_pid, "worker": worker_pid}
        self.at = {k: targets.cpu_seconds(p) if p else 0.0 for k, p in self.pids.items()}

    def used(self) -> dict[str, float]:
        return {k: (targets.cpu_seconds(p) if p else 0.0) - self.at[k] for k, p in self.pids.items()}
