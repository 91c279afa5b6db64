"""A hand-over on the real dev server: a disputed calibration result starts the dispute ladder as a
child incident; `show --json` and the API show the link on both sides; the child is driven to close
from the CLI with only what its `actions` offer; the parent waits for it, records its result, then closes."""

from __future__ import annotations

import json
import uuid

import pytest

from groupdesk.runtime.config import EXAMPLE_DIRECTORY, REPO_ROOT
from groupdesk.people.directory import load_directory
from groupdesk.drills.smart_meter import XICHENG, wait_for
from groupdesk.drills.handovers import _to_calibration, answer, child_of
from groupdesk.incidents.gateway import Incident
from groupdesk.incidents.registration import prepare_start
from groupdesk.incidents.links import with_live_links
from groupdesk.playbooks.loader import load_playbook
from groupdesk.web.app import create_app
from helpers import run_cli as cli, start
from web_helpers import signed_in
from worker import build_worker

pytestmark = pytest.mark.devserver


async def show(env: dict, incident_id: str) -> dict:
    shown = await cli(env, "show", incident_id, "--json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


async def test_a_disputed_result_hands_over_to_the_ladder_linked_both_ways_and_the_parent_waits(dev_env, dev_setup):
    env, settings = dev_setup.env, dev_setup.settings
    request = prepare_start(directory=load_directory(EXAMPLE_DIRECTORY),
                            playbook=load_playbook(REPO_ROOT / "playbooks" / "smart-meter-group-complaint.yaml"),
                            hall_id="xicheng", headcount=12, lead_name="张建国", lead_phone="13800138000",
                            summary="智能电表换装后电量异常", started_by="sun.li", drill=True, time_scale=20_000,
                            incident_id=f"ladder-{uuid.uuid4().hex[:8]}",
                            registration={"address": "西城区广安门外大街1号", "account_no": "0100123456"})
    async with build_worker(dev_env.client, settings):
        handle = await start(dev_env, settings, request)
        await _to_calibration(handle, XICHENG)
        await wait_for(handle, lambda s: "metrology_calibration" in s.current_steps)
        offered = {(a["step"], a["outcome"]) for a in (await show(env, handle.id))["actions"]}
        assert ("metrology_calibration", "result_disputed") in offered

        done = await cli(env, "outcome", handle.id, "metrology_calibration", "result_disputed", "--as", "sun.li")
        assert done.returncode == 0, done.stderr
        child = child_of(handle)
        await wait_for(handle, lambda s: any(link.status == "open" for link in s.linked))

        parent = await show(env, handle.id)
        assert parent["status"] == "open" and parent["stage"] == "waiting_child" and parent["actions"] == []
        (link,) = parent["linked"]
        assert (link["id"], link["relation"], link["playbook"], link["status"], link["mode"]) == (
            child.id, "child", "dispute-ladder", "open", "wait")
        kid = await show(env, child.id)
        (back,) = kid["linked"]
        assert (back["id"], back["relation"], back["playbook"]) == (handle.id, "parent", "smart-meter-group-complaint")
        assert kid["playbook"] == "dispute-ladder" and kid["hall_id"] == "xicheng"
        assert kid["registration"] == parent["registration"] and kid["registration"]["account_no"] == "0100123456"

        text = await cli(env, "show", handle.id)
        assert f"handed over to: {child.id} (dispute-ladder, open)" in text.stdout, text.stdout
        app = create_app(settings, client=dev_env.client)
        async with signed_in(app, "sun.li") as lead:  # the API shows the same link on both sides
            up = (await lead.get(f"/api/incidents/{handle.id}")).json()
            down = (await lead.get(f"/api/incidents/{child.id}")).json()
            page = (await lead.get(f"/incidents/{handle.id}")).text
        assert [(x["id"], x["relation"]) for x in up["linked"]] == [(child.id, "child")]
        assert [(x["id"], x["relation"]) for x in down["linked"]] == [(handle.id, "parent")]
        assert 'id="linked"' in page and f'href="/incidents/{child.id}"' in page and "转交处理的事件" in page
        # what a parent last recorded is replaced by what Temporal knows now (a parent closed on handing over)
        stale = (await Incident.of(handle).live_state()).model_copy(deep=True)
        stale.linked[0].status = "starting"
        assert (await with_live_links(Incident.of(handle).describe_linked, stale)).linked[0].status == "open"

        # the ladder, driven from the CLI with only what its actions offer
        for step, name, data in [("investigate", "objection", {"findings": "换表前后用电对比无异常"}),
                                 ("negotiate", "agreement_signed", {"agreement_no": "XC-2026-031", "terms": "免费复检"})]:
            await wait_for(child, lambda s: step in s.current_steps)
            offer = next(a for a in (await show(env, child.id))["actions"] if (a["step"], a["outcome"]) == (step, name))
            assert offer["data"] == list(data) and "hall_lead" in offer["roles"]
            pairs = [arg for k, v in data.items() for arg in ("--data", f"{k}={v}")]
            recorded = await cli(env, "outcome", child.id, step, name, "--as", "sun.li", *pairs)
            assert recorded.returncode == 0, recorded.stderr
        await answer(child, 5)
        finished = await child.result()
        assert finished.status == "closed" and finished.steps["negotiate"].data["agreement_no"] == "XC-2026-031"

        waited = await wait_for(handle, lambda s: s.stage == "follow_up")
        result = next(e for e in waited.timeline if e.kind == "child_result")
        assert result.detail.startswith(f"{child.id}: 已签下处理协议") and "(satisfaction 5/5)" in result.detail
        await answer(handle, 4)
        closed = await handle.result()
        assert closed.status == "closed" and closed.resolution.startswith("dispute-ladder: 已签下处理协议")
        parent = await show(env, handle.id)
        assert [(x["id"], x["status"]) for x in parent["linked"]] == [(child.id, "closed")]
        stale.linked[0].status = "open"
        assert (await with_live_links(Incident.of(handle).describe_linked, stale)).linked[0].status == "closed"
