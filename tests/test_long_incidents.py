"""A long incident continues as new before its history passes the budget, as one incident."""

from __future__ import annotations

from datetime import timedelta

from helpers import decide, outcome, running_worker, settle, skip, start, state, through_talk, timeline


async def test_multi_day_calibration_wait_continues_as_new_with_state_kept(skipping_env, settings, make_start):
    env = skipping_env
    async with running_worker(env, settings):
        request = make_start()
        request.history_budget = 120  # local effects (issue 18) make a day of waiting cost fewer events
        handle = await start(env, settings, request)
        await through_talk(handle)
        await outcome(handle, "talk_with_lead", "not_accepted", "sun.li")
        await decide(handle, "wang.jun")
        await outcome(handle, "metering_explanation", "not_accepted", "feng.tao")
        before = await settle(env, handle)
        deadline = before.steps["metrology_calibration"].deadline_at
        # days of waiting: appointments made and moved, each with its reminders, and notes
        for day in range(1, 7):
            at = before.steps["metrology_calibration"].started_at + timedelta(days=day + 1)
            await outcome(handle, "metrology_calibration", "scheduled", "sun.li", calibration_at=at.isoformat())
            await skip(env, timedelta(days=1), handle)
        await skip(env, deadline - await env.get_current_time() + timedelta(minutes=11), handle)
        st = await state(handle)
        assert st.runs >= 2, f"still one run with {len((await handle.fetch_history()).events)} events"
        assert len((await handle.fetch_history()).events) < request.history_budget
        assert st.steps["metrology_calibration"].deadline_at == deadline
        assert timeline(st, "incident_started") and timeline(st, "warning_tier"), "the early timeline is kept"
        assert timeline(st, "escalation", "metrology_calibration"), "deadlines still fire in later runs"
        ack = await outcome(handle, "metrology_calibration", "meter_accurate", "sun.li")
        assert ack.stage == "follow_up"
        await skip(env, timedelta(days=8), handle)
        final = await handle.result()
    assert final.status == "closed" and final.runs == st.runs
    kinds = [e.kind for e in final.timeline]
    assert kinds[0] == "incident_started" and kinds[-1] == "incident_closed"
    assert kinds.count("continued_as_new") == final.runs - 1
