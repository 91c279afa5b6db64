"""WeCom's callback URL against the real dev server: URL verification, and the director's one-tap approval.

Every callback here is encrypted and signed by the test itself (tests/fake_wecom.py, from WeCom's
published algorithm). The worker sends the approval card to the fake WeCom through the outbox (the
director's staff message); the click then goes through the console's gateway and role rule. A forged callback changes nothing; a redelivered one has no further effect; a card
whose approval was already decided turns "已失效".
"""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from fake_wecom import (
    FakeWecom, callback_post, card_click_xml, encrypt, settings_env, signed_query,
)
from groupdesk.runtime.config import EXAMPLE_DIRECTORY, Settings
from groupdesk.drills.smart_meter import record
from groupdesk.messaging.wecom.cards import pick, task_id_for
from groupdesk.messaging.wecom.store import WecomCards
from groupdesk.messaging.outbox import Outbox
from groupdesk.storage import open_database
from groupdesk.storage.schema import approval_codes
from groupdesk.web.app import create_app
from groupdesk.core import search_attributes as sa
from helpers import WF, decide, start, visible
from worker import build_worker

pytestmark = pytest.mark.devserver
PUBLIC = "https://groupdesk.example.org"
REASONS = [{"zh-CN": "现场秩序可控，无需启动", "en": "Order on site is under control"},  # the shipped playbook's
           {"zh-CN": "未达三级预警启动条件", "en": "Tier-3 conditions are not met"},
           {"zh-CN": "已安排其他处置措施", "en": "Other measures are arranged"},
           {"zh-CN": "请先补充现场情况", "en": "Report more from the site first"}]


@pytest_asyncio.fixture
async def setup(dev_env, tmp_path):
    fake = FakeWecom().start()
    settings = Settings(GROUPDESK_DATA_DIR=tmp_path, GROUPDESK_DIRECTORY=EXAMPLE_DIRECTORY,
                        GROUPDESK_TASK_QUEUE=f"wecom-{uuid.uuid4().hex[:6]}", GROUPDESK_PUBLIC_URL=PUBLIC,
                        **settings_env(fake.base_url))
    app = create_app(settings, client=dev_env.client)
    try:
        async with build_worker(dev_env.client, settings):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as web:
                yield dev_env, settings, web, fake
    finally:
        fake.stop()


async def card_for_the_director(env, settings, fake, make_start, userid="WangJun", person="wang.jun"):
    """An incident waiting for the director, and the approval card the worker sent them on WeCom."""
    handle = await start(env, settings, make_start(incident_id=f"wecom-{uuid.uuid4().hex[:8]}"))
    await record(handle, "move_to_vip_room", "done", "zhao.min")
    await record(handle, "keep_order", "done", "qian.lei")
    await record(handle, "talk_with_lead", "not_accepted", "sun.li")
    request_key, code_key = await open_code(settings, handle.id)
    await visible(env.client, f'{sa.APPROVAL_KEY.name} = "{code_key}"')  # the request went out; its key registered
    row = next(m for m in Outbox(settings).list(handle.id) if m.purpose == "approval_request")
    assert row.channel == "wecom" and row.key == f"{request_key}/{person}/wecom" and row.status == "sent"
    (registered,) = WecomCards(settings).for_request(request_key)
    assert registered.task_id == task_id_for(settings.hash_key(), row.key) and registered.code_key == code_key
    card = next(m for m in fake.delivered if m["msgtype"] == "template_card"
                and m["template_card"]["task_id"] == registered.task_id)
    assert card["touser"] == userid and registered.response_code == card["response_code"]
    assert registered.status == "open" and registered.reasons == {f"r{n}": pick(r, "zh-CN") for n, r in
                                                                  enumerate(REASONS, 1)}
    shown = {r["keyname"]: r["value"] for r in card["template_card"]["horizontal_content_list"]}
    assert shown["事件"] == handle.id and shown["营业厅"] == "西城营业厅" and shown["人数"] == "20人"
    return handle, registered.task_id, registered.reasons


