"""Update validators: a request that is refused never reaches the incident's history."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError

from helpers import WF, decide, outcome, running_worker, settle, start, state, through_talk
from groupdesk.core.models import AddNote, RecordOutcome


from temporalio.api.enums.v1 import EventType

# The time-skipping server keeps the workflow task that ran a rejected validator (the real
# server drops it as speculative); nothing else may be added.
TASK_BOOKKEEPING = {EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
                    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED}


async def history_length(handle) -> int:
    return len((await handle.fetch_history()).events)


ENV = {}


async def refused(handle, call, expected: str) -> None:
    await settle(ENV["env"], handle)  # let in-flight messages finish so only the update could add events
    before = await history_length(handle)
    timeline_before = len((await state(handle)).timeline)
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await call
    assert expected in str(info.value.cause), str(info.value.cause)
    added = {e.event_type for e in (await handle.fetch_history()).events[before:]}
    assert added <= TASK_BOOKKEEPING, f"a refused update reached history: {added}"
    assert len((await state(handle)).timeline) == timeline_before


async def test_refusals(skipping_env, settings, make_start):
    env = ENV["env"] = skipping_env
    async with running_worker(env, settings):
        handle = await start(env, settings, make_start())
        await state(handle)
        # wrong role: the security guard may not say the group is in the VIP room
        await refused(handle, outcome(handle, "move_to_vip_room", "done", "qian.lei"),
                      "'qian.lei' may not record the outcome of move_to_vip_room")
        # staff of another hall
        await refused(handle, outcome(handle, "move_to_vip_room", "done", "zhou.jie"), "needs the role guide")
        # unknown step, and a step that has not started
        await refused(handle, outcome(handle, "step2", "done", "sun.li"), "unknown step 'step2'")
        await refused(handle, outcome(handle, "talk_with_lead", "accepted", "sun.li"),
                      "step 'talk_with_lead' is not under way")
        # wrong outcome
        await refused(handle, outcome(handle, "keep_order", "accepted", "qian.lei"),
                      "has no outcome 'accepted'; its outcomes are done")
        # approval when none is waiting
        await refused(handle, decide(handle, "wang.jun"), "has no approval waiting")
        # over the bounds, sent straight to Temporal rather than through the CLI or the console
        await refused(handle, outcome(handle, "move_to_vip_room", "done", "zhao.min", note="长" * 2001),
                      "note: 2,001 characters is too long; keep it within 2,000")
        await refused(handle, outcome(handle, "move_to_vip_room", "done", "zhao.min",
                                      **{f"k{i}": "v" for i in range(11)}), "data: 11 values is too many")
        await refused(handle, outcome(handle, "move_to_vip_room", "done", "zhao.min", calibration_at="9" * 201),
                      "values 200 characters")
        # the one text rule holds in the workflow's own validators too (groupdesk/core/validation.py)
        await refused(handle, outcome(handle, "move_to_vip_room", "done", "zhao.min", note="已\u202e引导"),
                      "note: contains U+202E RIGHT-TO-LEFT OVERRIDE")
        await refused(handle, outcome(handle, "move_to_vip_room", "done", "zhao.min", room="A\u009b1"),
                      "control character (U+009B)")
        await handle.signal(WF.add_note, AddNote(actor="sun.li", text="长" * 2001))  # a signal cannot be refused:
        assert not [e for e in (await settle(ENV["env"], handle)).timeline if e.kind == "note"]  # it is dropped
        await through_talk(handle)
        await outcome(handle, "talk_with_lead", "not_accepted", "sun.li")
        # approval by someone who is not the centre director
        await refused(handle, decide(handle, "sun.li"), "'sun.li' may not decide director_review")
        # an approval step is decided, not given an outcome
        await refused(handle, handle.execute_update(WF.record_outcome, RecordOutcome(
            step="director_review", outcome="approved", actor="wang.jun")), "is an approval")
        # a rejection without a reason, or with one over the bounds
        await refused(handle, decide(handle, "wang.jun", approve=False, reason="  "), "needs a reason")
        await refused(handle, decide(handle, "wang.jun", approve=False, reason="理" * 2001), "reason: 2,001 characters")
        st = await state(handle)
        assert st.current_steps == ["director_review"] and st.warning_tier == 0
        ack = await decide(handle, "wang.jun")
        assert ack.warning_tier == 3
        await outcome(handle, "metering_explanation", "not_accepted", "feng.tao")
        # appointment needs its time, with an offset
        await refused(handle, outcome(handle, "metrology_calibration", "scheduled", "sun.li"),
                      "needs calibration_at")
        await refused(handle, outcome(handle, "metrology_calibration", "scheduled", "sun.li",
                                      calibration_at="next tuesday"), "is not a date and time")
