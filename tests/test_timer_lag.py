"""A slow SMS gateway does not make deadlines late (issue 18): the deadline timer counts from when the
transition's messages went out, not from the start of the workflow task that sent them."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timedelta

import pytest

from fake_twilio import FakeTwilio
from groupdesk.config import Settings
from helpers import running_worker, start, state
from test_twilio_incident import twilio_env

SLOW = 0.5  # seconds the fake gateway takes to answer each message (one at a time: 4 messages, 2 s)
BATCH = timedelta(seconds=4 * SLOW)
TOLERANCE = timedelta(milliseconds=400)
pytestmark = pytest.mark.devserver


async def history_with_timer(handle) -> list:
    for _ in range(200):
        events = (await handle.fetch_history()).events
        if any(e.HasField("timer_started_event_attributes") for e in events):
            return events
        await asyncio.sleep(0.1)
    raise AssertionError("no deadline timer was started")


def patch_ids(events) -> list[str]:
    return [json.loads(e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data)["id"]
            for e in events if e.marker_recorded_event_attributes.marker_name == "core_patch"]


async def test_the_first_deadline_timer_fires_at_the_deadline_though_the_messages_took_seconds(
        dev_env, httpserver, tmp_path, make_start):
    fake = FakeTwilio(httpserver).install()
    fake.delay = SLOW
    settings = Settings(**{**twilio_env(fake, tmp_path, f"lag-{uuid.uuid4().hex[:6]}"),
                           "GROUPDESK_TWILIO_TIMEOUT": "10"})
    async with running_worker(dev_env, settings):
        handle = await start(dev_env, settings, make_start(drill=True, time_scale=60.0))  # 5 min -> 5 s
        events = await history_with_timer(handle)
        st = await state(handle)
    first_task = events[:next(i for i, e in enumerate(events) if e.HasField("timer_started_event_attributes")) + 1]
    task_started: datetime = next(e.event_time.ToDatetime() for e in first_task
                                  if e.HasField("workflow_task_started_event_attributes"))
    timer = first_task[-1]
    started_at = timer.event_time.ToDatetime()
    assert started_at - task_started >= BATCH * 0.9, "the messages held the task open"
    fires_at = started_at + timer.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
    deadline = min(s.deadline_at for s in st.steps.values() if s.deadline_at).replace(tzinfo=None)
    assert abs(fires_at - deadline) <= TOLERANCE, f"fires {(fires_at - deadline).total_seconds():+.2f} s off"
    # the timer armed before the messages landed was replaced in the same task: that cost no event
    kinds = [e.event_type for e in events[:events.index(timer) + 1]]
    assert sum(e.HasField("timer_started_event_attributes") for e in first_task) == 1
    assert not any(e.HasField("timer_canceled_event_attributes") for e in first_task), kinds
    assert patch_ids(events) == ["perf-timers"], "a new incident carries one patch marker"
    assert sorted(p["To"] for p in fake.posts) == sorted({p["To"] for p in fake.posts}), "each message once"
