"""groupdesk's WeCom client against the local fake: the shared access token, and what each answer to a send means.

The token is fetched once and shared through groupdesk's database by every process (a second
process sends without asking for one), refreshed once when WeCom says it expired however many
messages fail on it, and a wrong secret fails loudly, naming the setting, without asking WeCom
again for every message. Rate limits mean "retry later", an unknown member and any other refusal
"send the SMS instead"; a resend after a lost answer is dropped by WeCom's duplicate check.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest
import structlog
import structlog.testing

from fake_wecom import FakeWecom, settings_env
from groupdesk.runtime.config import REPO_ROOT, Settings
from groupdesk.messaging.wecom.channel import (
    DUPLICATE_WINDOW, FallBackToSms, RetryLater, Sent, WecomChannel, WecomMessage, content_ref,
)

pytestmark = pytest.mark.server  # the server tier: it starts a second process and PostgreSQL


@pytest.fixture
def fake():
    server = FakeWecom().start()
    yield server
    server.stop()


def settings_for(fake: FakeWecom, tmp_path, **more) -> Settings:
    return Settings(GROUPDESK_DATA_DIR=tmp_path / "data", **settings_env(fake.base_url, **more))


def text(key: str, userid: str = "WangJun", body: str = "请于10:30前审批", drill: bool = False) -> WecomMessage:
    return WecomMessage(key=key, userid=userid, purpose="reminder", text=body, drill=drill)


async def test_one_token_for_every_process_and_one_refresh_when_it_expires(fake, tmp_path, database_url):
    settings = settings_for(fake, tmp_path, GROUPDESK_DATABASE_URL=database_url)
    channel = WecomChannel.from_settings(settings)
    results = await asyncio.gather(*(channel.send(text(f"inc/step#1/reminder/deadline/p{n}")) for n in range(12)))
    assert all(isinstance(r, Sent) for r in results), results
    assert len(fake.calls("gettoken")) == 1 and len(fake.delivered) == 12

    # another process, with its own connection to the same database, uses the same token
    other = subprocess.run([sys.executable, "-c", f"""
import asyncio, json, sys
sys.path.insert(0, {str(REPO_ROOT / 'tests')!r})
from fake_wecom import settings_env
from groupdesk.runtime.config import Settings
from groupdesk.messaging.wecom.channel import WecomChannel, WecomMessage
settings = Settings(GROUPDESK_DATA_DIR={str(tmp_path / 'data')!r}, GROUPDESK_DATABASE_URL={database_url!r},
                    **settings_env({fake.base_url!r}))
result = asyncio.run(WecomChannel.from_settings(settings).send(
    WecomMessage(key="other-process", userid="SunLi", purpose="reminder", text="另一个进程")))
