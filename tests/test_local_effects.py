"""Issue 18: a transition's messages go out in one local activity; only what failed is tried again; a start from
a process that runs a worker on the queue is eager; a slow gateway does not make the deadline timer late."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.service import RPCError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from fake_twilio import FakeTwilio
from groupdesk.drills.smart_meter import wait_for
from groupdesk.messaging.outbox import Outbox
from groupdesk.incidents.gateway import execute_update, not_ready
from fake_twilio import twilio_env
from helpers import running_worker, setup_for, start, state
from groupdesk.core.models import IncidentState
from worker import build_worker

pytestmark = pytest.mark.devserver


def all_landed(s: IncidentState) -> bool:
    """The first steps' reminders and escalations have all fired (no step deadline is ahead), and every
    message the incident decided has landed in its state: nothing is in flight, so the outbox is final."""
    if any(d.kind in ("step", "escalation") for d in s.deadlines):
        return False
    landed = {d.key.rsplit("/", 1)[0] for d in s.deliveries}  # a delivery's key: the request's, then whom
    wanted = {f"{s.id}/{e.step}#1/step_started/start" for e in s.timeline if e.kind == "step_started"}
    wanted |= {f"{s.id}/{e.step}#1/reminder/deadline" for e in s.timeline if e.kind == "reminder"}
    wanted |= {f"{s.id}/{e.step}#1/escalation/{e.detail.split(':')[0].replace(' ', '')}"  # "level 2: .." -> level2
               for e in s.timeline if e.kind == "escalation"}
    return wanted <= landed


async def test_rate_limited_messages_are_retried_alone_and_sent_once(dev_env, tmp_path, httpserver, monkeypatch,
                                                                      make_start):
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    fake = FakeTwilio(httpserver).install()
    settings = setup_for(tmp_path, queue="local", **twilio_env(fake)).settings
    fake.script = [429, 429]  # the first two messages of the first transition are rate limited
    async with build_worker(dev_env.client, settings):
        handle = await start(dev_env, settings, make_start(drill=True, time_scale=3000.0))
        first = await wait_for(handle, all_landed)
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
    settings = setup_for(tmp_path, queue="eager").settings
    async with build_worker(dev_env.client, settings):
        handle = await start(dev_env, settings, make_start(drill=True))
        assert getattr(handle, "__temporal_eagerly_started") is True, "its first workflow task came with the start"
        await wait_for(handle, lambda s: len(s.deliveries) >= 1)
    elsewhere = setup_for(tmp_path, queue="nobody").settings
    handle = await start(dev_env, elsewhere, make_start(drill=True))  # no worker here: a normal start
    assert getattr(handle, "__temporal_eagerly_started") is False
    assert (await handle.describe()).status.name == "RUNNING"


# A slow SMS gateway does not make deadlines late: the deadline timer counts from when the transition's messages
# went out, not from the start of the workflow task that sent them (workflows/effects.py: the clock).
SLOW = 0.5  # seconds the fake gateway takes to answer each message (one at a time: 4 messages, 2 s)
BATCH = timedelta(seconds=4 * SLOW)
CLOCKS = timedelta(milliseconds=50)  # the worker's and the server's timestamps, read on one host


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
        dev_env, httpserver, tmp_path, make_start, monkeypatch):
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    fake = FakeTwilio(httpserver).install()
    fake.delay = SLOW
    settings = setup_for(tmp_path, queue="lag", **{**twilio_env(fake), "GROUPDESK_TWILIO_TIMEOUT": "10"}).settings
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
    # the workflow armed it at some moment between the batch landing (the worker's clock) and the server recording
    # it (a loaded host can put a second between the two), for the time left until the deadline, not for 5 s
    length = timer.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
    landed = local_activity_spans(first_task)[-1][2]
    deadline = min(s.deadline_at for s in st.steps.values() if s.deadline_at).replace(tzinfo=None)
    late, early = landed + length - deadline, deadline - (started_at + length)
    assert late <= CLOCKS, f"fires {late.total_seconds():.2f} s after the deadline"
    assert early <= CLOCKS, f"fires {early.total_seconds():.2f} s before the deadline"
    # the timer armed before the messages landed was replaced in the same task: that cost no event
    assert not any(e.HasField("timer_canceled_event_attributes") for e in first_task)
    assert patch_ids(events) == [], "a new incident records no patch marker"


@workflow.defn(name="BusyWhenClosed")
class BusyWhenClosed:
    """A stand-in for an incident whose closing task is still running when its deadline timer fires."""

    def __init__(self) -> None:
        self.closed = False

    @workflow.run
    async def run(self) -> str:
        asyncio.ensure_future(workflow.sleep(0.5))  # the deadline, due while the closing task is busy
        await workflow.wait_condition(lambda: self.closed)
        return "closed"

    @workflow.update
    async def close(self, note: str) -> str:
        if not workflow.unsafe.is_replaying() and workflow.info().get_current_history_length() < 10:
            time.sleep(1.5)  # the first time only: the timer fires on the server meanwhile
        self.closed = True
        return note


async def test_an_action_that_meets_a_firing_timer_is_sent_again_not_refused(dev_env):
    """The server aborts an Update whose workflow task failed because a timer fired under a closing task
    (WorkflowNotReady); the gateway sends it again, so the hall lead's close is recorded, not refused."""
    queue = f"busy-{uuid.uuid4().hex[:6]}"
    async with Worker(dev_env.client, task_queue=queue, workflows=[BusyWhenClosed], debug_mode=True,
                      workflow_runner=UnsandboxedWorkflowRunner()):
        raw = await dev_env.client.start_workflow(BusyWhenClosed.run, id=f"{queue}-raw", task_queue=queue)
        await asyncio.sleep(0.2)
        with pytest.raises(RPCError) as refused:
            await raw.execute_update(BusyWhenClosed.close, "结案")
        assert not_ready(refused.value), refused.value
        await raw.terminate()

        handle = await dev_env.client.start_workflow(BusyWhenClosed.run, id=f"{queue}-kind", task_queue=queue)
        await asyncio.sleep(0.2)
        assert await execute_update(handle, BusyWhenClosed.close, "结案") == "结案"
        assert await handle.result() == "closed"


