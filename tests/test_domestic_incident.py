"""Incidents through Aliyun and through Tencent Cloud on the real dev server, each provider's real SDK against
its local fake: the director approves by a pushed reply, the complainant answers the 回访 by a pushed reply,
delivery reports show in `sms list` and on the timeline, every shipped playbook drills with templates only,
and a worker killed during a slow send loses nothing and sends nothing twice."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import uuid
from collections import Counter

import httpx
import pytest

from domestic_helpers import PROVIDERS, WEBHOOK_TOKEN, approved_playbooks, fake_for, provider_env, sent_texts
from groupdesk.runtime.config import EXAMPLE_DIRECTORY, REPO_ROOT, Settings
from groupdesk.core import search_attributes as sa
from groupdesk.people.directory import load_directory
from groupdesk.drills.smart_meter import record, wait_for
from groupdesk.drills.paths import drive, routes
from groupdesk.incidents.gateway import start_incident
from groupdesk.incidents.registration import prepare_start
from groupdesk.runtime.keyed import follow_up_key
from groupdesk.messaging.outbox import Outbox
from groupdesk.playbooks.loader import load_playbooks
from groupdesk.web.app import create_app
from groupdesk.web.incident_view import timeline
from groupdesk.engine.client import connect
from helpers import WF, ahead, made_patient, run_cli, setup_for, start, until, visible
from worker import build_worker

pytestmark = pytest.mark.devserver
DIRECTOR, HALL_LEAD, LEAD = "+8613900000301", "+8613900000103", "+8613800138000"


def settings_for(provider, fake, tmp_path, playbooks) -> Settings:
    return setup_for(tmp_path, queue="cn", **provider_env(provider, fake), GROUPDESK_PLAYBOOKS_DIR=playbooks).settings


def reply_body(provider: str, sender: str, text: str, n: int):
    """A reply as each provider pushes it: Aliyun a batch (sequence_id a number), Tencent one object."""
    if provider == "aliyun":
        return [{"phone_number": sender.removeprefix("+86"), "send_time": "2026-11-22 10:00:00", "content": text,
                 "dest_code": "1234", "sequence_id": 1000 + n}]
    return {"extend": "", "mobile": sender.removeprefix("+86"), "nationcode": "86", "sign": "西城供电", "text": text,
            "time": 1795000000 + n}


def to(fake, number: str, provider: str) -> list[dict]:
    """What the fake accepted for that number, oldest first."""
    key = number.removeprefix("+86") if provider == "aliyun" else number
    return [m for m in fake.accepted if m["phone"] == key]



@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_drill_through_approval_and_follow_up_by_pushed_replies(provider, dev_env, tmp_path, httpserver,
                                                                         make_start):
    fake = fake_for(provider, httpserver)
    # the survey waits 60 days (4 min here), not 3 (13 s)
    settings = settings_for(provider, fake, tmp_path, made_patient(approved_playbooks(tmp_path, provider, fake)))
    app = create_app(settings, client=dev_env.client)
    base = f"/{provider}/{WEBHOOK_TOKEN}"
    async with build_worker(dev_env.client, settings), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver") as web:
        handle = await start(dev_env, settings, make_start(incident_id=f"cn-{uuid.uuid4().hex[:8]}", drill=True,
                                                           time_scale=20000.0))
        await record(handle, "move_to_vip_room", "done", "zhao.min")
        await record(handle, "keep_order", "done", "qian.lei")
        await record(handle, "talk_with_lead", "not_accepted", "sun.li")
        # the director reads the code on the phone: the template's text with its values, after the signature
        request = (await until(lambda: [m for m in to(fake, DIRECTOR, provider) if "同意 " in m["content"]],
                               "no approval request reached the director"))[0]
        assert request["content"].startswith("【西城供电】（演练）")
        code = re.search(r"同意 (\d{6})", request["content"]).group(1)

        assert (await web.post(f"/{provider}/wrong-{WEBHOOK_TOKEN}/reply",
                               json=reply_body(provider, DIRECTOR, f"同意 {code}", 0))).status_code == 404
        bad = await web.post(f"{base}/reply", json=[{"phone_number": "1", "content": "x"}] if provider == "aliyun"
                             else {"mobile": "x", "nationcode": "86", "text": "同意", "time": 1})
        assert bad.status_code == 400 and ("phone_number" in bad.text or "mobile" in bad.text)
        ok = await web.post(f"{base}/reply", json=reply_body(provider, DIRECTOR, f"同意 {code}", 1))
        assert ok.json() == ({"code": 0, "msg": "成功"} if provider == "aliyun" else {"result": 0, "errmsg": "OK"})
        st = await wait_for(handle, lambda s: s.warning_tier == 3)
        assert [e.actor for e in st.timeline if e.kind == "outcome" and e.step == "director_review"] == ["wang.jun"]
        # the answer, found by its text: the next step's escalation may reach the director's phone around it
        def answers() -> list[str]:
            return [m["content"] for m in to(fake, DIRECTOR, provider) if "已同意" in m["content"]]

        assert len(answers()) == 1, answers()
        assert answers()[0].startswith("【西城供电】已同意启动三级供电服务预警预案"), answers()  # an approved template too
        again = await web.post(f"{base}/reply", json=reply_body(provider, DIRECTOR, f"同意 {code}", 1))
        assert again.status_code == 200 and len(answers()) == 1, "done once"

        # delivery reports: every message so far delivered, one to the hall lead not; a repeat changes nothing
        staff_msg = [m for m in fake.accepted if m["phone"] in (HALL_LEAD, HALL_LEAD.removeprefix("+86"))][0]
        delivered = [m for m in fake.accepted if m is not staff_msg]
        for _ in range(2):
            assert (await web.post(f"{base}/report", json=fake.reports(True, delivered))).status_code == 200
            assert (await web.post(f"{base}/report", json=fake.reports(False, [staff_msg]))).status_code == 200
        st = await wait_for(handle, lambda s: any(e.kind == "sms_undelivered" for e in s.timeline))
        assert len([e for e in st.timeline if e.kind == "sms_undelivered"]) == 1
        # the messages the reports covered (a reminder sent after them is still only `sent`)
        reported = {m.get("out_id") or m.get("session_context") for m in [*delivered, staff_msg]}
        rows = [r for r in Outbox(settings).list(handle.id) if r.out_id in reported]
        statuses = Counter(r.status for r in rows)
        assert statuses["undelivered"] == 1 and set(statuses) == {"delivered", "undelivered"}
        shown = timeline(st, await handle.query(WF.playbook), load_directory(EXAMPLE_DIRECTORY), rows, "zh-CN")
        assert {i["state"] for i in shown if i["type"] == "sms"} == {"已送达", "未送达"}
        assert all(i["template"] and i["provider"] == provider and i["body"].startswith("【西城供电】（演练）")
                   for i in shown if i["type"] == "sms")  # the timeline shows what `sms list` shows

        await record(handle, "metering_explanation", "not_accepted", "feng.tao")
        await record(handle, "metrology_calibration", "scheduled", "sun.li", calibration_at=ahead().isoformat())
        await record(handle, "metrology_calibration", "meter_accurate", "sun.li")
        await wait_for(handle, lambda s: s.follow_up is not None and s.follow_up.sent)
        await visible(dev_env.client, f'{sa.FOLLOW_UP_KEY.name} = "{follow_up_key(settings.hash_key(), LEAD)}"')
        assert (await web.post(f"{base}/reply", json=reply_body(provider, LEAD, "5 处理及时", 2))).status_code == 200
        final = await handle.result()
        assert to(fake, LEAD, provider)[-1]["content"] == "【西城供电】感谢您的评价,我们会持续改进服务。"
    assert final.status == "closed" and final.follow_up.score == 5 and not final.failed_actions
    rows = Outbox(settings).list(final.id)
    assert rows and all(r.provider == provider and r.template_code and r.body.startswith("【西城供电】（演练）")
                        for r in rows)
    assert None not in sent_texts(provider, fake), "a message that is not an approved template reached the provider"
    ids = Counter(r.get("OutId") or r.get("SessionContext") for r in fake.sends())
    assert max(ids.values()) == 1, "a message was sent twice"
    listed = await run_cli({**provider_env(provider, fake), "GROUPDESK_DATA_DIR": str(tmp_path),
                            "GROUPDESK_PLAYBOOKS_DIR": str(settings.playbooks_dir)},
                           "sms", "list", "--incident", final.id, "--json")
    shown = json.loads(listed.stdout)
    approval = next(m for m in shown if m["purpose"] == "approval_request")
    assert code not in listed.stdout and "******" in approval["body"] and approval["template_code"]
    assert {m["status"] for m in shown} >= {"delivered", "undelivered"} and all(m["params"] for m in shown)
    assert all("****" in m["to"] for m in shown)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_every_shipped_playbook_drills_with_approved_templates_only(provider, dev_env, tmp_path, httpserver):
    fake = fake_for(provider, httpserver)
    settings = settings_for(provider, fake, tmp_path, approved_playbooks(tmp_path, provider, fake))
    directory = load_directory(EXAMPLE_DIRECTORY)
    playbooks = load_playbooks(settings.playbooks_dir)
    handles = {}
    async with build_worker(dev_env.client, settings):
        for pb in playbooks.values():
            staff = {role: people[0].id for role in pb.escalation.chain.keys() | {s.owner for s in pb.steps.values()}
                     if (people := directory.staff("xicheng", role))}
            span = pb.applies.headcount
            registration = {"person_involved": "zhao.min", "category": "service"} \
                if "person_involved" in pb.registration_requires else None
            request = prepare_start(directory=directory, playbook=pb, hall_id="xicheng",
                                    headcount=min(max(18, span.min), span.max), lead_name="张建国",
                                    lead_phone="13800138000", summary="投诉处理", started_by="sun.li",
                                    incident_id=f"{pb.id[:20]}-{uuid.uuid4().hex[:6]}", drill=True,
                                    time_scale=200000.0, registration=registration)
            handle = await start_incident(dev_env.client, settings, request)
            await drive(handle, pb, next(iter(routes(pb).values())), staff)
            st = await wait_for(handle, lambda s: s.status == "closed" or s.follow_up is not None)
            assert not st.failed_actions, (pb.id, [f.error for f in st.failed_actions])
            handles[pb.id] = handle
        for pb_id, handle in handles.items():  # ended (the survey expires in seconds): no batch is in flight
            assert (await asyncio.wait_for(handle.result(), 60)).status == "closed", pb_id
            rows = Outbox(settings).list(handle.id)
            assert rows and all(r.template_code and r.status == "sent" and "（演练）" in r.body for r in rows), pb_id
    assert len(fake.sends()) >= len(playbooks) * 3
    assert None not in sent_texts(provider, fake), "a message that is not an approved template reached the provider"


@pytest.fixture
def threaded_server():
    """A fake provider that answers requests side by side, as the real one does: one slow answer holds no other."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_worker_killed_during_a_slow_send_loses_nothing_and_sends_nothing_twice(provider, dev_env, tmp_path,
                                                                                         threaded_server):
    """Aliyun: the restarted worker finds the message by QuerySendDetails (OutId) and does not send it again.
    Tencent: nothing can tell, so it is parked as unknown (timeline, board) until its delivery report settles it."""
    fake = fake_for(provider, threaded_server)
    playbooks = approved_playbooks(tmp_path, provider, fake)
    fake.script = [("hang", 8)]  # the provider has the first message; the worker dies before it hears so
    setup = setup_for(tmp_path / "data", dev_env, queue="kill", production=True,  # worker.py is always production
                      # the kill must come while the send still waits: 6 s, not 2, for a loaded machine to see it
                      **provider_env(provider, fake, GROUPDESK_ALIYUN_TIMEOUT="6", GROUPDESK_TENCENT_TIMEOUT="6"),
                      GROUPDESK_PLAYBOOKS_DIR=playbooks,
                      GROUPDESK_HASH_KEY=f"test-hash-{uuid.uuid4().hex}")  # its own incident id for the same lead
    env = setup.process_env()
    client = await connect(setup.settings)  # as the workers do: payloads sealed with the production keys
    log = tmp_path / "worker.log"

    def start_worker():
        return subprocess.Popen([sys.executable, "worker.py"], env=env, cwd=REPO_ROOT, stdout=open(log, "ab"),
                                stderr=subprocess.STDOUT)

    worker = start_worker()
    started = await run_cli(env, "start", "--hall", "xicheng", "--headcount", "12", "--lead-name", "张建国",
                            "--lead-phone", "13800138000", "--summary", "电量异常", "--drill")
    assert started.returncode == 0, started.stderr
    incident = started.stdout.strip()
    outbox = Outbox(tmp_path / "data" / "groupdesk.sqlite3")
    # the batch's other three messages go out meanwhile and are recorded (sms_batch.RECORD_AFTER); then the kill
    await until(lambda: [r.status for r in outbox.list(incident)].count("sent") == 3, "the others not sent")
    worker.send_signal(signal.SIGKILL)  # the provider has the message; the outbox still says "sending"
    worker.wait()
    (held,) = [r for r in outbox.list(incident) if r.status == "sending"]  # the one sent at once that still hangs
    (hung,) = [m for m in fake.accepted if (m.get("out_id") or m.get("session_context")) == held.out_id]
    worker = start_worker()
    try:
        if provider == "aliyun":
            await until(lambda: len(r := outbox.list(incident)) == 4 and all(x.status == "sent" for x in r),
                        "not all sent", 90)
            assert any(r["action"] == "QuerySendDetails" for r in fake.requests), "looked before sending again"
        else:
            await until(lambda: outbox.get(held.key).status == "unknown", "not parked as unknown", 90)
            # wait for every outcome, not only the four rows: the restarted worker settles the held one meanwhile
            settled = ["sent", "sent", "sent", "unknown"]
            await until(lambda: sorted(x.status for x in outbox.list(incident)) == settled,
                        f"not settled as {settled}", 60)
            handle = client.get_workflow_handle(incident)
            st = await wait_for(handle, lambda s: bool(s.failed_actions))
            (parked,) = st.failed_actions
            assert parked.status == "parked" and parked.error.startswith("unknown:")
            assert any(e.kind == "sms_failed" for e in st.timeline)
            await visible(client, f'WorkflowId = "{incident}" AND {sa.FAILED_ACTIONS.name} = 1')  # the board
            app = create_app(setup.settings, client=client)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as web:
                done = await web.post(f"/tencent/{WEBHOOK_TOKEN}/report", json=fake.reports(True, [hung]))
            assert done.status_code == 200 and outbox.get(held.key).status == "delivered"
            assert outbox.get(held.key).provider_id == hung["serial_no"]
            st = await wait_for(handle, lambda s: any(e.kind == "sms_settled" for e in s.timeline))
            assert st.failed_actions[0].status == "skipped" and "delivery report" in st.failed_actions[0].reason
            await visible(client, f'WorkflowId = "{incident}" AND {sa.FAILED_ACTIONS.name} = 0')
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    ids = Counter(r.get("OutId") or r.get("SessionContext") for r in fake.sends())
    assert ids[held.out_id] == 1, "the message the provider had was not sent again"
    assert all(n == 1 for n in ids.values()) and len(fake.accepted) == 4