print(type(result).__name__)
"""], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert other.returncode == 0 and other.stdout.strip().splitlines()[-1] == "Sent", other.stderr
    assert len(fake.calls("gettoken")) == 1, "the second process fetched a token of its own"

    fake.expire_tokens()  # WeCom says 42001 to every message on the old token
    results = await asyncio.gather(*(channel.send(text(f"inc/step#2/reminder/deadline/p{n}")) for n in range(12)))
    assert all(isinstance(r, Sent) for r in results), results
    assert len(fake.calls("gettoken")) == 2, "refreshed once, not once per message"
    stale = [r for r in fake.calls("message/send") if r["args"]["access_token"] == fake.tokens[0]]
    assert 12 <= len(stale) <= 25 and len(fake.delivered) == 25
    assert channel.api.tokens.fetches() == 2


async def test_a_token_close_to_expiry_is_fetched_anew_before_it_expires(fake, tmp_path):
    fake.expires_in = 200  # under groupdesk's 300 s margin: every read finds it too old
    channel = WecomChannel.from_settings(settings_for(fake, tmp_path))
    assert isinstance(await channel.send(text("k1")), Sent)
    assert isinstance(await channel.send(text("k2")), Sent)
    assert len(fake.calls("gettoken")) == 2
    fake.expires_in = 7200
    assert isinstance(await channel.send(text("k3")), Sent)
    assert isinstance(await channel.send(text("k4")), Sent)
    assert len(fake.calls("gettoken")) == 3


async def test_a_wrong_secret_falls_back_loudly_and_is_not_asked_again_per_message(fake, tmp_path):
    channel = WecomChannel.from_settings(settings_for(fake, tmp_path,
                                                      GROUPDESK_WECOM_SECRET="W" * 43))
    with structlog.testing.capture_logs() as captured:  # whatever renderer an earlier test configured
        first, second = await channel.send(text("k1")), await channel.send(text("k2"))
    for result in (first, second):
        assert isinstance(result, FallBackToSms) and result.loud and result.code == "40001"
        assert "GROUPDESK_WECOM_SECRET" in result.reason and "40001" in result.reason
    assert len(fake.calls("gettoken")) == 1 and not fake.calls("message/send")
    logged = repr(captured)
    assert "wecom gettoken refused" in logged and "W" * 43 not in logged


@pytest.mark.parametrize("code,after", [(45009, 60.0), (45033, 5.0), (-1, 5.0)])
async def test_rate_limits_and_busy_are_retried_later_and_then_sent(fake, tmp_path, code, after):
    channel = WecomChannel.from_settings(settings_for(fake, tmp_path))
    fake.fail_next("message/send", code)
    result = await channel.send(text("k1"))
    assert result == RetryLater(str(code), result.reason, after) and not fake.delivered
    assert isinstance(await channel.send(text("k1")), Sent) and len(fake.delivered) == 1


@pytest.mark.parametrize("mode", ["81013", "listed"])
async def test_a_member_wecom_does_not_know_falls_back_to_sms(fake, tmp_path, mode):
    fake.invalid_as = mode
    channel = WecomChannel.from_settings(settings_for(fake, tmp_path))
    result = await channel.send(text("k1", userid="NoSuchMember"))
    assert isinstance(result, FallBackToSms) and not result.loud
    assert result.code == ("81013" if mode == "81013" else "invaliduser") and "wecom_userid" in result.reason
    assert isinstance(await channel.send(text("k2", userid="")), FallBackToSms)


async def test_any_other_refusal_falls_back_with_its_code(fake, tmp_path):
    channel = WecomChannel.from_settings(settings_for(fake, tmp_path))
    fake.fail_next("message/send", 60020)
    result = await channel.send(text("k1"))
    assert isinstance(result, FallBackToSms) and result.code == "60020" and "60020" in result.reason


async def test_a_lost_answer_is_retried_and_wecom_drops_the_twin(fake, tmp_path):
    """The send reached WeCom but the answer came too late: groupdesk sends the same again, WeCom drops it."""
    settings = settings_for(fake, tmp_path)
    slow = WecomChannel.from_settings(settings, timeout=0.5)
    fake.delay = 2.0
    assert isinstance(await slow.send(text("inc/s#1/reminder/deadline/wang.jun")), RetryLater)
    fake.delay = 0.0
    again = await WecomChannel.from_settings(settings).send(text("inc/s#1/reminder/deadline/wang.jun"))
    assert isinstance(again, Sent)
    assert len(fake.delivered) == 1 and len(fake.suppressed) == 1, "the member read it twice"
    sent = fake.calls("message/send")[-1]["body"]
    assert sent["enable_duplicate_check"] == 1 and sent["duplicate_check_interval"] == DUPLICATE_WINDOW == 14400


async def test_same_words_under_two_keys_are_two_messages_and_drills_are_marked(fake, tmp_path):
    channel = WecomChannel.from_settings(settings_for(fake, tmp_path))
    for key in ("inc-a/s#1/reminder/deadline/wang.jun", "inc-b/s#1/reminder/deadline/wang.jun"):
        assert isinstance(await channel.send(text(key, body="请尽快处理")), Sent)
    assert len(fake.delivered) == 2 and not fake.suppressed
    contents = [m["text"]["content"] for m in fake.delivered]
    assert contents[0].startswith("请尽快处理") and contents[0].endswith(content_ref("inc-a/s#1/reminder/deadline/wang.jun"))
    assert contents[0] != contents[1]
    assert isinstance(await channel.send(text("drill/s#1/reminder/x", body="演练通知", drill=True)), Sent)
    assert fake.delivered[-1]["text"]["content"].startswith("【演练】演练通知")
    long = await channel.send(text("long", body="长" * 1000))
    assert isinstance(long, Sent) and len(fake.delivered[-1]["text"]["content"].encode()) <= 2048


async def test_no_answer_at_all_is_retried_later(tmp_path):
    settings = Settings(GROUPDESK_DATA_DIR=tmp_path / "data", **settings_env("http://127.0.0.1:9"))
    result = await WecomChannel.from_settings(settings, timeout=2).send(text("k1"))
    assert isinstance(result, RetryLater) and "WeCom" in result.reason


def test_the_payload_carries_the_agent_and_never_the_secret(fake, tmp_path):
    channel = WecomChannel.from_settings(settings_for(fake, tmp_path))
    body = json.dumps(channel.payload(text("k1")), ensure_ascii=False)
    assert "WangJun" in body and fake.base_url not in body and "Sb7mQw2" not in body
    assert "Sb7mQw2" not in repr(channel.api.app)


def test_wecom_check_says_whether_wecom_takes_the_settings(fake, tmp_path):
    from helpers import groupdesk_cli

    env = {"GROUPDESK_DATA_DIR": str(tmp_path / "data"), **settings_env(fake.base_url)}
    ok = groupdesk_cli(env, "wecom", "check")
    assert ok.returncode == 0 and "ok: WeCom took the settings" in ok.stdout, ok.stderr
    wrong = groupdesk_cli({**env, "GROUPDESK_DATA_DIR": str(tmp_path / "other"), "GROUPDESK_WECOM_SECRET": "W" * 43},
                          "wecom", "check")
    assert wrong.returncode == 1 and wrong.stderr.strip().splitlines()[-1].startswith("error: WeCom refused"
                                                                                     " GROUPDESK_WECOM_SECRET (40001")
    assert "W" * 43 not in wrong.stderr + wrong.stdout
