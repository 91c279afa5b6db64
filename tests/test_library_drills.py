"""The outage and single-complaint playbooks driven to close from the CLI alone, on the real dev server:
`start` chooses the playbook from the category and headcount, then every step is recorded only from what
`show --json` offers in `actions`, as the first person the directory names for an offered role (a drill
on compressed time: seconds)."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from groupdesk.messaging.outbox import Outbox
from typer.testing import CliRunner

from groupdesk.cli import app
from helpers import patient_follow_ups
from worker import build_worker

pytestmark = pytest.mark.devserver
SCALE = 20_000  # 1 working day (the follow-up) in about 5 s


@pytest.fixture
async def world(dev_env, dev_setup, tmp_path):
    # surveys that wait for the answer: a few CLI steps after it is sent can outlast 13 s on a loaded host
    setup = dev_setup.but(GROUPDESK_PLAYBOOKS_DIR=patient_follow_ups(tmp_path))
    env, settings = setup.env, setup.settings
    async with build_worker(dev_env.client, settings):
        halls = json.loads((await cli(env, "directory", "--json")).stdout)
        yield env, settings, next(h for h in halls if h["id"] == "xicheng")["roles"]


LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[", re.M)


async def cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    """`groupdesk ARGS` in this process (a thread: the command runs its own event loop), with `env` set: a
    second each instead of a subprocess's start-up. The in-process worker's log lines are not the command's."""
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)
    out = "".join(line for line in result.stdout.splitlines(keepends=True) if not LOG_LINE.match(line))
    return subprocess.CompletedProcess(args, result.exit_code, out, result.stderr)


async def ok(env, *args) -> str:
    done = await cli(env, *args)
    assert done.returncode == 0, f"{args}: {done.stderr}"
    return done.stdout


async def start(env, *args) -> dict:
    phone = f"1380013{uuid.uuid4().int % 10000:04d}"
    return json.loads(await ok(env, "start", "--hall", "xicheng", "--lead-name", "张建国", "--lead-phone", phone,
                               "--drill", "--time-scale", str(SCALE), "--json", *args))


async def offered(env, incident: str, step: str, outcome: str) -> dict:
    """The action `show --json` offers for step/outcome, once it does."""
    for _ in range(100):
        shown = json.loads(await ok(env, "show", incident, "--json"))
        found = [a for a in shown["actions"] if (a["step"], a["outcome"]) == (step, outcome)]
        if found:
            return found[0]
        await asyncio.sleep(0.2)
    raise AssertionError(f"{incident}: {step} {outcome} never offered; offered {shown['actions']}")


async def act(env, roles: dict, incident: str, step: str, outcome: str, **data: str) -> str:
    """Record what `actions` offers, as the first person holding one of its roles; returns who."""
    action = await offered(env, incident, step, outcome)
    person = next(people[0]["id"] for role in action["roles"] if (people := roles.get(role)))
    if action["kind"] == "approval":
        extra = ["--reject", "--reason", "现场可控"] if outcome == "rejected" else []
        await ok(env, "approve", incident, "--as", person, *extra)
        return person
    assert set(action["data"]) == set(data), f"{step} {outcome} asks for {action['data']}"
    args = [arg for key, value in data.items() for arg in ("--data", f"{key}={value}")]
    if action["requires_reason"]:
        args += ["--note", "已找到故障电缆,正在更换"]
    await ok(env, "outcome", incident, step, outcome, "--as", person, *args)
    return person


async def shown_when(env, incident: str, predicate) -> dict:
    for _ in range(150):
        shown = json.loads(await ok(env, "show", incident, "--json"))
        if predicate(shown):
            return shown
        await asyncio.sleep(0.2)
    raise AssertionError(f"{incident}: never reached; last seen at stage {shown['stage']}")


async def follow_up(env, incident: str) -> dict:
    """The complainant's answer once the survey has gone out; the incident closes."""
    await shown_when(env, incident, lambda s: (s["follow_up"] or {}).get("sent"))
    await ok(env, "follow-up", incident, "--score", "5", "--as", "sun.li")
    return await shown_when(env, incident, lambda s: s["status"] == "closed")


