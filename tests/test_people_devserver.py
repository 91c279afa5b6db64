"""The people rules on the real dev server, through the CLI and the console: a service-attitude complaint driven to
close with only what `actions` offers while the person involved is refused; a group with media present alerting the
director and the publicity office once each; the person involved getting none of the SMS and no buttons."""

from __future__ import annotations

import json

import pytest

from groupdesk.runtime.config import EXAMPLE_DIRECTORY
from groupdesk.people.directory import load_directory
from groupdesk.drills.smart_meter import wait_for
from groupdesk.incidents.gateway import Gateway
from groupdesk.messaging.outbox import Outbox
from groupdesk.web.app import create_app
from helpers import patient_follow_ups, run_cli as cli, setup_for
from web_helpers import signed_in
from worker import build_worker

pytestmark = pytest.mark.devserver

DIRECTORY = load_directory(EXAMPLE_DIRECTORY)
START = ["start", "--hall", "xicheng", "--lead-name", "李秀英", "--drill", "--time-scale", "20000", "--json"]


def environment(dev_env, tmp_path):
    """Playbooks whose surveys wait for the answer (a CLI step after it is sent can outlast 13 s on a loaded host)."""
    return setup_for(tmp_path, dev_env, queue="people", GROUPDESK_PLAYBOOKS_DIR=patient_follow_ups(tmp_path))


