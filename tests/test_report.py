"""`groupdesk report`: every figure checked against incidents this test drove to their end."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import timedelta

from typer.testing import CliRunner

from helpers import answer_follow_up, decide, outcome, running_worker, settle, skip, start, state, through_talk
from groupdesk.cli import app
from groupdesk.core.workcal import LOCAL_TZ, add_working_days

ALL_DATES = ["--from", "2000-01-01", "--to", "2099-12-31"]


async def _follow_up(env, handle, score, actor="sun.li"):
    closed = (await state(handle)).timeline[-1].at
    await skip(env, add_working_days(closed, 1) - closed + timedelta(minutes=1), handle)
    await answer_follow_up(handle, score, actor)
    return await handle.result()


async def test_the_report_counts_what_the_incidents_did(skipping_env, settings, make_start):
    env = skipping_env
    finals = []
    async with running_worker(env, settings):
        # A: the first steps 16 minutes late (2 deadlines missed, 2 escalations), accepted, satisfied (5)
        a = await start(env, settings, make_start(lead_phone="13800138000"))
        await skip(env, timedelta(minutes=16), a)
        await through_talk(a)
        await outcome(a, "talk_with_lead", "accepted", "sun.li")
        finals.append(await _follow_up(env, a, 5))
        # B: tier-3 plan approved, explained, nobody answers the follow-up
        b = await start(env, settings, make_start(lead_phone="13900139000"))
        await through_talk(b)
        await outcome(b, "talk_with_lead", "not_accepted", "sun.li")
        await settle(env, b)
        await decide(b, "wang.jun")
        await outcome(b, "metering_explanation", "accepted", "feng.tao")
        finals.append(await b.result())
        # C: A's complainant again, at the other hall: a repeat complaint, dissatisfied (2) twice: handled again
        # after the first (seed 004), handed to the dispute ladder after the second (that child is still open)
        c = await start(env, settings, make_start(lead_phone="13800138000", hall_id="dongcheng",
                                                  started_by="wu.fang"))
        await outcome(c, "move_to_vip_room", "done", "wu.fang")
        await outcome(c, "keep_order", "done", "wu.fang")
        await outcome(c, "talk_with_lead", "accepted", "wu.fang")
        closed = (await state(c)).timeline[-1].at
        await skip(env, add_working_days(closed, 1) - closed + timedelta(minutes=1), c)
        await answer_follow_up(c, 2, "wu.fang")
        await outcome(c, "talk_with_lead", "accepted", "wu.fang")
        finals.append(await _follow_up(env, c, 2, "wu.fang"))
        # D: a drill: left out unless asked for
        d = await start(env, settings, make_start(lead_phone="13700137000", drill=True))
        await through_talk(d)
        await outcome(d, "talk_with_lead", "accepted", "sun.li")
        drill = await d.result()
    assert finals[2].repeat_of == finals[0].id

    env_vars = {"GROUPDESK_DATA_DIR": str(settings.data_dir), "GROUPDESK_DIRECTORY": str(settings.directory)}

    def report(*args):
        done = CliRunner().invoke(app, ["report", *ALL_DATES, *args], env=env_vars)
        assert done.exit_code == 0, done.output
        return done.output

    got = json.loads(report("--json"))
    assert got["totals"] == {"incidents": 3, "sla_breached": 1, "sla_breach_rate": round(1 / 3, 4),
                             "deadlines_missed": 2, "escalations": 2, "escalated_incidents": 1,
                             "repeat_complaints": 1, "warning_tier_3": 1}
    assert got["by_playbook"] == [{"playbook": "smart-meter-group-complaint", "playbook_version": 2, "incidents": 3}]
    assert got["by_hall"] == [{"hall_id": "dongcheng", "incidents": 1}, {"hall_id": "xicheng", "incidents": 2}]
    weeks = Counter("{}-W{:02d}".format(*f.started_at.astimezone(LOCAL_TZ).isocalendar()[:2]) for f in finals)
    assert got["by_week"] == [{"week": w, "incidents": n} for w, n in sorted(weeks.items())]
    assert got["satisfaction"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1, "expired": 1, "none": 0}
    assert got["steps"] == expected_steps(finals)
    assert got["dissatisfied"] == {"answers": 2, "incidents": 1}  # C's answer that reopened it counts too

    with_drills = json.loads(report("--json", "--with-drills"))
    assert with_drills["totals"]["incidents"] == 4 and drill.drill
    assert json.loads(report("--json", "--hall", "xicheng"))["totals"]["incidents"] == 2

    rows = list(csv.DictReader(io.StringIO(report("--csv"))))
    assert {"section": "totals", "key": "", "metric": "repeat_complaints", "value": "1"} in rows
    assert {"section": "satisfaction", "key": "expired", "metric": "incidents", "value": "1"} in rows
    text = report()
    assert "incidents 3" in text and "SLA breached 1 (33%)" in text and "repeat complaints 1" in text
    print("\n" + text)

    ledger = CliRunner().invoke(app, ["accountability", *ALL_DATES, "--json"], env=env_vars)
    assert ledger.exit_code == 0, ledger.output
    a_id, _, c_id = (f.id for f in finals)
    assert [(r["hall"], r["role"], r["overdue_steps"], r["escalations_caused"], r["repeat_complaints"],
             r["dissatisfied_follow_ups"]) for r in json.loads(ledger.output)["ledger"]] == [
        ("dongcheng", "hall", 0, 0, 1, 1), ("xicheng", "guide", 1, 1, 0, 0), ("xicheng", "security_guard", 1, 1, 0, 0)]
    by_role = {(r["hall"], r["role"]): r["incidents"] for r in json.loads(ledger.output)["ledger"]}
    assert by_role[("xicheng", "guide")]["overdue_steps"] == [f"{a_id}:move_to_vip_room"]
    assert by_role[("dongcheng", "hall")]["repeat_complaints"] == [f"{c_id} (repeat of {a_id})"]
    assert by_role[("dongcheng", "hall")]["dissatisfied_follow_ups"] == [f"{c_id} (2/5, then 2/5)"]
    table = CliRunner().invoke(app, ["accountability", *ALL_DATES, "--hall", "xicheng"], env=env_vars)
    assert table.exit_code == 0 and "xicheng" in table.output and "dongcheng" not in table.output
    print(table.output)

    bad = CliRunner().invoke(app, ["report", "--from", "2026-11-30", "--to", "2026-11-01"], env=env_vars)
    assert bad.exit_code == 2 and "--to: 2026-11-01 is before --from 2026-11-30" in bad.output


def expected_steps(finals):
    """Per step, from each incident's final step states (not the archive the report reads); a step visited again
    (C's reopened talk and close) takes its earlier visits from the timeline: each start to its outcome, with the
    reminders and escalations between. Wall time runs on between two calls, so no visit is assumed to take none."""
    seen: dict[tuple[str, str], list] = {}
    for final in finals:
        for step_id, st in final.steps.items():
            seconds = round(((st.finished_at or st.started_at) - st.started_at).total_seconds() * final.time_scale)
            visits = _earlier_visits(final, step_id)[:st.visit - 1] + [(seconds, int(st.reminded), st.escalation_level)]
            seen.setdefault((final.playbook, step_id), []).extend(visits)
    return [{"playbook": playbook, "step": step, "visits": len(v), "avg_seconds": round(sum(x[0] for x in v) / len(v), 1),
             "max_seconds": max(x[0] for x in v), "deadline_missed": sum(x[1] for x in v),
             "breach_rate": round(sum(x[1] for x in v) / len(v), 4), "escalations": sum(x[2] for x in v)}
            for (playbook, step), v in sorted(seen.items())]


def _earlier_visits(final, step_id):
    """(seconds, reminded, escalations) of each visit of a step that ended with an outcome, in order."""
    visits, began = [], None
    for entry in (e for e in final.timeline if e.step == step_id):
        if entry.kind == "step_started":
            began, reminded, escalations = entry.at, 0, 0
        elif began is not None and entry.kind == "reminder":
            reminded = 1
        elif began is not None and entry.kind == "escalation":
            escalations += 1
        elif began is not None and entry.kind in ("outcome", "resolved"):
            visits.append((round((entry.at - began).total_seconds() * final.time_scale), reminded, escalations))
            began = None
    return visits
