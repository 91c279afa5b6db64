"""Aliyun's and Tencent Cloud's pushes: the secret path token, field bounds per provider format (one line, 400,
nothing done), replies done once each (Aliyun by sequence_id, Tencent by mobile, time and text) and answered by
an approved template through the provider, the approval lock after five wrong codes, delivery reports for
unknown messages, and the dev phone simulator answering through the same path."""

from __future__ import annotations

import httpx
import pytest

from domestic_helpers import PROVIDERS, WEBHOOK_TOKEN, approved_playbooks, fake_for, provider_env
from groupdesk.web.app import create_app
from helpers import setup_for
from web_helpers import signed_in

DIRECTOR, STRANGER = "+8613900000301", "+8613712345678"


@pytest.fixture(params=PROVIDERS)
def world(request, httpserver, tmp_path):
    provider = request.param
    fake = fake_for(provider, httpserver)
    settings = setup_for(tmp_path, **provider_env(provider, fake),
                         GROUPDESK_PLAYBOOKS_DIR=approved_playbooks(tmp_path, provider, fake)).settings
    return provider, fake, settings


def reply(provider: str, sender: str, text: str, n: int = 1, sequence_id=None):
    if provider == "aliyun":
        return [{"phone_number": sender.removeprefix("+86"), "send_time": "2026-11-22 10:00:00", "content": text,
                 "dest_code": "1234", "sequence_id": n if sequence_id is None else sequence_id}]
    return {"extend": "", "mobile": sender.removeprefix("+86"), "nationcode": "86", "sign": "西城供电", "text": text,
            "time": 1795000000 + n}


def answers(fake, provider: str, number: str) -> list[str]:
    key = number.removeprefix("+86") if provider == "aliyun" else number
    return [m["content"] for m in fake.accepted if m["phone"] == key]


async def post(settings, path: str, body) -> httpx.Response:
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as web:
        return await web.post(path, json=body)


async def test_anything_else_gets_help_by_template_and_each_reply_is_done_once(world):
    provider, fake, settings = world
    base = f"/{provider}/{WEBHOOK_TOKEN}/reply"
    assert (await post(settings, base, reply(provider, STRANGER, "你好", 1))).status_code == 200
    assert (await post(settings, base, reply(provider, STRANGER, "你好", 1))).status_code == 200  # pushed again
    if provider == "aliyun":  # the same reply with its sequence_id as a string, and no sign_name: the same one
        assert (await post(settings, base, reply(provider, STRANGER, "你好", sequence_id="1"))).status_code == 200
    assert answers(fake, provider, STRANGER) == ["【西城供电】集体投诉处置:审批请回复“同意 审批码”或“不同意 审批码 理由”;"
                                                 "回访评价请回复1-5。"]
    await post(settings, base, reply(provider, STRANGER, "你好", 2))  # a new reply (another id, another time)
    assert len(answers(fake, provider, STRANGER)) == 2
    call = fake.sends()[-1]
    assert call.get("TemplateCode") or call.get("TemplateId"), "the answer is an approved template, not free text"


async def test_five_wrong_codes_lock_approval_by_sms_from_that_phone(world):
    provider, fake, settings = world
    for n in range(1, 7):
        await post(settings, f"/{provider}/{WEBHOOK_TOKEN}/reply", reply(provider, DIRECTOR, f"同意 00000{n}", n))
    said = answers(fake, provider, DIRECTOR)
    assert len(said) == 5, "the sixth is ignored: the phone was told when it locked"
    assert all("无效" in text for text in said[:4]) and "锁定至" in said[4]


@pytest.mark.parametrize("path,body,field", [
    ("reply", "not json", "body"),
    ("reply", {"mobile": "13800138000", "nationcode": "86", "text": "x" * 2001, "time": 1}, "text"),
    ("report", [{"nationcode": "86", "mobile": "13800138000", "report_status": "MAYBE", "sid": "1"}], "report_status"),
    ("report", {"sid": "1"}, "body"),
])
async def test_tencent_fields_out_of_bounds_are_one_line_and_400(httpserver, tmp_path, path, body, field):
    fake = fake_for("tencent", httpserver)
    settings = setup_for(tmp_path, **provider_env("tencent", fake)).settings
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as web:
        sent = await web.post(f"/tencent/{WEBHOOK_TOKEN}/{path}", **({"content": body} if isinstance(body, str)
                                                                       else {"json": body}))
    assert sent.status_code == 400 and sent.json()["result"] == 1 and field in sent.json()["errmsg"]
    assert fake.requests == []


@pytest.mark.parametrize("path,body,field", [
    ("reply", {"phone_number": "13800138000"}, "body"),
    ("reply", [{"phone_number": "13800138000", "content": "x", "sequence_id": ""}], "item 1: sequence_id"),
    ("report", [{"phone_number": "13800138000", "success": "maybe", "biz_id": "1"}], "item 1: success"),
    ("report", [{"phone_number": "1" * 30, "success": True, "biz_id": "1"}], "item 1: phone_number"),
])
async def test_aliyun_fields_out_of_bounds_are_one_line_and_400(httpserver, tmp_path, path, body, field):
    fake = fake_for("aliyun", httpserver)
    settings = setup_for(tmp_path, **provider_env("aliyun", fake)).settings
    sent = await post(settings, f"/aliyun/{WEBHOOK_TOKEN}/{path}", body)
    assert sent.status_code == 400 and sent.json()["code"] == 1 and sent.json()["msg"].startswith(field)
    assert fake.requests == []


@pytest.mark.parametrize("token", ["", "k" * 40])
async def test_a_wrong_or_unset_token_is_not_found(httpserver, tmp_path, token):
    settings = setup_for(tmp_path, GROUPDESK_WEBHOOK_TOKEN=token).settings
    for provider in PROVIDERS:
        for path in ("report", "reply"):
            assert (await post(settings, f"/{provider}/{WEBHOOK_TOKEN}/{path}", [])).status_code == 404


async def test_a_report_for_no_message_of_ours_changes_nothing(world):
    provider, fake, settings = world
    unknown = [{"phone_number": "13800138000", "success": True, "biz_id": "9^0", "out_id": "gdnope"}] \
        if provider == "aliyun" else [{"nationcode": "86", "mobile": "13800138000", "report_status": "SUCCESS",
                                       "sid": "nope", "user_receive_time": "", "errmsg": "", "description": ""}]
    assert (await post(settings, f"/{provider}/{WEBHOOK_TOKEN}/report", unknown)).status_code == 200


async def test_the_dev_phone_replies_through_the_providers_reply_path(world):
    provider, fake, settings = world
    app = create_app(settings, dev=True)
    async with signed_in(app, "ma.ning") as ops:
        done = await ops.post("/phone/reply", data={"phone": STRANGER, "body": "你好"})
    assert done.status_code == 303
    assert answers(fake, provider, STRANGER)[0].startswith("【西城供电】集体投诉处置:"), "answered by the provider"
