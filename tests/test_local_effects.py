"""Issue 18: a transition's messages go out in one local activity; only what failed is tried again; a start from
a process that runs a worker on the queue is eager."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from temporalio.api.enums.v1 import EventType

from fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from groupdesk.config import Settings
from groupdesk.drill import wait_for
from groupdesk.outbox import Outbox
from helpers import start
from worker import build_worker

pytestmark = pytest.mark.devserver


async def test_rate_limited_messages_are_retried_alone_and_sent_once(dev_env, tmp_path, httpserver, monkeypatch,
                                                                      make_start):
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    fake = FakeTwilio(httpserver).install()
    settings = Settings(GROUPDESK_DATA_DIR=tmp_path, GROUPDESK_TASK_QUEUE=f"local-{uuid.uuid4().hex[:6]}",
                        GROUPDESK_SMS_PROVIDER="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                        TWILIO_FROM_NUMBER=FROM_NUMBER, GROUPDESK_TWILIO_API_BASE=fake.base_url,
                        GROUPDESK_PUBLIC_URL="https://groupdesk.example.org", GROUPDESK_TWILIO_TIMEOUT="2")
    fake.script = [429, 429]  # the first two messages of the first transition are rate limited
    async with build_worker(dev_env.client, settings):
        handle = await start(dev_env, settings, make_start(drill=True, time_scale=3000.0))
        first = await wait_for(handle, lambda s: len(s.deliveries) >= 5)
        rows = Outbox(settings).list(handle.id)
        history = await handle.fetch_history()
    assert not first.failed_actions, "a rate limit is retried, not parked"
    assert all(r.status == "sent" for r in rows)
    accepted = Counter((m["to"], m["body"]) for m in fake.accepted)
    assert accepted and max(accepted.values()) == 1, "nothing sent twice"
    assert len(fake.posts) == len(fake.accepted) + 2, "only the two refused messages were posted again"
    kinds = {e.event_type for e in history.events}
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED not in kinds, "messages go out by local activity"
    assert EventType.EVENT_TYPE_MARKER_RECORDED in kinds


async def test_a_start_is_eager_where_this_client_runs_a_worker_and_normal_elsewhere(dev_env, tmp_path, make_start):
    settings = Settings(GROUPDESK_DATA_DIR=tmp_path, GROUPDESK_TASK_QUEUE=f"eager-{uuid.uuid4().hex[:6]}",
                        GROUPDESK_DEV_MODE="true")
    async with build_worker(dev_env.client, settings):
        handle = await start(dev_env, settings, make_start(drill=True))
        assert getattr(handle, "__temporal_eagerly_started") is True, "its first workflow task came with the start"
        await wait_for(handle, lambda s: len(s.deliveries) >= 1)
    elsewhere = Settings(GROUPDESK_DATA_DIR=tmp_path, GROUPDESK_TASK_QUEUE=f"nobody-{uuid.uuid4().hex[:6]}",
                         GROUPDESK_DEV_MODE="true")
    handle = await start(dev_env, elsewhere, make_start(drill=True))  # no worker here: a normal start
    assert getattr(handle, "__temporal_eagerly_started") is False
    assert (await handle.describe()).status.name == "RUNNING"
