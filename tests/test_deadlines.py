"""Every step's deadline: its owner is reminded at the deadline, the next role up after the grace period."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpers import (
    WAKE_GUARD, WF, decide, messages, outcome, running_worker, settle, skip, start, state, through_talk, timeline,
)

CHAIN = {"guide": "hall_lead", "security_guard": "hall_lead", "hall_lead": "centre_director",
         "centre_director": "city_emergency_office", "metering_technician": "centre_director",
         "metrology_bureau": "centre_director"}


async def reach(handle, step: str) -> None:
    order = ["talk_with_lead", "director_review", "metering_explanation", "metrology_calibration"]
    if step in ("move_to_vip_room", "keep_order"):
        return
    await through_talk(handle)
    if order.index(step) >= 1:
        await outcome(handle, "talk_with_lead", "not_accepted", "sun.li")
    if order.index(step) >= 2:
        await decide(handle, "wang.jun")
    if order.index(step) >= 3:
        await outcome(handle, "metering_explanation", "not_accepted", "chen.yu")


@pytest.mark.parametrize("step", ["move_to_vip_room", "keep_order", "talk_with_lead", "director_review",
                                  "metering_explanation", "metrology_calibration"])
async def test_deadline_reminds_owner_then_escalates(skipping_env, settings, make_start, playbook, step):
    env = skipping_env
    owner = playbook.steps[step].owner
    grace = timedelta(seconds=playbook.escalation.grace.seconds)
    async with running_worker(env, settings):
        handle = await start(env, settings, make_start())
        await reach(handle, step)
        st = await settle(env, handle)
        deadline = st.steps[step].deadline_at
        assert deadline is not None and st.steps[step].status == "active"
        assert [d for d in st.deadlines if d.kind == "step" and d.step == step][0].due_at == deadline
        now = await env.get_current_time()
        await env.sleep(deadline - now + timedelta(seconds=30))
        mid = await state(handle)
        assert len(timeline(mid, "reminder", step)) == 1 and not timeline(mid, "escalation", step)
        await env.sleep(grace)
        st = await state(handle)
    reminder = timeline(st, "reminder", step)[0]
    escalation = timeline(st, "escalation", step)[0]
    assert abs(reminder.at - deadline) < timedelta(seconds=1)
    assert abs(escalation.at - (deadline + grace)) < timedelta(seconds=1)
    assert CHAIN[owner] in escalation.detail
    sent = [(m.purpose, m.role) for m in messages(settings, st.id) if m.step == step]
    assert ("reminder", owner) in sent
    assert sent.count(("escalation", CHAIN[owner])) == 1
    assert st.status == "open" and step in st.current_steps, "missing a deadline never ends a step"


async def test_escalation_climbs_the_whole_ladder_once(skipping_env, settings, make_start):
    env = skipping_env
    async with running_worker(env, settings):
        handle = await start(env, settings, make_start())
        await env.sleep(timedelta(hours=2))
        st = await state(handle)
    levels = [e.detail for e in timeline(st, "escalation", "move_to_vip_room")]
    assert levels == ["level 1: escalated to hall_lead", "level 2: escalated to centre_director",
                      "level 3: escalated to city_emergency_office"]
    escalations = [m for m in messages(settings, st.id) if m.purpose == "escalation" and m.step == "move_to_vip_room"]
    assert [m.role for m in escalations] == ["hall_lead", "centre_director", "city_emergency_office"]
    assert "已超时" in escalations[0].body and "引导员" in escalations[0].body


async def test_the_incident_says_when_its_timer_wakes_it_and_a_skip_keeps_clear_of_it(skipping_env, settings,
                                                                                      make_start):
    """`wakes_at` names the one timer's due moment (the first deadline); a test's skip that would land just
    before it goes on past it, so the test's next update cannot race it (temporalio/sdk-java#3088)."""
    env = skipping_env
    async with running_worker(env, settings):
        handle = await start(env, settings, make_start())
        st = await settle(env, handle)
        first = st.deadlines[0].due_at
        assert await handle.query(WF.wakes_at) == first
        await skip(env, first - await env.get_current_time() - WAKE_GUARD / 2, handle)
        assert await env.get_current_time() > first
        st = await state(handle)
        assert timeline(st, "reminder"), "the deadline it skipped past has fired"
        assert await handle.query(WF.wakes_at) == st.deadlines[0].due_at > first


async def test_the_first_deadlines_count_from_registration_not_from_the_first_task(skipping_env, settings,
                                                                                   make_start, playbook):
    """A complaint is due on the clock it was registered on: its first steps' deadlines count from its start, not
    from when a worker first took it up (later after a restart or an outage). Replay counts the same: core can run
    an incident's first task as two tasks live and as one on replay (README, "Replay hazards")."""
    from temporalio.api.enums.v1 import EventType

    env = skipping_env
    handle = await start(env, settings, make_start())  # no worker on the queue yet
    registered = (await handle.describe()).start_time
    async with running_worker(env, settings):
        st = await settle(env, handle)
    taken_up = next(e.event_time.ToDatetime() for e in (await handle.fetch_history()).events
                    if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED)
    assert taken_up.replace(tzinfo=registered.tzinfo) > registered, "the first task began as it was registered"
    for step in ("move_to_vip_room", "keep_order"):
        assert st.steps[step].status == "active"
        assert st.steps[step].deadline_at == registered + timedelta(seconds=playbook.steps[step].deadline.seconds)
