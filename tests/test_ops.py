"""Ops on live incidents: find parked failures, fix the directory, retry or skip; bulk retry after an outage."""

from __future__ import annotations

import json
import uuid
from collections import Counter

import pytest
import yaml

from fake_twilio import FakeTwilio, twilio_env
from groupdesk.runtime.config import EXAMPLE_DIRECTORY, REPO_ROOT
from groupdesk.people.directory import load_directory
from groupdesk.drills.smart_meter import wait_for
from groupdesk.incidents.registration import prepare_start
from groupdesk.messaging.outbox import Outbox
from groupdesk.playbooks.loader import load_playbook
from helpers import setup_for, start, state, until, visible, run_cli as cli
from worker import build_worker
from groupdesk.core import search_attributes as sa

pytestmark = pytest.mark.devserver
BROKEN, FIXED = "+8613900000999", "+8613900000777"


@pytest.fixture
def world(dev_env, tmp_path, httpserver, monkeypatch):
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    fake = FakeTwilio(httpserver).install()
    staff = yaml.safe_load(EXAMPLE_DIRECTORY.read_text(encoding="utf-8"))
    for person in staff["people"]:
        if person["id"] == "zhao.min":
            person["mobile"] = BROKEN  # mistyped: Twilio refuses it
    directory_file = tmp_path / "directory.yaml"
    directory_file.write_text(yaml.safe_dump(staff, allow_unicode=True), encoding="utf-8")
    setup = setup_for(tmp_path, dev_env, queue="ops", GROUPDESK_DIRECTORY=directory_file, **twilio_env(fake))
    fake.refuse[BROKEN] = (400, 21211, "The 'To' number is not a valid phone number.")
    return dev_env, setup.settings, setup.env, fake, directory_file



def new_incident(settings, **extra):
    return prepare_start(directory=load_directory(settings.directory),
                         playbook=load_playbook(REPO_ROOT / "playbooks" / "smart-meter-group-complaint.yaml"),
                         hall_id="xicheng", headcount=9, lead_name="张建国", lead_phone="13800138000",
                         summary="电量异常", started_by="sun.li", incident_id=f"ops-{uuid.uuid4().hex[:8]}", **extra)


async def settled(settings, handle) -> bool:
    """Every message of the incident is sent, or failed with its batch parked for ops."""
    parked = {f.request.get("key") for f in (await state(handle)).failed_actions if f.status == "parked"}
    rows = Outbox(settings).list(handle.id)
    return bool(rows) and all(r.status == "sent" or (r.status in ("queued", "unknown", "failed")
                                                     and r.key.rpartition("/")[0] in parked) for r in rows)


def unsent(settings, incident_id: str) -> str:
    """The incident's messages not sent, with their status: what a wait that ran out was left with."""
    rows = Outbox(settings).list(incident_id)
    return f"{incident_id}: not sent: " + ", ".join(f"{r.key.split('/', 1)[1]} {r.status} ({r.error})"
                                                     for r in rows if r.status != "sent")


async def listed_as_failed(dev_env, incident_id: str, count: int | None = None) -> None:
    condition = f"= {count}" if count is not None else "> 0"
    await visible(dev_env.client, f'{sa.FAILED_ACTIONS.name} {condition} AND WorkflowId = "{incident_id}"')


