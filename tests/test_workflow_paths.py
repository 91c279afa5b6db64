"""Every path of the smart-meter playbook, on the time-skipping test server."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from helpers import (
    skip, answer_follow_up, decide, local, messages, outcome, running_worker, settle, start, state, through_talk,
    timeline,
)
from groupdesk.core.workcal import add_working_days, is_working_day


async def test_accepted_at_the_talk_closes_and_follows_up_after_one_working_day(skipping_env, settings, make_start):
    env = skipping_env
    async with running_worker(env, settings):
        handle = await start(env, settings, make_start())
        first = await state(handle)
        assert first.current_steps == ["move_to_vip_room", "keep_order"]
        await through_talk(handle)
        ack = await outcome(handle, "talk_with_lead", "accepted", "sun.li", note="同意等待抄表核对")
        assert ack.stage == "follow_up"
        closed_at = (await state(handle)).timeline[-1].at
        due = add_working_days(closed_at, 1)
        await skip(env, due - closed_at + timedelta(minutes=1), handle)
        mid = await state(handle)
        assert timeline(mid, "follow_up_sent"), "follow-up SMS not sent"
        sent_at = timeline(mid, "follow_up_sent")[0].at
        assert local(sent_at).date() == local(add_working_days(closed_at, 1)).date()
        await answer_follow_up(handle, 5, comment="满意")
        final = await handle.result()
    assert final.status == "closed" and final.follow_up.score == 5 and final.warning_tier == 0
    assert final.resolution.startswith("客户认可解释")
    sent = Counter((m.purpose, m.step, m.role) for m in messages(settings, final.id))
    assert sent[("step_started", "move_to_vip_room", "guide")] == 1
    assert sent[("step_started", "move_to_vip_room", "hall_lead")] == 1
    assert sent[("step_started", "keep_order", "security_guard")] == 1
    assert sent[("step_started", "keep_order", "security_department")] == 1
    assert sent[("step_started", "talk_with_lead", "hall_lead")] == 1
    assert sent[("follow_up", "close", "lead_complainant")] == 1
    assert not any(p == "approval_request" for p, _, _ in sent), "no approval on this path"
    assert all(m.status == "sent" for m in messages(settings, final.id))


async def test_talk_waits_for_both_first_steps(skipping_env, settings, make_start):
    env = skipping_env
    async with running_worker(env, settings):
        handle = await start(env, settings, make_start())
        ack = await outcome(handle, "move_to_vip_room", "done", "zhao.min")
        assert ack.current_steps == ["keep_order"]
        assert (await state(handle)).steps["talk_with_lead"].status == "waiting"
        ack = await outcome(handle, "keep_order", "done", "sun.li")  # the hall lead may record it too
        assert ack.current_steps == ["talk_with_lead"]


async def test_approved_then_technicians_then_metrology_then_close(skipping_env, settings, make_start):
    env = skipping_env
    async with running_worker(env, settings):
        handle = await start(env, settings, make_start())
        await through_talk(handle)
        await outcome(handle, "talk_with_lead", "not_accepted", "sun.li", note="要求换回机械表")
        st = await settle(env, handle)
        assert st.current_steps == ["director_review"]
        ack = await decide(handle, "wang.jun")
        assert ack.warning_tier == 3 and ack.current_steps == ["metering_explanation"]
        await outcome(handle, "metering_explanation", "not_accepted", "feng.tao")
        st = await settle(env, handle)
        calib = st.steps["metrology_calibration"]
        assert calib.deadline_at == add_working_days(calib.started_at, 5)
        appointment = calib.started_at + timedelta(days=2)
        await outcome(handle, "metrology_calibration", "scheduled", "sun.li", calibration_at=appointment.isoformat())
        await skip(env, timedelta(days=1, hours=1), handle)  # the reminder is due one day before
        st = await state(handle)
        reminders = timeline(st, "appointment_reminder")
        assert len(reminders) == 1
        assert abs(reminders[0].at - (appointment - timedelta(days=1))) < timedelta(seconds=1)
        await outcome(handle, "metrology_calibration", "meter_accurate", "sun.li", note="误差合格")
        st = await settle(env, handle)
        assert st.warning_tier == 0 and st.stage == "follow_up"
        assert timeline(st, "warning_plan_ended")
        await answer_follow_up(handle, 3)
        final = await handle.result()
    msgs = messages(settings, final.id)
    by = Counter((m.purpose, m.role) for m in msgs)
    assert by[("approval_request", "centre_director")] == 1
    # approval: the city emergency office is told the plan started and the hall lead hears the decision;
    # the leadership office by the report alone
    started_plan = [m for m in msgs if "/outcome-approved/" in m.key]
    assert {m.role for m in started_plan} == {"city_emergency_office", "hall_lead"}
    # while tier 3: every change of step reported to the leadership office
    reports = [m for m in msgs if m.purpose == "progress_report" and m.step is None and "/report" in m.key]
    assert len(reports) == 3 and {m.role for m in reports} == {"emergency_leadership_office"}
    # the plan ended automatically at close: the city emergency office is told, once
    ended = [m for m in msgs if "/plan-ended" in m.key]
    assert [m.role for m in ended] == ["city_emergency_office"]
    calibration_reminders = {m.role for m in msgs if "appointment" in m.key}
    assert calibration_reminders == {"metrology_bureau", "metering_technician", "hall_lead", "lead_complainant"}
    assert final.status == "closed" and final.resolution.startswith("表计准确")


async def test_rejected_approval_records_reason_and_keeps_the_tier(skipping_env, settings, make_start):
    env = skipping_env
    async with running_worker(env, settings):
        handle = await start(env, settings, make_start())
        await through_talk(handle)
        await outcome(handle, "talk_with_lead", "not_accepted", "sun.li")
        ack = await decide(handle, "wang.jun", approve=False, reason="现场可控,暂不启动预警")
        assert ack.warning_tier == 0 and ack.current_steps == ["metering_explanation"]
        st = await settle(env, handle)
        await outcome(handle, "metering_explanation", "accepted", "chen.yu")
        st = await settle(env, handle)
    assert st.rejection_reason == "现场可控,暂不启动预警"
    assert any("现场可控" in e.detail for e in timeline(st, "outcome", "director_review"))
    msgs = messages(settings, st.id)
    assert not [m for m in msgs if m.purpose == "progress_report" and "/report" in m.key], "no warning plan, no reports"
    # the hall lead hears the refusal and its reason at once, by the outcome's own notice
    refused = [m for m in msgs if "/outcome-rejected/" in m.key]
    assert [m.role for m in refused] == ["hall_lead"] and "现场可控" in refused[0].body
    assert not timeline(st, "warning_plan_ended")


async def test_follow_up_waits_for_the_working_day_after_a_public_holiday(skipping_env, settings, make_start):
    env = skipping_env
    now = await env.get_current_time()
    # The next working day that is followed by a public holiday (not a weekend)...
    day = local(now).date() + timedelta(days=1)
    while not (is_working_day(day) and not is_working_day(day + timedelta(days=1))
               and (day + timedelta(days=1)).weekday() < 5):
        day += timedelta(days=1)
    target = local(now).replace(year=day.year, month=day.month, day=day.day, hour=15, minute=0)
    await env.sleep(target - now)  # ...at 15:00 local time
    async with running_worker(env, settings):
        handle = await start(env, settings, make_start())
        await through_talk(handle)
        await outcome(handle, "talk_with_lead", "accepted", "sun.li")
        await skip(env, timedelta(days=12), handle)
        st = await state(handle)
    sent = local(timeline(st, "follow_up_sent")[0].at)
    holiday = day + timedelta(days=1)
    assert sent.date() > holiday, "the follow-up must not go out on the holiday"
    skipped = [day + timedelta(days=i) for i in range(1, (sent.date() - day).days)]
    assert skipped and not any(is_working_day(d) for d in skipped), "sent on the first working day after"
    # at the time of day it was resolved: 15:00, or a moment later if the test server's clock ran on meanwhile
    resolved = local(timeline(st, "outcome", "talk_with_lead")[-1].at)
    assert resolved.date() == day and resolved.hour == 15
    same_time = resolved + timedelta(days=(sent.date() - resolved.date()).days)
    assert is_working_day(sent.date()) and abs(sent - same_time) < timedelta(minutes=1), (resolved, sent)
    assert st.status == "closed" and st.follow_up.outcome == "expired", "3 days without an answer expire it"