async def open_code(settings, incident_id: str, timeout: float = 30) -> tuple[str, str]:
    """The approval request's key and its code's keyed hash, once the send activity has made the code."""
    deadline = time.monotonic() + timeout
    while True:
        with open_database(settings).read() as c:
            found = c.execute(select(approval_codes.c.request_key, approval_codes.c.code_key).where(
                approval_codes.c.incident_id == incident_id, approval_codes.c.status == "open")).first()
        if found:
            return found.request_key, found.code_key
        assert time.monotonic() < deadline, "no approval code was made"
        await asyncio.sleep(0.05)


async def click(web, userid, task_id, button, fake, selected=None, **options) -> tuple[httpx.Response, tuple]:
    code = fake.click_code()
    query, body = callback_post(card_click_xml(userid, task_id, button, code, selected), **options)
    response = await web.post("/wecom/callback", params=query, content=body)
    return response, (query, body, code)


async def updated(fake, count: int, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while len(fake.updates) < count:
        assert time.monotonic() < deadline, f"{len(fake.updates)} card updates, expected {count}"
        await asyncio.sleep(0.05)
    return fake.updates


async def history_length(handle) -> int:
    return len((await handle.fetch_history()).events)


async def test_url_verification_answers_the_decrypted_echostr_exactly(setup):
    _, _, web, _ = setup
    echostr = encrypt("5927782489442352469")
    ok = await web.get("/wecom/callback", params={**signed_query(echostr), "echostr": echostr})
    assert ok.status_code == 200 and ok.text == "5927782489442352469"
    assert ok.headers["content-type"].startswith("text/plain")
    forged = await web.get("/wecom/callback", params={**signed_query(echostr, token="otherToken"), "echostr": echostr})
    other_corp = encrypt("5927782489442352469", receiver="ww9999999999999999")
    elsewhere = await web.get("/wecom/callback", params={**signed_query(other_corp), "echostr": other_corp})
    unsigned = await web.get("/wecom/callback", params={"echostr": echostr})
    assert [r.status_code for r in (forged, elsewhere, unsigned)] == [403, 403, 403]
    assert "5927782489442352469" not in forged.text + elsewhere.text


async def test_the_director_approves_with_one_tap_and_a_redelivery_changes_nothing(setup, make_start):
    env, settings, web, fake = setup
    handle, task_id, _ = await card_for_the_director(env, settings, fake, make_start)
    response, (query, body, code) = await click(web, "WangJun", task_id, "approve", fake)
    assert response.status_code == 200 and response.text == ""
    st = await handle.query(WF.state)
    decided = [e for e in st.timeline if e.kind == "outcome" and e.step == "director_review"]
    assert st.warning_tier == 3 and decided[0].actor == "wang.jun" and decided[0].detail == "同意启动三级预警"
    update = (await updated(fake, 1))[0]
    assert update["response_code"] == code and update["userids"] == ["WangJun"]
    assert update["template_card"]["replace_text"] == "已同意" and "王军" in update["template_card"]["main_title"]["desc"]
    assert update["template_card"]["task_id"] == task_id

    before = await history_length(handle)
    again = await web.post("/wecom/callback", params=query, content=body)  # WeCom had no answer in 5 s: again
    assert again.status_code == 200  # the ASGI call returns after its background work: nothing more is coming
    assert len(fake.updates) == 1 and await history_length(handle) == before

    late, (_, _, late_code) = await click(web, "WangJun", task_id, "reject", fake, {"reason": ["r1"]})
    assert late.status_code == 200
    expired = (await updated(fake, 2))[1]
    assert expired["response_code"] == late_code and expired["template_card"]["replace_text"] == "已失效"
    assert (await handle.query(WF.state)).warning_tier == 3 and await history_length(handle) == before


async def test_refusal_takes_the_reason_chosen_on_the_card(setup, make_start):
    env, settings, web, fake = setup
    handle, task_id, reasons = await card_for_the_director(env, settings, fake, make_start)
    response, _ = await click(web, "WangJun", task_id, "reject", fake, {"reason": ["r2"]})
    assert response.status_code == 200
    st = await handle.query(WF.state)
    assert st.rejection_reason == reasons["r2"] == "未达三级预警启动条件"
    assert st.current_steps == ["metering_explanation"] and st.warning_tier == 0
    assert (await updated(fake, 1))[0]["template_card"]["replace_text"] == "已不同意"


async def test_forged_callbacks_are_refused_and_change_nothing(setup, make_start):
    env, settings, web, fake = setup
    handle, task_id, _ = await card_for_the_director(env, settings, fake, make_start)
    before = await history_length(handle)
    xml = card_click_xml("WangJun", task_id, "approve", fake.click_code())
    query, body = callback_post(xml)
    tampered = dict(query, msg_signature="0" * 40)
    attempts = [
        (tampered, body),  # a wrong signature
        (query, body.replace(b"<Encrypt><![CDATA[", b"<Encrypt><![CDATA[AAAA")),  # a changed ciphertext
        callback_post(xml, token="notOurToken"),  # signed with another app's Token
        callback_post(xml, receiver="ww9999999999999999"),  # encrypted for another corp
        callback_post(xml, aes_key="Z" * 43),  # another EncodingAESKey
        callback_post(card_click_xml("WangJun", task_id, "approve", "rc", corp="ww9999999999999999")),
        callback_post(card_click_xml("WangJun", task_id, "approve", "rc", agent="1000099")),  # another app
        (query, b"<?xml version='1.0'?><!DOCTYPE xml [<!ENTITY a 'b'>]><xml><Encrypt>&a;</Encrypt></xml>"),
        (query, b"not xml at all"),
    ]
    for number, (q, b) in enumerate(attempts):
        response = await web.post("/wecom/callback", params=q, content=b)
        assert response.status_code == 403, (number, response.status_code, response.text)
    assert (await handle.query(WF.state)).current_steps == ["director_review"]
    assert await history_length(handle) == before and not fake.updates


async def test_only_the_centre_director_on_record_decides_by_card(setup, make_start):
    env, settings, web, fake = setup
    handle, task_id, _ = await card_for_the_director(env, settings, fake, make_start)
    before = await history_length(handle)
    for userid in ("SunLi", "NotInTheDirectory"):  # the hall lead; a member groupdesk does not know
        response, (_, _, code) = await click(web, userid, task_id, "approve", fake)
        assert response.status_code == 200
    refused = await updated(fake, 2)
    assert [u["template_card"]["replace_text"] for u in refused] == ["未生效", "未生效"]
    assert (await handle.query(WF.state)).current_steps == ["director_review"]
    assert await history_length(handle) == before


async def test_a_card_whose_approval_was_decided_elsewhere_expires_and_changes_nothing(setup, make_start):
    env, settings, web, fake = setup
    handle, task_id, _ = await card_for_the_director(env, settings, fake, make_start)
    await decide(handle, "wang.jun", approve=False, reason="电话中已说明")  # decided in the console
    before = await history_length(handle)
    response, _ = await click(web, "WangJun", task_id, "approve", fake)
    assert response.status_code == 200
    assert (await updated(fake, 1))[0]["template_card"]["replace_text"] == "已失效"
    st = await handle.query(WF.state)
    assert st.warning_tier == 0 and st.rejection_reason == "电话中已说明" and await history_length(handle) == before


async def test_a_click_while_temporal_is_unreachable_can_be_delivered_again(setup, make_start, monkeypatch):
    env, settings, web, fake = setup
    handle, task_id, _ = await card_for_the_director(env, settings, fake, make_start)
    services = web._transport.app.state.services

    async def unreachable():
        raise RuntimeError("Temporal is down")

    with monkeypatch.context() as patched:
        patched.setattr(services, "gateway", unreachable)
        response, (query, body, _) = await click(web, "WangJun", task_id, "approve", fake)
    assert response.status_code == 503 and (await handle.query(WF.state)).warning_tier == 0
    again = await web.post("/wecom/callback", params=query, content=body)  # WeCom's retry of the same event
    assert again.status_code == 200 and (await handle.query(WF.state)).warning_tier == 3
    assert (await updated(fake, 1))[0]["template_card"]["replace_text"] == "已同意"


async def test_the_callback_and_sign_in_exist_only_on_the_wecom_channel(tmp_path):
    app = create_app(Settings(GROUPDESK_DATA_DIR=tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as web:
        assert (await web.get("/wecom/callback")).status_code == 404
        assert (await web.get("/auth/wecom")).status_code == 404