async def test_fix_the_directory_then_retry_sends_once_and_skip_needs_a_reason(world):
    dev_env, settings, env, fake, directory_file = world
    async with build_worker(dev_env.client, settings):
        handle = await start(dev_env, settings, new_incident(settings))
        await wait_for(handle, lambda s: any(f.status == "parked" for f in s.failed_actions))
        await listed_as_failed(dev_env, handle.id, 1)
        failed = await cli(env, "ops", "failed", "--json", "--since", "1h")
        rows = [r for r in json.loads(failed.stdout) if r["incident_id"] == handle.id]
        assert [(r["step"], r["recipients"]) for r in rows] == [("move_to_vip_room", ["guide"])]
        assert "21211" in rows[0]["error"]

        refused = await cli(env, "ops", "retry", handle.id, "move_to_vip_room", "--as", "sun.li")
        assert refused.returncode != 0 and "not in the ops team" in refused.stderr

        directory_file.write_text(directory_file.read_text(encoding="utf-8").replace(BROKEN, FIXED),
                                  encoding="utf-8")
        retried = await cli(env, "ops", "retry", handle.id, "move_to_vip_room", "--as", "ma.ning")
        assert retried.returncode == 0, retried.stderr
        st = await wait_for(handle, lambda s: any(e.kind == "action_retried" for e in s.timeline)
                            and not any(f.status == "parked" for f in s.failed_actions))
        await listed_as_failed(dev_env, handle.id, 0)
        again = await cli(env, "ops", "retry", handle.id, "move_to_vip_room", "--as", "ma.ning")
        assert again.returncode != 0 and "no failed action is parked" in again.stderr
    retry_entry = [e for e in st.timeline if e.kind == "action_retried"][0]
    assert retry_entry.actor == "ma.ning" and "21211" in retry_entry.detail
    guide_rows = [r for r in Outbox(settings).list(handle.id) if r.recipient == "zhao.min"]
    assert [(r.to_number, r.status) for r in guide_rows] == [(FIXED, "sent")]
    assert Counter(m["to"] for m in fake.accepted)[FIXED] == 1

    async with build_worker(dev_env.client, settings):
        directory_file.write_text(directory_file.read_text(encoding="utf-8").replace(FIXED, BROKEN),
                                  encoding="utf-8")
        other = await start(dev_env, settings, new_incident(settings))
        await wait_for(other, lambda s: any(f.status == "parked" for f in s.failed_actions))
        no_reason = await cli(env, "ops", "skip", other.id, "move_to_vip_room", "--reason", " ", "--as", "ma.ning")
        assert no_reason.returncode != 0 and "--reason" in no_reason.stderr
        skipped = await cli(env, "ops", "skip", other.id, "move_to_vip_room", "--reason", "引导员已当面通知",
                            "--as", "ma.ning")
        assert skipped.returncode == 0, skipped.stderr
        st = await wait_for(other, lambda s: any(e.kind == "action_skipped" for e in s.timeline))
    (action,) = [f for f in st.failed_actions if f.step == "move_to_vip_room"]
    assert action.status == "skipped" and action.reason == "引导员已当面通知" and action.resolved_by == "ma.ning"
    assert st.status == "open"


async def test_bulk_retry_after_an_outage_sends_each_message_once(world):
    dev_env, settings, env, fake, directory_file = world
    directory_file.write_text(directory_file.read_text(encoding="utf-8").replace(BROKEN, FIXED), encoding="utf-8")
    fake.script = [503] * 400  # the gateway is down: every send fails with an unknown outcome
    async with build_worker(dev_env.client, settings):
        handles = [await start(dev_env, settings, new_incident(settings, drill=True, time_scale=3000.0))
                   for _ in range(3)]
        for handle in handles:
            await wait_for(handle, lambda s: sum(f.status == "parked" for f in s.failed_actions) >= 2)
        fake.script.clear()  # the outage ends
        for handle in handles:
            # what failed before it ended is parked before ops look: a reminder that was being sent as it ended
            # could otherwise be parked after the retry below had listed what failed (and stay parked)
            await until(lambda: settled(settings, handle), lambda: unsent(settings, handle.id))
            await listed_as_failed(dev_env, handle.id)
        bulk = await cli(env, "ops", "retry", "--all-failed", "--since", "1h", "--as", "ma.ning")
        assert bulk.returncode == 0, bulk.stderr
        assert "retried" in bulk.stdout and "in 3 incident(s)" in bulk.stdout
        for handle in handles:
            await wait_for(handle, lambda s: not any(f.status == "parked" for f in s.failed_actions)
                           and all(r.status == "sent" for r in Outbox(settings).list(handle.id)))
    accepted = Counter((m["to"], m["body"]) for m in fake.accepted)
    assert accepted and max(accepted.values()) == 1, "nothing sent twice"
    rows = [r for h in handles for r in Outbox(settings).list(h.id)]
    assert len(rows) == len(fake.accepted) and all(r.status == "sent" for r in rows)
