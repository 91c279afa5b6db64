"""Incidents with the Twilio provider: refusals never stop the playbook, a crash never duplicates."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest

from fake_twilio import FakeTwilio, twilio_env
from groupdesk.runtime.config import REPO_ROOT
from groupdesk.messaging.outbox import Outbox
from helpers import groupdesk_cli, messages, outcome, running_worker, settle, setup_for, skip, start, state, timeline

GUIDE = "+8613900000101"


@pytest.fixture(autouse=True)
def _no_twilio_host_rewrites(monkeypatch):
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.delenv("TWILIO_REGION", raising=False)


@pytest.mark.parametrize("code,reason", [(21211, "not a valid phone number"), (21610, "unsubscribed")])
async def test_a_refused_number_parks_the_message_and_the_playbook_goes_on(skipping_env, httpserver, tmp_path,
                                                                           make_start, code, reason):
    env = skipping_env
    fake = FakeTwilio(httpserver).install()
    fake.refuse[GUIDE] = (400, code, "refused by Twilio")
    settings = setup_for(tmp_path, queue="tw", **twilio_env(fake)).settings
    async with running_worker(env, settings):
        handle = await start(env, settings, make_start())
        st = await settle(env, handle)
        assert st.status == "open"
        (failed,) = [f for f in st.failed_actions if f.step == "move_to_vip_room"]
        assert str(code) in failed.error and reason in failed.error
        assert failed.request["recipients"] == ["guide"], "kept whole, so ops can retry it later"
        assert timeline(st, "sms_failed", "move_to_vip_room")
        await skip(env, timedelta(minutes=16), handle)  # deadline 5m, then the escalation after 10m grace
        st = await state(handle)
        assert timeline(st, "escalation", "move_to_vip_room"), "escalation timers still run"
        ack = await outcome(handle, "move_to_vip_room", "done", "sun.li")
        assert "keep_order" in ack.current_steps
    rows = messages(settings, st.id)
    assert {r.status for r in rows if r.to_number == GUIDE} == {"failed"}
    assert [r.role for r in rows if r.purpose == "escalation" and r.status == "sent"][0] == "hall_lead"
    assert Counter(p["To"] for p in fake.posts)[GUIDE] == 2  # the step message and the reminder, once each


@pytest.mark.devserver
def test_worker_killed_between_twilio_and_the_outbox_does_not_send_again(dev_env, httpserver, tmp_path):
    fake = FakeTwilio(httpserver).install()
    fake.script = [("hang", 3)]  # Twilio accepts the first message, but the worker dies before hearing so
    # worker.py is production: its keys; the CLI gets the same settings, so both seal payloads alike
    env = setup_for(tmp_path / "data", dev_env, queue="kill", production=True, **twilio_env(fake)).process_env()
    log = tmp_path / "worker.log"

    def start_worker():
        process = subprocess.Popen([sys.executable, "worker.py"], env=env, cwd=REPO_ROOT,
                                   stdout=open(log, "ab"), stderr=subprocess.STDOUT)
        return process

    worker = start_worker()
    started = groupdesk_cli(env, "start", "--hall", "xicheng", "--headcount", "12", "--lead-name", "张建国",
                            "--lead-phone", "13800138000", "--summary", "电量异常", "--drill")
    assert started.returncode == 0, started.stderr
    incident = started.stdout.strip()
    deadline = time.monotonic() + 30
    while not fake.posts:
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)  # Twilio has the message; the outbox still says "sending"
    worker.wait()
    hung = fake.posts[0]
    outbox = Outbox(tmp_path / "data" / "groupdesk.sqlite3")
    assert [r.status for r in outbox.list(incident) if r.body == hung["Body"] and r.to_number == hung["To"]] \
        == ["sending"]
    worker = start_worker()
    try:
        deadline = time.monotonic() + 60
        while True:
            rows = outbox.list(incident)
            if len(rows) == 4 and all(r.status == "sent" for r in rows):
                break
            assert time.monotonic() < deadline, [(r.role, r.status) for r in rows]
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    sent_bodies = Counter((p["To"], p["Body"]) for p in fake.posts)
    assert sent_bodies[(hung["To"], hung["Body"])] == 1, "the message Twilio had was not sent again"
    assert len(fake.gets) >= 1, "the restarted worker looked the message up first"
    assert all(n == 1 for n in sent_bodies.values())
    assert len(fake.accepted) == 4