def local_activity_spans(events) -> list[tuple[str, datetime, datetime]]:
    """Each local activity's (type, when the worker scheduled it, when it finished), from its marker.

    The marker's own complete_time is the workflow's clock when the task began plus the run time, which falls
    short of the moment by however late the activity started (it can read earlier than the schedule time), so a
    batch's end is its result's finished_at: the worker's clock, which the workflow counts its timers from."""
    def at(t: dict) -> datetime:  # as the events' times: naive UTC
        return datetime.fromtimestamp(t["seconds"] + t.get("nanos", 0) / 1e9, timezone.utc).replace(tzinfo=None)

    spans = []
    for e in events:
        details = e.marker_recorded_event_attributes.details if e.HasField("marker_recorded_event_attributes") else {}
        if "data" in details:
            data = json.loads(details["data"].payloads[0].data)
            result = json.loads(details["result"].payloads[0].data) if "result" in details else None
            finished = datetime.fromisoformat(result["finished_at"]).replace(tzinfo=None) \
                if isinstance(result, dict) and result.get("finished_at") else at(data["complete_time"])
            spans.append((data["activity_type"], at(data["original_schedule_time"]), finished))
    return spans


def held_at_provider(httpserver, tmp_path, monkeypatch, queue: str):
    """A fake Twilio that holds the first message it is sent (the start's batch) until `release` is set, and
    settings on `queue` that send through it."""
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    fake = FakeTwilio(httpserver).install()
    release = threading.Event()
    fake.script = [("hold", release)]
    settings = setup_for(tmp_path, queue=queue, **{**twilio_env(fake), "GROUPDESK_TWILIO_TIMEOUT": "60"}).settings
    return fake, release, settings


