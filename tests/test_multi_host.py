"""Two workers as on two hosts: one Temporal server, one PostgreSQL, separate data directories and no shared
disk, the real `twilio` client against a slow gateway. One worker is killed with SIGKILL mid-send; every
message reaches the gateway exactly once, every outbox row ends final, and a delivery report posted to a
console process (a third host) updates the row, and the director's SMS approval, sent to that console, finds
the code a worker issued."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from urllib.parse import quote

import httpx
import pytest
from pytest_httpserver import HTTPServer
from twilio.request_validator import RequestValidator

from fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from groupdesk.engine.client import connect
from groupdesk.incidents.gateway import start_incident
from groupdesk.runtime.config import REPO_ROOT
from groupdesk.drills.smart_meter import PATHS, answer_follow_up, record, wait_for
from groupdesk.core.models import IncidentState
from groupdesk.messaging.outbox import Outbox
from helpers import approval_code_by_sms, patient_playbook, quiet_port, setup_for

pytestmark = pytest.mark.devserver
INCIDENTS = 6
PUBLIC = "https://groupdesk.example.org"
FINAL = ("sent", "delivered")
DIRECTOR = "+8613900000301"


@pytest.fixture
def slow_gateway():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield FakeTwilio(server, delay=0.4).install()
    server.clear()
    if server.is_running():
        server.stop()


def host_env(dev_env, database_url: str, gateway: FakeTwilio, data_dir, queue: str, sender: str) -> dict:
    """One host's processes: production (the same keys on every host), the shared database and task queue."""
    return setup_for(data_dir, dev_env, production=True, GROUPDESK_TASK_QUEUE=queue,
                     GROUPDESK_DATABASE_URL=database_url, GROUPDESK_SMS_PROVIDER="twilio",
                     TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_FROM_NUMBER=sender,
                     GROUPDESK_TWILIO_API_BASE=gateway.base_url, GROUPDESK_PUBLIC_URL=PUBLIC).process_env()


def spawn(command: list[str], env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=open(log, "wb"), stderr=subprocess.STDOUT)


