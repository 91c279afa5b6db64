"""The largest inputs the bounds allow run an incident to close, far below Temporal's limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from helpers import WF, answer_follow_up, decide, outcome, running_worker, settle, skip, start, state
from groupdesk.core import validation as v
from groupdesk.core.models import AddNote
from groupdesk.core.workcal import add_working_days

HISTORY_LIMIT = 2 * 1024 * 1024  # Temporal's blob limit; its history limit (50 MB) is far above


def big(char: str, n: int) -> str:
    return char * n


async def test_largest_allowed_inputs_run_to_close_with_a_small_history(skipping_env, settings, make_start):
    env = skipping_env
    note = big("注", v.TEXT_MAX)  # 3 bytes a character in UTF-8: the heaviest text there is
    extra = {f"extra_{i}": big("值", v.DATA_VALUE_MAX) for i in range(v.DATA_KEYS_MAX - 1)}
    async with running_worker(env, settings):
        request = make_start(summary=big("电", v.SUMMARY_MAX), lead_name=big("张", v.NAME_MAX),
                             headcount=v.HEADCOUNT_MAX)
        handle = await start(env, settings, request)

        async def step(name: str, result: str, actor: str, **data: str) -> None:
            await skip(env, timedelta(minutes=50), handle)  # past the deadline: reminders and escalations go out too
            await handle.signal(WF.add_note, AddNote(actor="sun.li", text=note))
            await outcome(handle, name, result, actor, note, **extra, **data)

        await step("move_to_vip_room", "done", "zhao.min")
        await step("keep_order", "done", "qian.lei")
        await step("talk_with_lead", "not_accepted", "sun.li")
        await skip(env, timedelta(minutes=50), handle)
        await decide(handle, "wang.jun", approve=False, reason=note)
        await step("metering_explanation", "not_accepted", "feng.tao")
        st = await settle(env, handle)
        appointment = st.steps["metrology_calibration"].started_at + timedelta(days=2)
        await step("metrology_calibration", "scheduled", "sun.li", calibration_at=appointment.isoformat())
        await skip(env, timedelta(days=1, hours=1), handle)
        await step("metrology_calibration", "meter_accurate", "sun.li")
        closed_at = (await state(handle)).timeline[-1].at
        await skip(env, add_working_days(closed_at, 1) - closed_at + timedelta(minutes=1), handle)  # the follow-up goes out
        assert (await state(handle)).follow_up.sent
        await answer_follow_up(handle, 3, comment=note)
        final = await handle.result()
        events = (await handle.fetch_history()).events
    assert final.status == "closed" and final.summary == request.summary
    notes = [e for e in final.timeline if e.kind == "note"]
    assert len(notes) == 6 and all(e.detail == note for e in notes)
    size = sum(e.ByteSize() for e in events)
    largest = max(e.ByteSize() for e in events)
    print(f"\nlargest-inputs incident: {len(events)} events, history {size / 1024:.0f} KiB, "
          f"largest event {largest / 1024:.0f} KiB")
    assert size < HISTORY_LIMIT, f"history of {size:,} bytes"
    assert largest < 256 * 1024, f"an event of {largest:,} bytes"


async def test_a_full_timeline_refuses_more_text_but_not_the_step(skipping_env, settings, make_start):
    """Notes have no count limit of their own, so the timeline's text is budgeted: it travels whole
    in queries, in the result and across a continue-as-new."""
    env = skipping_env
    note = big("注", v.TEXT_MAX)
    async with running_worker(env, settings):
        handle = await start(env, settings, make_start())
        for _ in range(v.TIMELINE_TEXT_MAX // v.TEXT_MAX + 2):  # two more than fit: those are dropped
            await handle.signal(WF.add_note, AddNote(actor="sun.li", text=note))
        st = await settle(env, handle)
        assert v.timeline_text(st.timeline) <= v.TIMELINE_TEXT_MAX
        with pytest.raises(WorkflowUpdateFailedError) as info:
            await outcome(handle, "move_to_vip_room", "done", "zhao.min", note)
        assert "timeline already holds" in str(info.value.cause) and "without the text" in str(info.value.cause)
        ack = await outcome(handle, "move_to_vip_room", "done", "zhao.min")
        assert ack.current_steps == ["keep_order"]
        size = sum(e.ByteSize() for e in (await handle.fetch_history()).events)
    assert size < HISTORY_LIMIT