async def test_a_batch_decided_while_another_is_at_the_provider_waits_for_it_and_the_history_replays(
        dev_env, httpserver, tmp_path, make_start, monkeypatch):
    """Local activities that run together resolve in the order they finish, and on replay in the order they were
    scheduled (temporalio/sdk-python#1578): an incident whose later batch finished first could go another way on
    replay. The start's batch is held at the provider past the workflow task's heartbeat, so the task completes
    and the next one takes the answers: the second answer's batch (the talk with the lead) starts only once the
    first has landed, and the history replays."""
    from groupdesk.engine.replay import replay
    from groupdesk.incidents.start_attributes import start_attributes
    from helpers import outcome, until
    from temporalio.client import WorkflowHistory
    from workflows.group_incident import GroupIncidentWorkflow

    fake, release, settings = held_at_provider(httpserver, tmp_path, monkeypatch, "serial")
    request = make_start(drill=True)

    async with running_worker(dev_env, settings):
        # a 2 s task: the worker completes it while the batch runs (its heartbeat) and the answers come in a new one
        handle = await dev_env.client.start_workflow(
            GroupIncidentWorkflow.run, request, id=request.incident_id, task_queue=settings.task_queue,
            task_timeout=timedelta(seconds=2), search_attributes=start_attributes(settings, request))
        await until(lambda: fake.hanging, "the start's batch did not reach the provider", 20)

        async def answer():
            await outcome(handle, "move_to_vip_room", "done", "zhao.min")
            await outcome(handle, "keep_order", "done", "qian.lei")

        async def both_accepted() -> bool:
            return sum(1 for e in (await handle.fetch_history()).events
                       if e.HasField("workflow_execution_update_accepted_event_attributes")) >= 2

        answering = asyncio.create_task(answer())
        try:  # the provider answers once both answers are in the history, however long the host took
            await until(both_accepted, "the two answers were not accepted", 60)
        finally:
            release.set()
        await answering

        async def second_batch_landed():  # read from the history, not by a query (README, "Replay hazards")
            history = await handle.fetch_history()
            return history if len([s for s in local_activity_spans(history.events) if s[0] == "send_batch"]) >= 2 \
                else None

        history = await until(second_batch_landed, "the talk with the lead's batch never landed", 60)
    spans = [span for span in local_activity_spans(history.events) if span[0] == "send_batch"]
    answered = [e.event_time.ToDatetime() for e in history.events
                if e.HasField("workflow_execution_update_accepted_event_attributes")]
    assert len(spans) >= 2 and len(answered) == 2
    assert answered[1] < spans[0][2], "the second answer came after the start's batch had landed: nothing to wait for"
    for (_, _, finished), (_, scheduled, _) in zip(spans, spans[1:]):
        assert scheduled >= finished, f"a batch started {(finished - scheduled).total_seconds():.2f} s before " \
                                      "the one in flight had landed"
    replayed = await replay(WorkflowHistory(history.workflow_id, history.events), "serial batches")
    assert replayed.error is None, replayed.error


async def test_a_query_that_came_with_the_first_task_while_its_batch_ran_leaves_a_history_that_replays(
        dev_env, httpserver, tmp_path, make_start, monkeypatch):
    """A query sent while no worker runs comes with the incident's first task. Core answers it while the start's
    batch is at the provider by completing that task early, and the batch lands in the next task, where at 20,000x
    the reminders and escalations that fell due meanwhile go out. Replay runs the two tasks as one, on the second
    one's clock: the first turn counts from the incident's start, so replay decides the same batches and the
    history replays (README, "Replay hazards")."""
    from groupdesk.engine.replay import replay
    from groupdesk.incidents.start_attributes import start_attributes
    from helpers import until
    from temporalio.client import WorkflowHistory
    from workflows.group_incident import GroupIncidentWorkflow

    fake, release, settings = held_at_provider(httpserver, tmp_path, monkeypatch, "asked-first")
    request = make_start(drill=True, time_scale=20000.0)
    handle = await dev_env.client.start_workflow(  # no worker runs: the first task waits on the queue
        GroupIncidentWorkflow.run, request, id=request.incident_id, task_queue=settings.task_queue,
        search_attributes=start_attributes(settings, request))
    asking = asyncio.create_task(handle.query(GroupIncidentWorkflow.state))
    try:
        async with running_worker(dev_env, settings):
            await until(lambda: fake.hanging, "the start's batch did not reach the provider", 20)
            await until(asking.done, "the query was not answered while the start's batch was held", 20)
            release.set()

            async def landed():  # a marker is written with the task that holds it: that task is complete
                history = await handle.fetch_history()
                return history if any(e.HasField("marker_recorded_event_attributes") for e in history.events) else None

            history = await until(landed, "the start's batch never landed", 60)
    finally:
        release.set()
    assert (await asking).id == request.incident_id
    kinds = [e.event_type for e in history.events]
    first_done = kinds.index(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    assert kinds[first_done + 1] == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, \
        "the first task was not completed early: its batch's marker came in it"
    batches = [span for span in local_activity_spans(history.events) if span[0] == "send_batch"]
    assert len(batches) >= 2, "no reminder or escalation fell due by the start's landing"
    replayed = await replay(WorkflowHistory(history.workflow_id, history.events), "asked with the first task")
    assert replayed.error is None, replayed.error