async def test_two_hosts_one_killed_mid_send_every_message_once(dev_env, postgres, slow_gateway, tmp_path,
                                                                 make_start):
    url = postgres.create_database()
    queue = f"hosts-{uuid.uuid4().hex[:6]}"
    hosts = [tmp_path / "host-a", tmp_path / "host-b", tmp_path / "host-c"]
    logs = [tmp_path / "a.log", tmp_path / "b.log", tmp_path / "console.log"]
    senders = [FROM_NUMBER, "+15005550007", FROM_NUMBER]  # the gateway tells the two workers apart by From
    envs = [host_env(dev_env, url, slow_gateway, h, queue, s) for h, s in zip(hosts, senders)]
    web_port = quiet_port()
    workers = [spawn([sys.executable, "worker.py"], envs[n], logs[n]) for n in (0, 1)]
    console = spawn([sys.executable, "-m", "groupdesk.cli", "console", "--port", str(web_port)], envs[2], logs[2])
    began = time.monotonic()
    try:
        while not all(b"worker started" in log.read_bytes() for log in logs[:2]):
            assert all(w.poll() is None for w in workers) and time.monotonic() - began < 60, \
                [log.read_text(errors="replace")[-2000:] for log in logs[:2]]
            await asyncio.sleep(0.1)
        settings = setup_for(tmp_path / "driver", dev_env, production=True, GROUPDESK_DATABASE_URL=url,
                             GROUPDESK_TASK_QUEUE=queue).settings
        client = await connect(settings)  # payloads are encrypted: the driver holds the key too
        paths = list(PATHS.items())
        handles = []
        # surveys that wait (60 days, 4 min here, not 13 s): a task that waits out the killed worker must not lose it
        patient = patient_playbook(tmp_path)
        for n in range(INCIDENTS):
            request = make_start(incident_id=f"hosts-{n}-{uuid.uuid4().hex[:6]}", drill=True, time_scale=20000.0,
                                 lead_phone=f"1380013{n:04d}", playbook=patient)
            handles.append((paths[n % len(paths)], await start_incident(client, settings, request)))

        async def run(path, handle):
            await path[1](handle)
            await answer_follow_up(handle)
            return await client.get_workflow_handle(handle.id, result_type=IncidentState).result()

        batch = asyncio.gather(*(run(path, handle) for path, handle in handles))
        while slow_gateway.in_flight.get(senders[0], 0) == 0 or len(slow_gateway.posts) < 10:
            await asyncio.sleep(0.01)  # worker A is waiting for the gateway's answer: kill it now
        in_flight = slow_gateway.in_flight[senders[0]]
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait()
        finals = await asyncio.wait_for(batch, timeout=300)
        outbox = Outbox(url)
        deadline = time.monotonic() + 60
        while True:  # the last messages of the last step are sent in the background of the workflow
            rows = [r for f in finals for r in outbox.list(f.id)]
            if all(r.status in FINAL for r in rows) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        elapsed = time.monotonic() - began
        posts = list(slow_gateway.posts)  # the batch's; the approval below sends more

        # the director approves by SMS through the console: it finds the code the surviving worker issued
        pending = await start_incident(client, settings, make_start(
            incident_id=f"hosts-sms-{uuid.uuid4().hex[:6]}", drill=True, time_scale=20000.0, lead_phone="13800139999"))
        for step, outcome, actor in (("move_to_vip_room", "done", "zhao.min"), ("keep_order", "done", "qian.lei"),
                                     ("talk_with_lead", "not_accepted", "sun.li")):
            await record(pending, step, outcome, actor)
        code = await approval_code_by_sms(client, settings, pending.id)
        reply = {"MessageSid": "SM" + uuid.uuid4().hex, "From": DIRECTOR, "To": FROM_NUMBER, "Body": f"1 {code}",
                 "AccountSid": ACCOUNT_SID}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{web_port}") as web:
            for _ in range(100):
                try:
                    approved = await web.post("/twilio/inbound", data=reply, headers={"X-Twilio-Signature": (
                        RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + "/twilio/inbound", reply))})
                    break
                except httpx.TransportError:
                    assert console.poll() is None, logs[2].read_text()
                    await asyncio.sleep(0.2)
        assert "已同意" in approved.text, approved.text
        await wait_for(pending, lambda st: st.warning_tier == 3)

        # a delivery report reaches the console, which shares no disk with either worker
        row = rows[0]
        report = {"MessageSid": row.provider_id, "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID}
        path = f"/twilio/status?key={quote(row.key, safe='')}"  # the callback URL the worker gave Twilio
        signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path, report)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{web_port}") as web:
            answer = await web.post(path, data=report, headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 204, answer.text
        assert outbox.get(row.key).status == "delivered"
    finally:
        for process in workers + [console]:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
    assert [f.status for f in finals] == ["closed"] * INCIDENTS
    posted = Counter((p["To"], p["Body"]) for p in posts)
    duplicates = sum(n - 1 for n in posted.values() if n > 1)
    lost = [r.key for r in rows if (r.to_number, r.body) not in posted]
    not_final = [(r.key, r.status) for r in rows if r.status not in FINAL]
    accepted = {m["sid"] for m in slow_gateway.accepted}
    print(f"\ntwo hosts, one SIGKILLed with {in_flight} send(s) of its own in flight: {INCIDENTS} incidents closed,"
          f" {len(rows)} messages, {len(posts)} posts to the gateway, {duplicates} duplicates,"
          f" {len(lost)} lost, {len(not_final)} not final, {len(slow_gateway.gets)} look-ups by the survivor,"
          f" {elapsed:.1f}s")
    assert not duplicates and not lost and not not_final
    assert len(posts) == len(rows) and all(r.provider_id in accepted for r in rows)
    assert slow_gateway.gets  # what the dead worker had in flight was looked up at the gateway, not resent
    assert all(f.deliveries and not f.failed_actions for f in finals)