async def show(env, incident_id) -> dict:
    shown = await cli(env, "show", incident_id, "--json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def acting_for(action: dict, person_involved: str) -> str:
    """Someone the directory names now for one of the action's roles, never the person involved."""
    return next(pid for role in action["roles"] for pid in DIRECTORY.hall("xicheng").roles.get(role, [])
                if pid != person_involved)


async def test_service_attitude_closes_from_the_cli_with_only_actions_and_the_person_refused(dev_env, tmp_path):
    setup = environment(dev_env, tmp_path)
    env, settings = setup.env, setup.settings
    async with build_worker(dev_env.client, settings):
        started = await cli(env, *START, "--headcount", "2", "--lead-phone", "13900139001", "--summary", "营业员态度生硬",
                            "--playbook", "service-attitude-complaint", "--person-involved", "zhao.min",
                            "--complainant-type", "authority")
        assert started.returncode == 0, started.stderr
        incident_id = json.loads(started.stdout)["id"]
        shown = await show(env, incident_id)
        assert shown["registration"]["person_involved"] == "zhao.min" and shown["owner"] == "sun.li"
        plain = (await cli(env, "show", incident_id)).stdout
        assert "owner: sun.li" in plain and "person involved" in plain and "zhao.min" in plain
        assert "话术 take_over:" in plain

        refused = await cli(env, "outcome", incident_id, "take_over", "received", "--as", "zhao.min")
        assert refused.returncode == 2 and "更换当事人" in refused.stderr and len(refused.stderr.splitlines()) == 1, \
            refused.stderr
        handed = await cli(env, "handover", incident_id, "--to", "zhao.min", "--as", "sun.li", "--reason", "她熟悉")
        assert handed.returncode == 2 and handed.stderr.startswith("error: --to:") and "更换当事人" in handed.stderr

        recorded = []
        while shown["status"] == "open":
            if not shown["actions"]:  # the follow-up waits for its survey SMS, then the hall lead records the answer
                await wait_for(Gateway(dev_env.client, settings).incident(incident_id),
                               lambda s: s.follow_up is not None and s.follow_up.sent, timeout=60)
                answered = await cli(env, "follow-up", incident_id, "--score", "5", "--as", "sun.li")
                assert answered.returncode == 0, answered.stderr
            else:
                action = shown["actions"][0]
                assert action["kind"] == "outcome"
                args = ["outcome", incident_id, action["step"], action["outcome"],
                        "--as", acting_for(action, "zhao.min")]
                args += [x for field in action["data"] for x in ("--data", f"{field}=经核实:{field}")]
                if action["requires_reason"]:
                    args += ["--note", "经核实"]
                done = await cli(env, *args)
                assert done.returncode == 0, done.stderr
                recorded.append(action["step"])
            shown = await show(env, incident_id)
    assert recorded == ["take_over", "investigate", "apology", "accountability"]
    assert shown["steps"]["accountability"]["data"] == {"finding": "经核实:finding", "measure": "经核实:measure"}
    assert "zhao.min" not in {m.recipient for m in Outbox(settings).list(incident_id)}
    async with signed_in(create_app(settings, client=dev_env.client), "wang.jun") as director:
        page = (await director.get(f"/incidents/{incident_id}")).text  # the closed incident, from its result
        assert 'id="data-accountability"' in page and "查实情况" in page and "经核实:measure" in page


async def test_media_present_alerts_once_each_and_the_person_involved_gets_nothing(dev_env, tmp_path):
    setup = environment(dev_env, tmp_path)
    env, settings = setup.env, setup.settings
    async with build_worker(dev_env.client, settings):
        started = await cli(env, *START, "--headcount", "25", "--lead-phone", "13900139002", "--summary", "电费异常",
                            "--media", "--person-involved", "zhao.min", "--complainant-type", "publicity")
        assert started.returncode == 0, started.stderr
        incident_id = json.loads(started.stdout)["id"]
        incident = Gateway(dev_env.client, settings).incident(incident_id)
        state = await wait_for(incident, lambda s: sum("/publicity_alert/" in d.key for d in s.deliveries) == 2
                               and sum("/move_to_vip_room#1/step_started/" in d.key for d in s.deliveries) >= 1,
                               timeout=30)
        rows = Outbox(settings).list(incident_id)
        alerts = sorted((m.recipient, m.role) for m in rows if m.purpose == "publicity_alert")
        assert alerts == [("publicity.duty", "publicity_office"), ("wang.jun", "centre_director")]
        assert all("媒体" in m.body for m in rows if m.purpose == "publicity_alert")
        started_at = {e.kind: e.at for e in state.timeline}
        assert started_at["publicity_alert"] == started_at["incident_started"], "at once, at the start"
        vip = [(m.recipient, m.role) for m in rows if m.step == "move_to_vip_room" and m.purpose == "step_started"]
        assert vip == [("sun.li", "guide")], "the guide's notice goes to the hall lead, once, never to zhao.min"

        app = create_app(settings, client=dev_env.client)
        async with signed_in(app, "zhao.min") as them:
            page = (await them.get(f"/incidents/{incident_id}")).text
            assert 'id="involved-you"' in page and 'data-outcome="done"' not in page
            tried = await them.post(f"/api/incidents/{incident_id}/outcomes",
                                    json={"step": "move_to_vip_room", "outcome": "done"})
            assert tried.status_code == 403 and "更换当事人" in tried.json()["detail"]
        async with signed_in(app, "sun.li") as lead:
            page = (await lead.get(f"/incidents/{incident_id}")).text
            assert 'id="reg-person-involved">赵敏<' in page and 'data-outcome="done"' in page
            shown = (await lead.get(f"/api/incidents/{incident_id}")).json()
            assert shown["registration"]["media_present"] and shown["scripts"][0]["step"] == "move_to_vip_room"


async def test_the_owner_after_a_handover_gets_the_deadline_reminders(dev_env, tmp_path):
    setup = environment(dev_env, tmp_path)
    env, settings = setup.env, setup.settings
    async with build_worker(dev_env.client, settings):
        # 20x: the first deadlines are 15 s away, time for the hand-over to come first on a loaded machine
        started = await cli(env, "start", "--hall", "xicheng", "--lead-name", "周明", "--drill", "--time-scale", "20",
                            "--json", "--headcount", "8", "--lead-phone", "13900139003", "--summary", "电量异常")
        assert started.returncode == 0, started.stderr
        incident_id = json.loads(started.stdout)["id"]
        handed = await cli(env, "handover", incident_id, "--to", "wang.jun", "--as", "sun.li", "--reason", "主任负责")
        assert handed.returncode == 0, handed.stderr
        incident = Gateway(dev_env.client, settings).incident(incident_id)
        state = await wait_for(incident, lambda s: sum("/reminder/deadline/" in d.key for d in s.deliveries) >= 4,
                               timeout=90)  # 5 minutes on the playbook's clock: 15 s
    assert [e for e in state.timeline if e.kind == "handover"][0].at < state.steps["keep_order"].deadline_at
    reminded = sorted((m.step, m.recipient) for m in Outbox(settings).list(incident_id) if m.purpose == "reminder")
    assert reminded == [("keep_order", "qian.lei"), ("keep_order", "wang.jun"),
                        ("move_to_vip_room", "wang.jun"), ("move_to_vip_room", "zhao.min")]


async def test_a_founded_finding_is_recorded_by_cli_and_api_reviewed_sent_back_corrected_and_closed(dev_env, tmp_path):
    """有效投诉的认定 on the real server: closing is refused without a finding (naming it), the API records a founded
    one, the director sends it back from the CLI with a reason, the owner corrects it from the CLI and closes."""
    setup = environment(dev_env, tmp_path)
    env, settings = setup.env, setup.settings
    async with build_worker(dev_env.client, settings):
        started = await cli(env, "start", "--hall", "xicheng", "--lead-name", "李秀英", "--json", "--headcount", "1",
                            "--lead-phone", "13900139077", "--summary", "办理过户多次往返", "--playbook",
                            "single-complaint")
        assert started.returncode == 0, started.stderr
        incident_id = json.loads(started.stdout)["id"]
        for step, name in (("contact_customer", "contacted"), ("handling_opinion", "opinion_ready")):
            done = await cli(env, "outcome", incident_id, step, name, "--as", "sun.li")
            assert done.returncode == 0, done.stderr
        refused = await cli(env, "outcome", incident_id, "reply_customer", "accepted", "--as", "sun.li")
        assert refused.returncode == 2 and refused.stderr.startswith("error: finding: ") \
            and "groupdesk finding" in refused.stderr and len(refused.stderr.splitlines()) == 1, refused.stderr
        bad = await cli(env, "finding", incident_id, "--founded", "yes", "--cause", "business_handling",
                        "--responsible", "zhao.min,nobody.here", "--unit", "xicheng", "--reason", "r", "--as", "sun.li")
        assert bad.returncode == 2 and bad.stderr.startswith("error: --responsible: no staff member 'nobody.here'")

        app = create_app(settings, client=dev_env.client)
        async with signed_in(app, "sun.li") as lead, signed_in(app, "zhao.min") as guide:
            page = (await lead.get(f"/incidents/{incident_id}")).text
            assert 'id="finding-form"' in page and 'id="finding-needed"' in page and "服务态度" in page
            assert 'id="finding-form"' not in (await guide.get(f"/incidents/{incident_id}")).text
            body = {"founded": "yes", "cause": "business_handling", "responsible_people": ["zhao.min"],
                    "responsible_unit": "xicheng", "reason": "未一次性告知过户所需材料"}
            assert (await guide.post(f"/api/incidents/{incident_id}/finding", json=body)).status_code == 403
            unknown = await lead.post(f"/api/incidents/{incident_id}/finding", json={**body, "cause": "weather"})
            assert unknown.status_code == 422 and "cause" in unknown.text
            recorded = await lead.post(f"/api/incidents/{incident_id}/finding", json=body)
            assert recorded.status_code == 200, recorded.text
            got = (await lead.get(f"/api/incidents/{incident_id}")).json()["finding"]
            assert (got["founded"], got["responsible_people"], got["recorded_by"]) == ("yes", ["zhao.min"], "sun.li")
            page = (await lead.get(f"/incidents/{incident_id}")).text
            assert 'id="finding-shown"' in page and "未一次性告知过户所需材料" in page and "赵敏" in page
        closing = await cli(env, "outcome", incident_id, "reply_customer", "accepted", "--as", "sun.li")
        assert closing.returncode == 0, closing.stderr
        shown = await show(env, incident_id)
        assert shown["current_steps"] == ["finding_review"] and shown["follow_up"] is None
        f = shown["finding"]
        assert (f["founded"], f["cause"], f["responsible_people"], f["responsible_unit"], f["recorded_by"],
                f["confirmed_by"]) == ("yes", "business_handling", ["zhao.min"], "xicheng", "sun.li", None)
        offered = {(a["outcome"], tuple(a["roles"]), a["requires_reason"]) for a in shown["actions"]}
        assert offered == {("confirmed", ("centre_director",), False), ("sent_back", ("centre_director",), True)}
        no_reason = await cli(env, "outcome", incident_id, "finding_review", "sent_back", "--as", "wang.jun")
        assert no_reason.returncode == 2 and "reason" in no_reason.stderr
        sent_back = await cli(env, "outcome", incident_id, "finding_review", "sent_back", "--as", "wang.jun",
                              "--note", "责任单位应为城区客户服务中心")
        assert sent_back.returncode == 0, sent_back.stderr
        shown = await show(env, incident_id)
        assert shown["current_steps"] == ["reply_customer"] and shown["finding"]["sent_back"].startswith("责任单位")
        corrected = await cli(env, "finding", incident_id, "--founded", "partly", "--cause", "business_handling",
                              "--responsible", "zhao.min", "--unit", "city-centre", "--reason", "材料清单未更新",
                              "--as", "sun.li")
        assert corrected.returncode == 0, corrected.stderr
        assert (await cli(env, "outcome", incident_id, "reply_customer", "accepted", "--as", "sun.li")).returncode == 0
        confirmed = await cli(env, "outcome", incident_id, "finding_review", "confirmed", "--as", "wang.jun")
        assert confirmed.returncode == 0, confirmed.stderr
        shown = await show(env, incident_id)
        assert shown["stage"] == "follow_up" and shown["finding"]["confirmed_by"] == "wang.jun"
        assert shown["finding"]["responsible_unit"] == "city-centre"
        plain = (await cli(env, "show", incident_id)).stdout
        assert "finding: founded=partly" in plain and "confirmed by wang.jun" in plain
        asked = [m for m in Outbox(settings).list(incident_id) if m.step == "finding_review"]
        assert {m.recipient for m in asked} == {"wang.jun"} and len(asked) == 2  # once per review
