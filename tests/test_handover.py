"""首问负责制: whoever starts an incident owns it until a handover (CLI or console) names the next owner,
who is told by SMS; the handover is on the timeline, and only the owner, hall lead or director hands over."""

from __future__ import annotations

import json
import uuid

import pytest

from groupdesk.runtime.config import EXAMPLE_DIRECTORY, REPO_ROOT
from groupdesk.people.directory import load_directory
from groupdesk.drills.smart_meter import wait_for
from groupdesk.incidents.registration import prepare_start
from groupdesk.messaging.outbox import Outbox
from groupdesk.playbooks.loader import load_playbook
from groupdesk.web.app import create_app
from helpers import run_cli as cli, start
from web_helpers import signed_in
from worker import build_worker

pytestmark = pytest.mark.devserver


async def test_handover_from_the_cli_and_the_console(dev_env, dev_setup):
    env, settings = dev_setup.env, dev_setup.settings
    request = prepare_start(directory=load_directory(EXAMPLE_DIRECTORY),
                            playbook=load_playbook(REPO_ROOT / "playbooks" / "smart-meter-group-complaint.yaml"),
                            hall_id="xicheng", headcount=9, lead_name="张建国", lead_phone="13800138000",
                            summary="电量异常", started_by="sun.li", incident_id=f"owner-{uuid.uuid4().hex[:8]}")
    async with build_worker(dev_env.client, settings):
        handle = await start(dev_env, settings, request)
        shown = json.loads((await cli(env, "show", handle.id, "--json")).stdout)
        assert shown["owner"] == "sun.li"  # whoever starts it owns it

        guard = await cli(env, "handover", handle.id, "--to", "zhao.min", "--as", "qian.lei", "--reason", "下班")
        assert guard.returncode == 2 and guard.stderr.startswith("error: --as: qian.lei may not hand over"), guard.stderr
        nobody = await cli(env, "handover", handle.id, "--to", "zhou.jie", "--as", "sun.li", "--reason", "下班")
        assert nobody.returncode == 2 and nobody.stderr.startswith("error: --to: 'zhou.jie' holds no role at hall"), \
            nobody.stderr  # a staff member of another hall
        no_reason = await cli(env, "handover", handle.id, "--to", "zhao.min", "--as", "sun.li", "--reason", " ")
        assert no_reason.returncode == 2 and no_reason.stderr.startswith("error: --reason:"), no_reason.stderr

        done = await cli(env, "handover", handle.id, "--to", "zhao.min", "--as", "sun.li", "--reason", "交接班")
        assert done.returncode == 0, done.stderr
        state = await wait_for(handle, lambda s: any(d.key.endswith("/handover/handover1/zhao.min")
                                                     for d in s.deliveries))
        assert state.owner == "zhao.min"
        assert [(e.kind, e.actor, e.detail) for e in state.timeline if e.kind == "handover"] == [
            ("handover", "sun.li", "sun.li -> zhao.min: 交接班")]
        sms = [m for m in Outbox(settings).list(handle.id) if m.purpose == "handover"]
        assert [(m.recipient, m.to_number) for m in sms] == [("zhao.min", "+8613900000101")]
        assert "交接班" in sms[0].body and handle.id in sms[0].body

        app = create_app(settings, client=dev_env.client)
        async with signed_in(app, "zhao.min") as owner:  # the new owner hands it on from the console
            page = (await owner.get(f"/incidents/{handle.id}")).text
            assert 'id="owner">赵敏<' in page and 'action="/incidents/' + handle.id + '/handover"' in page
            response = await owner.post(f"/api/incidents/{handle.id}/handover", json={"to": "sun.li", "reason": "回岗"})
            assert response.status_code == 200, response.text
            again = await owner.post(f"/api/incidents/{handle.id}/handover", json={"to": "sun.li", "reason": "x"})
            assert again.status_code in (403, 409) and "zhao.min" in again.text  # no longer the owner
        await wait_for(handle, lambda s: s.owner == "sun.li", timeout=10)  # TimeoutError unless handed back
