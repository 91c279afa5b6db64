"""Staff on WeCom through a whole incident on the real dev server (GROUPDESK_STAFF_CHANNEL=wecom).

The fake WeCom (tests/fake_wecom.py) takes the staff messages; the fake Aliyun (tests/fake_aliyun.py)
the complainant's SMS and every fallback. The director approves with a card click that the test
encrypts and signs itself; forged callbacks are refused, a replayed one has no effect; an expired
token is fetched again once, not per message; a member WeCom does not know gets the SMS, noted on
the timeline. A worker killed (kill -9) while WeCom holds a message loses nothing and sends nothing twice.
Every shipped playbook drills this way, and the phone simulator of `groupdesk dev` presses the card.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import uuid

import httpx
import pytest
from temporalio.client import WorkflowHandle

from domestic_helpers import approved_playbooks, fake_for, provider_env
from fake_wecom import FakeWecom, callback_post, card_click_xml, settings_env
from activities.wecom_staff import SENIOR_ROLES
from groupdesk.drills.paths import drive, routes
from groupdesk.drills.smart_meter import record, wait_for
from groupdesk.incidents.gateway import start_incident
from groupdesk.incidents.registration import prepare_start
from groupdesk.messaging.outbox import Outbox
from groupdesk.people.directory import load_directory
from groupdesk.playbooks.loader import load_playbooks
from groupdesk.runtime.config import REPO_ROOT
from groupdesk.web.app import create_app
from helpers import run_cli, setup_for, start, until
from web_helpers import signed_in
from worker import build_worker

pytestmark = pytest.mark.devserver
PUBLIC = "https://groupdesk.example.org"
LEAD = "13800138000"



@pytest.fixture
def wecom():
    fake = FakeWecom().start()
    yield fake
    fake.stop()


def wecom_settings(tmp_path, wecom, aliyun, playbooks, dev_env=None, **more):
    return setup_for(tmp_path, dev_env, queue="wecom", **provider_env("aliyun", aliyun), **settings_env(wecom.base_url),
                     GROUPDESK_PLAYBOOKS_DIR=playbooks, GROUPDESK_PUBLIC_URL=PUBLIC, **more)


def to_user(fake: FakeWecom, userid: str) -> list[dict]:
    return [m for m in fake.delivered if m["touser"] == userid]


async def history_length(handle: WorkflowHandle) -> int:
    return len((await handle.fetch_history()).events)


async def test_staff_on_wecom_the_complainant_on_sms_and_the_director_approves_by_card(
        dev_env, tmp_path, httpserver, wecom, make_start):
    aliyun = fake_for("aliyun", httpserver)
    settings = wecom_settings(tmp_path, wecom, aliyun, approved_playbooks(tmp_path, "aliyun", aliyun)).settings
    wecom.members.discard("ZhaoMin")  # the guide's wecom_userid is not (or no longer) a member: SMS instead
    app = create_app(settings, client=dev_env.client)
    async with build_worker(dev_env.client, settings), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver") as web:
        handle = await start(dev_env, settings, make_start(incident_id=f"wc-{uuid.uuid4().hex[:8]}", drill=True))
        st = await wait_for(handle, lambda s: any(e.kind == "wecom_fallback" for e in s.timeline))
        fallback = [e.detail for e in st.timeline if e.kind == "wecom_fallback"]
        assert any(d.startswith("guide zhao.min: WeCom → SMS:") and "81013" in d for d in fallback), fallback
        await until(lambda: to_user(wecom, "SunLi"), "the hall lead got nothing on WeCom")
        assert to_user(wecom, "SunLi")[0]["text"]["content"].startswith("【演练】")

        wecom.expire_tokens()  # every token so far stops working before its time
        fetched = len(wecom.tokens)
        await record(handle, "move_to_vip_room", "done", "zhao.min")
        await record(handle, "keep_order", "done", "qian.lei")
        await record(handle, "talk_with_lead", "not_accepted", "sun.li")
        (card,) = await until(lambda: [m for m in to_user(wecom, "WangJun") if m["msgtype"] == "template_card"],
                              "no approval card reached the director")
        assert len(wecom.tokens) == fetched + 1, "an expired token is fetched again once, not per message"
        task_id = card["template_card"]["task_id"]

        # forged clicks: another app's Token, another corp; neither changes anything
        before = await history_length(handle)
        for forged in (callback_post(card_click_xml("WangJun", task_id, "approve", wecom.click_code()),
                                     token="notOurToken"),
                       callback_post(card_click_xml("WangJun", task_id, "approve", wecom.click_code()),
                                     receiver="ww9999999999999999")):
            assert (await web.post("/wecom/callback", params=forged[0], content=forged[1])).status_code == 403
        assert await history_length(handle) == before and not wecom.updates

        code = wecom.click_code()
        query, body = callback_post(card_click_xml("WangJun", task_id, "approve", code))
        assert (await web.post("/wecom/callback", params=query, content=body)).status_code == 200
        st = await wait_for(handle, lambda s: s.warning_tier == 3)
        assert [e.actor for e in st.timeline if e.kind == "outcome" and e.step == "director_review"] == ["wang.jun"]
        (update,) = await until(lambda: wecom.updates, "the card was not updated")
        assert update["response_code"] == code and update["template_card"]["replace_text"] == "已同意"
        after = await history_length(handle)
        assert (await web.post("/wecom/callback", params=query, content=body)).status_code == 200  # replayed
        assert len(wecom.updates) == 1 and await history_length(handle) == after

        # the next step tells the complainant: by SMS, always
        await record(handle, "metering_explanation", "not_accepted", "feng.tao")
        await until(lambda: [m for m in aliyun.accepted if m["phone"] == LEAD], "the complainant got no SMS")
        # the provider has it; the batch marks its rows once every answer is back, before the worker stops
        await until(lambda: all(r.status not in ("queued", "sending") for r in Outbox(settings).list(handle.id)),
                    "the last batch's rows were never marked")

    rows = Outbox(settings).list(handle.id)
    assert {r.channel for r in rows if r.recipient == "lead_complainant"} == {"sms"}
    directory = load_directory(settings.directory)
    staff = {r.recipient for r in rows if r.recipient != "lead_complainant"}
    by_sms = {r.recipient for r in rows if r.channel == "sms" and r.recipient != "lead_complainant"}
    without = {p for p in staff if not directory.person(p).wecom_userid}
    assert by_sms == without | {"zhao.min"} and {"qian.lei", "security.duty"} <= without  # no userid, not a member
    on_wecom = {r.recipient for r in rows if r.channel == "wecom" and r.status == "sent"}
    assert on_wecom == staff - by_sms and {"sun.li", "wang.jun", "feng.tao"} <= on_wecom
    assert all(r.status == "sent" for r in rows if r.channel == "sms")
    assert len({m["msgid"] for m in wecom.delivered}) == len(wecom.delivered) and not wecom.suppressed


async def test_a_worker_killed_during_a_slow_wecom_send_loses_nothing_and_sends_nothing_twice(
        dev_env, tmp_path, wecom):
    """WeCom has the first message when the worker dies; the batch's WeCom rows still say `sending`. The restarted
    worker sends them again (WeCom cannot be asked), with the same content, and WeCom's duplicate check drops the
    twin."""
    wecom.fail_next("message/send", ("hang", 8))
    setup = setup_for(tmp_path / "data", dev_env, queue="kill", production=True, **settings_env(wecom.base_url),
                      GROUPDESK_PUBLIC_URL=PUBLIC, GROUPDESK_HASH_KEY=f"test-hash-{uuid.uuid4().hex}")
    env = setup.process_env()
    log = tmp_path / "worker.log"

    def start_worker():
        return subprocess.Popen([sys.executable, "worker.py"], env=env, cwd=REPO_ROOT, stdout=open(log, "ab"),
                                stderr=subprocess.STDOUT)

    worker = start_worker()
    started = await run_cli(env, "start", "--hall", "xicheng", "--headcount", "12", "--lead-name", "张建国",
                            "--lead-phone", LEAD, "--summary", "电量异常", "--drill")
    assert started.returncode == 0, started.stderr
    incident = started.stdout.strip()
    outbox = Outbox(tmp_path / "data" / "groupdesk.sqlite3")
    (hung,) = await until(lambda: wecom.delivered, "no WeCom send")
    worker.send_signal(signal.SIGKILL)  # WeCom has the message, its answer is not back (5 s): "sending"
    worker.wait()
    claimed = {r.recipient: r for r in outbox.list(incident)}  # the batch's WeCom rows, claimed in one go
    assert {(p, r.channel, r.status) for p, r in claimed.items()} == {("zhao.min", "wecom", "sending"),
                                                                       ("sun.li", "wecom", "sending")}
    held = claimed["zhao.min"]
    worker = start_worker()
    try:
        rows = await until(lambda: len(r := outbox.list(incident)) == 4 and all(x.status == "sent" for x in r)
                           and r, "not all sent", 90)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert sorted((r.recipient, r.channel) for r in rows) == [
        ("qian.lei", "sms"), ("security.duty", "sms"), ("sun.li", "wecom"), ("zhao.min", "wecom")]
    assert [m["touser"] for m in wecom.delivered] == ["ZhaoMin", "SunLi"], "lost or sent twice: " + " | ".join(f"{m['touser']} {m['at']:.2f} {m['text']['content']!r}" for m in wecom.delivered)
    (twin,) = wecom.suppressed  # the resend reached WeCom and was dropped as a duplicate
    assert twin["touser"] == "ZhaoMin" and twin["text"] == hung["text"]
    assert outbox.get(held.key).provider_id == hung["msgid"]


async def test_every_shipped_playbook_drills_with_staff_on_wecom_and_complainants_on_sms(dev_env, tmp_path, wecom):
    settings = setup_for(tmp_path, dev_env, queue="drill", **settings_env(wecom.base_url),
                         GROUPDESK_PUBLIC_URL=PUBLIC).settings
    directory = load_directory(settings.directory)
    playbooks = load_playbooks(settings.playbooks_dir)
    incidents = []
    async with build_worker(dev_env.client, settings):
        for pb in playbooks.values():
            staff = {role: people[0].id for role in pb.escalation.chain.keys() | {s.owner for s in pb.steps.values()}
                     if (people := directory.staff("xicheng", role))}
            span = pb.applies.headcount
            registration = {"person_involved": "zhao.min", "category": "service"} \
                if "person_involved" in pb.registration_requires else None
            request = prepare_start(directory=directory, playbook=pb, hall_id="xicheng",
                                    headcount=min(max(18, span.min), span.max), lead_name="张建国",
                                    lead_phone=LEAD, summary="投诉处理", started_by="sun.li",
                                    incident_id=f"{pb.id[:20]}-{uuid.uuid4().hex[:6]}", drill=True,
                                    time_scale=200000.0, registration=registration)
            handle = await start_incident(dev_env.client, settings, request)
            await drive(handle, pb, next(iter(routes(pb).values())), staff)
            st = await wait_for(handle, lambda s: s.status == "closed" or s.follow_up is not None)
            assert not st.failed_actions, (pb.id, [f.error for f in st.failed_actions])
            assert not [e for e in st.timeline if e.kind == "wecom_fallback" and "wecom_userid" not in e.detail]
            incidents.append((pb.id, handle))
        # The outbox is read once each incident has ended: a workflow ends only when no batch is in flight, and
        # closing (or the survey, which expires within seconds at drill speed) still sends. Read before, a close
        # batch still in flight showed a complainant with no message at all.
        for pb_id, handle in incidents:
            assert (await asyncio.wait_for(handle.result(), 60)).status == "closed", pb_id
    both_ways = []  # escalations to the director and above, by WeCom and by SMS
    for pb_id, handle in incidents:
        rows = Outbox(settings).list(handle.id)
        complainant = [r for r in rows if r.recipient == "lead_complainant"]
        staff_rows = [r for r in rows if r.recipient != "lead_complainant"]
        assert complainant and {r.channel for r in complainant} == {"sms"}, pb_id
        assert all(r.status == "sent" for r in rows), (pb_id, [(r.key, r.status, r.error) for r in rows
                                                                if r.status != "sent"])
        on_wecom = {r.key.removesuffix("/wecom") for r in staff_rows if r.channel == "wecom"}
        assert on_wecom, pb_id
        for r in staff_rows:
            reachable = bool(directory.person(r.recipient).wecom_userid)
            if r.channel == "wecom":
                assert reachable, (pb_id, r.key)
            else:  # by SMS: no WeCom account, or an escalation to the director or above (both channels)
                both = r.purpose == "escalation" and r.role in SENIOR_ROLES
                assert r.channel == "sms" and (not reachable or (both and r.key in on_wecom)), (pb_id, r.key)
                both_ways += [r.key] if reachable else []
    assert both_ways, "no escalation reached the director in any drill"
    sent = [m["text"]["content"] for m in wecom.delivered if m["msgtype"] == "text"]
    assert sent and all(text.startswith("【演练】") for text in sent)
    assert len({m["msgid"] for m in wecom.delivered}) == len(wecom.delivered) and not wecom.suppressed


async def test_the_phone_simulator_shows_wecom_beside_sms_and_presses_the_card_through_the_callback(
        dev_env, tmp_path, wecom, make_start):
    settings = setup_for(tmp_path, dev_env, queue="phone", **settings_env(wecom.base_url),
                         GROUPDESK_PUBLIC_URL=PUBLIC).settings
    app = create_app(settings, client=dev_env.client, dev=True)
    async with build_worker(dev_env.client, settings), signed_in(app, "ma.ning") as ops:
        handle = await start(dev_env, settings, make_start(incident_id=f"ph-{uuid.uuid4().hex[:8]}"))
        await record(handle, "move_to_vip_room", "done", "zhao.min")
        await record(handle, "keep_order", "done", "qian.lei")
        await record(handle, "talk_with_lead", "not_accepted", "sun.li")
        (card,) = await until(lambda: [m for m in to_user(wecom, "WangJun") if m["msgtype"] == "template_card"],
                              "no approval card")
        task_id = card["template_card"]["task_id"]
        phone = (await ops.get("/phone")).text
        assert "企业微信" in phone and "短信" in phone  # the guard's SMS (no WeCom) beside staff WeCom messages
        assert f'data-task="{task_id}"' in phone and "不同意" in phone and "未达三级预警启动条件" in phone
        assert "待审批" in phone
        before = len(wecom.requests)
        pressed = await ops.post("/phone/wecom", data={"phone": "+8613900000301", "task_id": task_id,
                                                       "button": "reject", "reason": "r2"})
        assert pressed.status_code == 303
        st = await wait_for(handle, lambda s: s.rejection_reason == "未达三级预警启动条件")
        assert [e.actor for e in st.timeline if e.kind == "outcome" and e.step == "director_review"] == ["wang.jun"]
        # the same path as WeCom's click: the card's update was asked of WeCom (a simulated code it refuses)
        assert any(r["path"].endswith("update_template_card") for r in wecom.requests[before:])
        after = (await ops.get("/phone")).text
        assert "不同意 · 未达三级预警启动条件" in after and "已审批" in after and "待审批" not in after
        forged = await ops.post("/phone/wecom", data={"phone": "+8613900000301", "task_id": "gd-" + "0" * 40,
                                                      "button": "approve"})
        assert forged.status_code == 303 and "no such card" in (await ops.get("/phone")).text
    async with signed_in(app, "sun.li") as lead:  # the simulator presses as anyone: ops only
        assert (await lead.post("/phone/wecom", data={"phone": "x", "task_id": task_id,
                                                      "button": "approve"})).status_code == 403
