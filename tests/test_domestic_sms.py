"""Aliyun and Tencent Cloud SMS: the real SDK clients against local fakes, from the send activity: approved
templates with parameters, the 32-character send id, every error class, settling a maybe-sent message; the
routes, the parameter limits, the settings every command checks, and the template registry."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.sms import SmsActivities
from domestic_helpers import PROVIDERS, approved_playbooks, fake_for, provider_env, sent_texts
from fake_aliyun import BEIJING
from groupdesk.runtime.config import Settings
from groupdesk.core.batch import SendBatch
from groupdesk.core.models import SendMessages
from groupdesk.messaging.channels import make_channels, settings_problems, sms_refusal, template_problems
from groupdesk.messaging.domestic import out_id_for
from groupdesk.messaging.routes import RoutesError, parse_routes
from groupdesk.messaging.sms_templates import REGISTRY_FILE, Entry, RegistryError, cached_registry, \
    expressibility_problems, registry_for
from groupdesk.messaging.template_sync import current_sources, export_rows
from groupdesk.messaging.template_text import shape_of
from groupdesk.messaging.outbox import Outbox
from helpers import migrated_sqlite

GUIDE = "+8613900000101"
KEY = "inc-9/move_to_vip_room#1/step_started/start"
TEMPLATE = {"zh-CN": "{{ recipient_name }}:请于{{ deadline }}前引导客户至VIP室。事由:{{ summary }}。事件:{{ incident_id }}",
            "en": "{{ recipient_name }}: move the group by {{ deadline }}. {{ summary }}. Incident {{ incident_id }}"}


HANG_UP_AFTER = {"GROUPDESK_ALIYUN_TIMEOUT": "3", "GROUPDESK_TENCENT_TIMEOUT": "3"}


@pytest.fixture(params=PROVIDERS)
def world(request, httpserver, tmp_path, directory):
    """(provider, fake, settings, activities) with every text approved and the registry synced."""
    provider = request.param
    fake = fake_for(provider, httpserver)
    playbooks = approved_playbooks(tmp_path, provider, fake)
    # 3 s to answer: a fake that hangs (4 s) is given up on, as a gateway that does not answer would be
    settings = Settings(**provider_env(provider, fake, **HANG_UP_AFTER), GROUPDESK_PLAYBOOKS_DIR=playbooks,
                        GROUPDESK_DATA_DIR=tmp_path / "data")
    shape, registry = shape_of(TEMPLATE["zh-CN"]), registry_for(playbooks)
    for drill in (False, True):  # the test's own template, approved as a playbook's would be
        text = shape.text(provider, drill)
        fake.approve([text])
        code = next(str(t.get("code") or t.get("id")) for t in fake.templates if t["content"] == text)
        registry.entries[provider][text] = Entry(text=text, code=code, status="approved")
    registry.save()
    sms = SmsActivities(Outbox(migrated_sqlite(tmp_path / "o.sqlite3")), make_channels(settings), lambda: directory,
                        registry_loader=lambda: cached_registry(playbooks))
    return provider, fake, settings, sms


def request(summary="智能电表换装后电量异常增长", retry=0, drill=False) -> SendMessages:
    return SendMessages(incident_id="inc-9", hall_id="xicheng", step="move_to_vip_room", purpose="step_started",
                        key=KEY, recipients=["guide"], template=TEMPLATE, retry=retry, drill=drill,
                        context={"summary": summary, "incident_id": "xicheng-20261122-a1b2c3",
                                 "deadline": "2026-11-22T10:30:00+08:00"})


async def run(sms, req=None):
    return await ActivityEnvironment().run(sms.send_messages, req or request())


def sent_params(provider, call) -> list[str]:
    raw = call.get("TemplateParam") if provider == "aliyun" else call.get("TemplateParamSet")
    values = json.loads(raw) if isinstance(raw, str) else raw
    return list(values.values()) if isinstance(values, dict) else list(values)


async def test_a_message_is_an_approved_template_with_parameters_and_a_compact_id(world):
    provider, fake, settings, sms = world
    long_summary = "小区" * 40  # 80 characters: over Aliyun's 35 per variable
    result = await run(sms, request(summary=long_summary))
    assert [d.status for d in result.deliveries] == ["sent"]
    (call,) = fake.sends()
    (row,) = sms.outbox.list("inc-9")
    assert row.provider == provider and row.channel == "sms" and row.status == "sent"
    assert row.out_id == out_id_for(f"{KEY}/zhao.min") and len(row.out_id) <= 32
    if provider == "aliyun":
        assert call["OutId"] == row.out_id and call["TemplateCode"] == row.template_code
        assert call["SignName"] == "西城供电" and call["PhoneNumbers"] == "13900000101"
        values = json.loads(call["TemplateParam"])
        assert values["recipient_name"] == "赵敏" and values["summary"] == "小区" * 17 + "…"  # 35 with the "…"
        assert row.provider_id == fake.accepted[0]["biz_id"]
    else:
        assert call["SessionContext"] == row.out_id and call["TemplateId"] == row.template_code
        assert call["SignName"] == "西城供电" and call["PhoneNumberSet"] == [GUIDE]
        assert call["TemplateParamSet"][0] == "赵敏" and call["TemplateParamSet"][2] == long_summary  # no per-value limit
        assert row.provider_id == fake.accepted[0]["serial_no"]
    # what the phone shows: the registered text with the values in, after the signature; no free text left
    assert sent_texts(provider, fake) == [shape_of(TEMPLATE["zh-CN"]).text(provider)]
    assert row.body == fake.accepted[0]["content"] and row.body.startswith("【西城供电】赵敏:请于")
    assert json.loads(row.params) and "【演练】" not in row.body


async def test_a_drill_says_so_in_round_brackets_and_in_its_own_template(world):
    provider, fake, settings, sms = world
    await run(sms, request(drill=True))
    (row,) = sms.outbox.list("inc-9")
    assert row.body.startswith("【西城供电】（演练）赵敏") and "【演练】" not in row.body
    assert sent_texts(provider, fake) == [shape_of(TEMPLATE["zh-CN"]).text(provider, drill=True)]


async def test_no_approved_template_is_refused_for_good_and_nothing_reaches_the_provider(world):
    provider, fake, settings, sms = world
    other = request()
    other.template = {"zh-CN": "{{ recipient_name }}:一条未登记的短信", "en": "x"}
    result = await run(sms, other)
    (delivery,) = result.deliveries
    assert delivery.status == "failed" and "no approved template" in delivery.error and provider in delivery.error
    assert fake.sends() == [] and sms.outbox.list("inc-9")[0].status == "failed"


RATE = {"aliyun": ("code", "isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5"),
        "tencent": ("code", "LimitExceeded.PhoneNumberOneHourLimit", "hour limit")}
REFUSED = {"aliyun": ("code", "isv.MOBILE_NUMBER_ILLEGAL", "invalid"),
           "tencent": ("code", "InvalidParameterValue.IncorrectPhoneNumber", "invalid")}


async def test_a_rate_limit_is_retried_after_the_providers_window_not_at_once(world):
    provider, fake, settings, sms = world
    fake.script = [RATE[provider]]
    with pytest.raises(ApplicationError) as info:
        await run(sms)
    assert not info.value.non_retryable and info.value.next_retry_delay == timedelta(hours=1)
    assert sms.outbox.list("inc-9")[0].status == "queued"
    fake.script = [RATE[provider]]
    batch = await ActivityEnvironment().run(sms.send_batch, SendBatch(requests=[request()]))
    assert batch.outcomes[0].retryable and batch.outcomes[0].retry_after == 3600  # the workflow waits that long
    assert fake.accepted == []
    (delivery,) = (await run(sms)).deliveries  # the window passed: sent, once
    assert delivery.status == "sent" and len(fake.accepted) == 1


async def test_a_refusal_for_good_is_failed_with_a_plain_reason(world):
    provider, fake, settings, sms = world
    fake.script = [REFUSED[provider]]
    (delivery,) = (await run(sms)).deliveries
    assert delivery.status == "failed" and "not a valid mobile number" in delivery.error
    row = sms.outbox.list("inc-9")[0]
    assert row.status == "failed" and row.error_code == REFUSED[provider][1]


@pytest.mark.parametrize("cut", [("drop",), ("hang", 4), ("http", 502)])
async def test_a_maybe_sent_message_is_settled_before_any_resend(world, cut):
    """Aliyun: QuerySendDetails finds the OutId, nothing is sent again. Tencent: no API can tell, so it is
    parked as unknown for ops (the activity does not send it again by itself)."""
    provider, fake, settings, sms = world
    fake.script = [cut]
    if provider == "aliyun":
        with pytest.raises(ApplicationError, match="outcome unknown"):
            await run(sms)
        assert sms.outbox.list("inc-9")[0].status == "unknown"
        (delivery,) = (await run(sms)).deliveries  # the next attempt
        accepted = 0 if cut[0] == "http" else 1
        assert delivery.status == ("duplicate" if accepted else "sent")
        assert len(fake.sends()) == 2 - accepted and len(fake.accepted) == 1
        assert any(r["action"] == "QuerySendDetails" for r in fake.requests)
        return
    (delivery,) = (await run(sms)).deliveries
    assert delivery.status == "failed" and delivery.error.startswith("unknown:") and "mark-sent" in delivery.error
    row = sms.outbox.list("inc-9")[0]
    assert row.status == "unknown" and row.provider_id is None
    (again,) = (await run(sms)).deliveries  # a later attempt parks it again, it does not resend
    assert again.status == "failed" and len(fake.sends()) == 1
    (retried,) = (await run(sms, request(retry=1))).deliveries  # ops said: send it again
    assert retried.status == "sent" and len(fake.sends()) == 2


async def test_tencent_tells_a_refused_connection_from_a_timeout(httpserver, tmp_path, directory):
    from groupdesk.messaging.tencent import TencentProvider
    from groupdesk.messaging.errors import RetryableSmsError, UnknownOutcomeError

    from groupdesk.messaging.outbox import OutboxRow

    fake = fake_for("tencent", httpserver)
    message = OutboxRow(key="k/p", incident_id="i", step=None, purpose="x", recipient="p", role="guide",
                        to_number=GUIDE, lang="zh-CN", body="", drill=False, provider="tencent", template_code="1",
                        params="[]", out_id="gd1")
    fake.script = [("hang", 4)]
    with pytest.raises(UnknownOutcomeError):
        await TencentProvider.from_settings(Settings(**provider_env("tencent", fake, **HANG_UP_AFTER))).send(message)
    closed = Settings(**provider_env("tencent", fake, GROUPDESK_TENCENT_API_BASE="http://127.0.0.1:9"))
    with pytest.raises(RetryableSmsError, match="not sent"):
        await TencentProvider.from_settings(closed).send(message)


async def test_aliyun_looks_at_both_beijing_dates_near_midnight(httpserver):
    from groupdesk.messaging.aliyun import AliyunProvider
    from groupdesk.messaging.outbox import OutboxRow

    fake = fake_for("aliyun", httpserver)
    midnight = datetime.now(BEIJING).replace(hour=0, minute=0, second=5, microsecond=0)
    fake.clock = lambda: midnight  # Aliyun took it after midnight, Beijing time...
    fake._accept({"PhoneNumbers": "13900000101", "OutId": "gd-midnight", "TemplateCode": "SMS_1", "SignName": "x"})
    created = (midnight - timedelta(seconds=20)).astimezone(timezone.utc).isoformat()  # ...stored just before
    message = OutboxRow(key="k/p", incident_id="i", step=None, purpose="x", recipient="p", role="guide",
                        to_number=GUIDE, lang="zh-CN", body="", drill=False, provider="aliyun", template_code="SMS_1",
                        params="{}", out_id="gd-midnight", created_at=created)
    found = await AliyunProvider.from_settings(Settings(**provider_env("aliyun", fake))).reconcile(message)
    assert found == "out:gd-midnight"
    dates = [r["SendDate"] for r in fake.requests if r["action"] == "QuerySendDetails"]
    assert dates == [(midnight - timedelta(days=1)).strftime("%Y%m%d"), midnight.strftime("%Y%m%d")]


def test_routes_pick_a_provider_by_country_calling_code():
    routes = parse_routes("86=aliyun, 852=twilio, *=twilio", "outbox")
    assert routes.provider_for("+8613900000101") == "aliyun" and routes.provider_for("+85291234567") == "twilio"
    assert routes.provider_for("+15005550006") == "twilio" and routes.template_providers() == ["aliyun"]
    assert parse_routes("", "tencent").provider_for("+8613900000101") == "tencent"
    for bad, said in [("86:aliyun", "is not CODE=PROVIDER"), ("86=sms", "names no provider"),
                      ("999=aliyun", "not a country calling code"), ("86=aliyun,86=tencent", "routed twice")]:
        with pytest.raises(RoutesError, match=said):
            parse_routes(bad, "outbox")


def test_values_are_cut_with_an_ellipsis_to_each_providers_limits():
    shape = shape_of("通知{{ a }}:{{ b }}。")
    long = "长" * 600
    filled = shape.fill("aliyun", {"a": "x" * 40, "b": long}, "西城供电")
    assert filled.params == {"a": "x" * 34 + "…", "b": "长" * 34 + "…"}
    filled = shape.fill("tencent", {"a": "短", "b": long}, "西城供电")
    assert len(filled.text) == 500 and filled.params[1].endswith("…") and filled.params[0] == "短"
    assert shape.fill("aliyun", {"a": "【x】", "b": ""}, "s").params["a"] == "「x」"  # 【】 is the signature's


def test_every_shipped_template_can_be_a_provider_template_and_a_branch_is_named_with_the_fix():
    assert expressibility_problems(current_sources(Settings())) == []
    (problem,) = expressibility_problems({"pb/step.zh-CN": "{% if x %}甲{% else %}乙{% endif %}"})
    assert "pb/step.zh-CN.j2" in problem and "{% if %}" in problem and "audiences:" in problem


def _cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    from helpers import groupdesk_cli

    return groupdesk_cli(env, *args)


@pytest.mark.parametrize("env,variable", [
    ({"GROUPDESK_SMS_PROVIDER": "twilio"}, "TWILIO_ACCOUNT_SID"),
    ({"GROUPDESK_SMS_PROVIDER": "aliyun", "ALIBABA_CLOUD_ACCESS_KEY_ID": "k"}, "ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
    ({"GROUPDESK_SMS_ROUTES": "86=tencent,*=outbox"}, "TENCENTCLOUD_SECRET_ID"),
    ({"GROUPDESK_SMS_ROUTES": "86=aliyun;*=twilio"}, "GROUPDESK_SMS_ROUTES"),
])
def test_a_missing_provider_setting_stops_every_command_groupdesk_list_included(tmp_path, env, variable):
    for args in (["list"], ["sms", "list"], ["directory"]):
        done = _cli({**env, "GROUPDESK_DATA_DIR": str(tmp_path)}, *args)
        assert done.returncode == 2 and done.stdout == "", done.stderr
        assert done.stderr.startswith(f"error: {variable}") and len(done.stderr.strip().splitlines()) == 1
        assert "Traceback" not in done.stderr


def test_registry_export_then_sync_then_load_and_an_unregistered_template_is_refused_by_name(httpserver, tmp_path):
    fake = fake_for("aliyun", httpserver)
    root = approved_playbooks(tmp_path, "aliyun", fake)  # export, the provider approves, sync
    settings = Settings(**provider_env("aliyun", fake), GROUPDESK_PLAYBOOKS_DIR=root)
    rows = export_rows(settings, "aliyun")
    assert rows and all(e.status == "approved" and e.code.startswith("SMS_") for e in rows)
    assert len({e.text for e in rows}) == len(rows), "one entry per distinct text"
    reminders = next(e for e in rows if e.text.startswith("提醒 ${recipient_name}:「${step_title}」已到时限"))
    assert {u.split("/")[0] for u in reminders.used_by} >= {"outage-group-complaint", "smart-meter-group-complaint"}
    assert template_problems(settings) == []  # every process starts
    (root / "templates" / "outage-group-complaint" / "keep_order.zh-CN.j2").write_text(
        "{{ hall_name }}集体投诉:请维持秩序。事件:{{ incident_id }}", encoding="utf-8")
    from groupdesk.playbooks.loader import load_playbook

    refused = sms_refusal(settings, load_playbook(root / "outage-group-complaint.yaml"))
    assert "outage-group-complaint/keep_order.zh-CN" in refused and "no approved aliyun template" in refused
    assert template_problems(settings)  # the worker and the console refuse to start too
    env = {**provider_env("aliyun", fake), "GROUPDESK_PLAYBOOKS_DIR": str(root), "GROUPDESK_DATA_DIR": str(tmp_path)}
    validate = _cli(env, "playbooks", "validate")
    assert validate.returncode == 1 and "keep_order.zh-CN" in validate.stderr and "aliyun" in validate.stderr
    submitted = _cli(env, "sms", "templates", "submit", "--provider", "aliyun")
    assert submitted.returncode == 0 and "filed SMS_" in submitted.stdout, submitted.stderr
    assert [r["TemplateContent"] for r in fake.requests if r["action"] == "CreateSmsTemplate"] == [
        "${hall_name}集体投诉:请维持秩序。事件:${incident_id}", "（演练）${hall_name}集体投诉:请维持秩序。事件:${incident_id}"]
    assert registry_for(root).get("aliyun", "${hall_name}集体投诉:请维持秩序。事件:${incident_id}").status == "reviewing"
    exported = _cli(env, "sms", "templates", "export", "--provider", "aliyun", "--csv")
    assert exported.returncode == 0 and "reviewing" in exported.stdout and "${hall_name}" in exported.stdout


def test_provider_settings_are_named_one_line_each():
    assert settings_problems(Settings(GROUPDESK_SMS_PROVIDER="tencent", TENCENTCLOUD_SECRET_ID="a",
                                      TENCENTCLOUD_SECRET_KEY="b", GROUPDESK_TENCENT_SMS_APP_ID="app")) == [
        "GROUPDESK_TENCENT_SMS_APP_ID is missing or not the SMS application's SdkAppId (digits, e.g. 1400006666)"]
    lines = settings_problems(Settings(GROUPDESK_SMS_PROVIDER="aliyun", ALIBABA_CLOUD_ACCESS_KEY_ID="a",
                                       ALIBABA_CLOUD_ACCESS_KEY_SECRET="b", GROUPDESK_ALIYUN_SIGN_NAME="【西城】",
                                       GROUPDESK_WEBHOOK_TOKEN="short"))
    assert [line.split(" ")[0].split("=")[0] for line in lines] == ["GROUPDESK_ALIYUN_SIGN_NAME", "GROUPDESK_WEBHOOK_TOKEN"]


def test_the_registry_is_read_again_only_when_a_sync_replaces_it(httpserver, tmp_path):
    """Sends and start checks share one parsed registry; a sync writes a new file (a new inode), which the next
    reader sees even when its size and mtime are the old ones."""
    import os

    fake = fake_for("aliyun", httpserver)
    root = approved_playbooks(tmp_path, "aliyun", fake)
    first = cached_registry(root)
    assert cached_registry(root) is first, "unchanged: not parsed again"
    registry = registry_for(root)  # to change: a copy of its own
    assert registry is not first
    text = next(iter(registry.entries["aliyun"]))
    registry.entries["aliyun"][text].status = "rejected"  # the same length as approved: the same size on disk
    path, before = registry.path, registry.path.stat()
    registry.save()
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert cached_registry(root).get("aliyun", text).status == "rejected"
    assert first.get("aliyun", text).status == "approved", "a reader's registry is not changed under it"


@pytest.mark.parametrize("content", [b"aliyun: [unclosed", "aliyun: []".encode("utf-16")], ids=["yaml", "utf-16"])
def test_an_unreadable_registry_is_one_line_naming_the_file_and_the_fix(tmp_path, content):
    (tmp_path / REGISTRY_FILE).write_bytes(content)
    for read in (cached_registry, registry_for):  # a send or check, and a sync
        with pytest.raises(RegistryError) as caught:
            read(tmp_path)
        line = str(caught.value)
        assert line.startswith(f"{tmp_path / REGISTRY_FILE} cannot be read") and "\n" not in line
        assert "groupdesk sms templates sync" in line


def test_a_copy_of_the_registry_shares_one_parse_until_it_changes(httpserver, tmp_path):
    """Two files with the same text (a copy of the playbooks, a sync that changed nothing) are parsed once for the
    readers; a change to one is read from it alone."""
    import shutil

    fake = fake_for("aliyun", httpserver)
    root = approved_playbooks(tmp_path, "aliyun", fake)
    copy = shutil.copytree(root, tmp_path / "copy")
    first, same = cached_registry(root), cached_registry(copy)
    assert same.path.parent == copy and same.entries is first.entries
    registry = registry_for(copy)
    changed = next(iter(registry.entries["aliyun"].values()))
    changed.status = "rejected"
    registry.save()
    assert cached_registry(copy).get("aliyun", changed.text).status == "rejected"
    assert cached_registry(root).get("aliyun", changed.text).status == "approved"