def at(hours: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(hours=hours)).replace(microsecond=0).isoformat()


async def test_outage_group_complaint_from_the_cli(world):
    env, settings, roles = world
    started = await start(env, "--headcount", "18", "--summary", "小区频繁停电", "--category", "outage")
    incident = started["id"]
    assert started["playbook"] == "outage-group-complaint", "chosen by --category and --headcount"
    who = [await act(env, roles, incident, "move_to_vip_room", "done"),
           await act(env, roles, incident, "keep_order", "done"),
           await act(env, roles, incident, "talk_with_lead", "escalate"),
           await act(env, roles, incident, "director_review", "approved"),
           await act(env, roles, incident, "dispatch_repair_crew", "dispatched_rural")]
    assert who == ["zhao.min", "qian.lei", "sun.li", "wang.jun", "dispatch.duty"]
    shown = json.loads(await ok(env, "show", incident, "--json"))
    crew = shown["steps"]["crew_on_site"]
    limit = datetime.fromisoformat(crew["deadline_at"]) - datetime.fromisoformat(crew["started_at"])
    assert limit == timedelta(minutes=90) / SCALE, "rural: on site within 90 minutes"
    assert shown["warning_tier"] == 3
    assert await act(env, roles, incident, "crew_on_site", "on_site") == "tang.wei"
    first, second = at(3), at(5)
    await act(env, roles, incident, "restore_power", "restore_promised", restore_at=first)
    await act(env, roles, incident, "restore_power", "group_updated")
    await act(env, roles, incident, "restore_power", "restore_promised", restore_at=second)  # re-promised
    await act(env, roles, incident, "restore_power", "restored")
    final = await follow_up(env, incident)
    assert final["follow_up"]["score"] == 5 and final["warning_tier"] == 0

    to_group = [m.body for m in Outbox(settings).list(incident) if m.role == "lead_complainant"]
    promised = [b for b in to_group if "恢复供电" in b and "预计" in b]
    assert len(promised) == 1, to_group  # told of the promise...
    moved = [b for b in to_group if "约定时间由" in b]
    assert len(moved) == 1 and "改为" in moved[0], to_group  # ...and once of the new one, with the old time
    assert any("已找到故障电缆" in b for b in to_group) and any("抢修人员将于" in b for b in to_group)
    assert any("张建国您好:已恢复供电" in b for b in to_group) and any("回复1-5" in b for b in to_group)
    assert not any("事件:" in b or "Incident" in b for b in to_group), "no staff message reaches the group"


async def test_single_complaint_from_the_cli(world):
    env, settings, roles = world
    started = await start(env, "--headcount", "1", "--summary", "营业员态度冷淡,业务未一次办结")
    incident = started["id"]
    assert started["playbook"] == "single-complaint", "one person: the single complaint, 首问负责"
    shown = json.loads(await ok(env, "show", incident, "--json"))
    assert shown["owner"] == "sun.li" and shown["headcount"] == 1
    await act(env, roles, incident, "contact_customer", "contacted")
    await act(env, roles, incident, "handling_opinion", "feedback_agreed", feedback_at=at(24))
    await act(env, roles, incident, "handling_opinion", "opinion_ready")
    await act(env, roles, incident, "reply_customer", "not_accepted")
    assert await act(env, roles, incident, "director_handles", "answered") == "wang.jun"
    final = await follow_up(env, incident)
    assert final["status"] == "closed" and final["follow_up"]["score"] == 5
    recorded = [e["detail"] for e in final["timeline"] if e["kind"] == "recorded"]
    assert len(recorded) == 1 and "feedback_at" in recorded[0]
    to_customer = [m.body for m in Outbox(settings).list(incident) if m.role == "lead_complainant"]
    assert any("约定" in b for b in to_customer) and any("张建国您好:您反映的问题已处理完毕" in b
                                                          for b in to_customer)
    assert not any("事件:" in b for b in to_customer), "no staff message reaches the customer"
