"""Metrics and health for the people on call; logs that never carry a complainant's phone or name."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest
import structlog

from groupdesk.incidents.gateway import start_incident
from groupdesk.engine.client import connect
from groupdesk.runtime.config import REPO_ROOT
from groupdesk.drills.smart_meter import PATHS, answer_follow_up
from groupdesk.runtime.logs import configure_logging
from groupdesk.web.app import create_app
from helpers import patient_playbook, quiet_port, setup_for
from web_helpers import signed_in


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.devserver
async def test_worker_and_console_expose_metrics_and_health_after_a_drill(dev_env, tmp_path, make_start):
    metrics, health = quiet_port(), quiet_port()
    setup = setup_for(tmp_path, dev_env, queue="obs", production=True,  # worker.py is always production
                      GROUPDESK_METRICS_PORT=metrics, GROUPDESK_HEALTH_PORT=health, GROUPDESK_LOG_FORMAT="json")
    env = setup.process_env()
    log = tmp_path / "worker.log"
    worker = subprocess.Popen([sys.executable, "worker.py"], env=env, cwd=REPO_ROOT, stdout=open(log, "wb"),
                              stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while b"worker started" not in log.read_bytes():
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        assert fetch(f"http://127.0.0.1:{health}/healthz") == (200, '{"status":"ok"}')
        settings = setup.settings
        client = await connect(settings)  # as the worker does: payloads sealed with the production keys
        patient = patient_playbook(tmp_path)  # survey: 5 s -> 100 s
        request = make_start(incident_id=f"obs-{uuid.uuid4().hex[:8]}", drill=True, time_scale=50000.0,
                             playbook=patient)
        handle = await start_incident(client, settings, request)
        await PATHS["approved_then_explained"](handle)
        await answer_follow_up(handle)
        await handle.result()
        deadline = time.monotonic() + 30  # the worker's metrics trail the incident's close by a moment
        while True:
            status, text = fetch(f"http://127.0.0.1:{metrics}/metrics")
            if "temporal_workflow_completed" in text or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        async with signed_in(create_app(settings, client=client), "ma.ning") as web:  # ops
            console_metrics = (await web.get("/metrics")).text
            console_health = await web.get("/healthz")
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert status == 200
    for name in ("groupdesk_sms_sent", "groupdesk_deadline_misses", "groupdesk_escalations",
                 "groupdesk_approval_seconds", "temporal_workflow_completed"):
        assert name in text, f"{name} missing from the worker's /metrics"
    assert 'provider="outbox"' in text and 'hall="xicheng"' in text
    assert "groupdesk_open_incidents" in console_metrics and console_health.json() == {"status": "ok"}
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    sent = [line for line in lines if line.get("event") == "sms stored"]
    assert sent and all({"incident_id", "workflow_id", "step", "attempt"} <= set(line) for line in sent)
    assert "13800138000" not in log.read_text()


CORPUS = [
    ({"event": "calling 13800138000 now"}, "13800138000"),
    ({"event": "x", "phone": "+86 138 0013 8000"}, "0013 8000"),
    ({"event": "x", "lead_name": "欧阳建国"}, "欧阳建国"),
    ({"event": "x", "complainant": "张三丰"}, "张三丰"),
    ({"event": "x", "detail": {"to": "+8613912345678", "names": ["x"]}}, "13912345678"),
    ({"event": "x", "recipients": ["13700137000", "ok"]}, "13700137000"),
    ({"event": "x", "note": "回电 139-1234-5678 请"}, "1234-5678"),
]


@pytest.mark.parametrize("event,secret", CORPUS)
def test_masking_processor_over_a_corpus_of_events(event, secret):
    buffer = io.StringIO()
    configure_logging("json")
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=buffer))
    structlog.get_logger().info(**event)
    configure_logging("console")
    assert secret not in buffer.getvalue() and json.loads(buffer.getvalue())


def test_exceptions_are_masked_too():
    buffer = io.StringIO()
    configure_logging("json")
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=buffer))
    try:
        raise ValueError("Twilio refused +8613800138000")
    except ValueError:
        structlog.get_logger().exception("send failed")
    configure_logging("console")
    line = json.loads(buffer.getvalue())
    assert "13800138000" not in buffer.getvalue() and "138****8000" in line["exception"]
