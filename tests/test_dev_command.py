"""`groupdesk dev`: server, UI and worker from one command; Ctrl-C stops all; incidents survive."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from groupdesk.runtime.config import REPO_ROOT
from groupdesk.engine.devserver import port_open
from helpers import quiet_port

pytestmark = pytest.mark.devserver


def start_dev(env, log):
    process = subprocess.Popen([sys.executable, "-m", "groupdesk.cli", "dev"], env=env, cwd=REPO_ROOT,
                               stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while b"worker started" not in log.read_bytes():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    return process


def test_dev_runs_everything_and_incidents_survive_a_restart(tmp_path):
    port, ui, web = quiet_port(), quiet_port(), quiet_port()  # checked closed after each stop, and used again
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROUPDESK_")}
    env.update(TEMPORAL_ADDRESS=f"127.0.0.1:{port}", GROUPDESK_DEV_UI_PORT=str(ui), GROUPDESK_WEB_PORT=str(web),
               GROUPDESK_DATA_DIR=str(tmp_path / "data"))
    log = tmp_path / "dev.log"
    dev = start_dev(env, log)
    try:
        printed = log.read_text()
        assert f"http://127.0.0.1:{ui}" in printed and "groupdesk start --hall" in printed
        assert urllib.request.urlopen(f"http://127.0.0.1:{ui}/", timeout=10).status == 200
        assert f"http://127.0.0.1:{web}" in printed
        health = urllib.request.urlopen(f"http://127.0.0.1:{web}/healthz", timeout=10)
        assert json.loads(health.read()) == {"status": "ok"}
        data = tmp_path / "data"  # phones, SMS text, keys, Temporal's database: this user's only
        assert data.stat().st_mode & 0o777 == 0o700
        modes = {p.name: p.stat().st_mode & 0o777 for p in data.iterdir() if p.is_file()}
        assert "temporal.sqlite3" in modes and set(modes.values()) == {0o600}, {k: oct(v) for k, v in modes.items()}
        cli = [sys.executable, "-m", "groupdesk.cli"]
        started = subprocess.run([*cli, "start", "--hall", "dongcheng", "--headcount", "6", "--lead-name", "李女士",
                                  "--lead-phone", "13700137000", "--summary", "电费异常", "--drill"],
                                 env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
        assert started.returncode == 0, started.stderr
        incident = started.stdout.strip()
        dev.send_signal(signal.SIGINT)  # Ctrl-C
        dev.wait(timeout=30)
        assert not any(port_open("127.0.0.1", p) for p in (port, ui, web))
        dev = start_dev(env, tmp_path / "dev-restarted.log")
        shown = subprocess.run([*cli, "show", incident, "--json"], env=env, cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=60)
        assert shown.returncode == 0, shown.stderr
        state = json.loads(shown.stdout)
        assert state["status"] == "open" and state["drill"] and state["hall_id"] == "dongcheng"
        assert set(state["current_steps"]) == {"move_to_vip_room", "keep_order"}
        dev.send_signal(signal.SIGTERM)  # a plain `kill` stops the server too
        dev.wait(timeout=30)
        assert not any(port_open("127.0.0.1", p) for p in (port, ui, web))
    finally:
        if dev.poll() is None:
            dev.send_signal(signal.SIGINT)
            dev.wait(timeout=30)
