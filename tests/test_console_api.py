"""The console's API: sign-in, CSRF, and the permission matrix (each role x each action)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import EventType

from groupdesk.drills.smart_meter import wait_for
from groupdesk.web.app import create_app
from helpers import setup_for
from web_helpers import signed_in
from worker import build_worker
from workflows.group_incident import GroupIncidentWorkflow as WF

pytestmark = pytest.mark.devserver
HALL_LEAD, GUIDE, GUARD, DIRECTOR, OPERATOR, OPS, OTHER_LEAD = (
    "sun.li", "zhao.min", "qian.lei", "wang.jun", "lin.yue", "ma.ning", "wu.fang")
EVERYONE = (HALL_LEAD, GUIDE, GUARD, DIRECTOR, OPERATOR, OPS, OTHER_LEAD)
METRICS_TOKEN = "scraper-" + uuid.uuid4().hex


@pytest_asyncio.fixture
async def console(dev_env, dev_setup):
    settings = dev_setup.but(GROUPDESK_METRICS_TOKEN=METRICS_TOKEN).settings
    app = create_app(settings, client=dev_env.client)
    async with build_worker(dev_env.client, settings):
        yield dev_env, app


def start_body(**over) -> dict:
    body = {"hall": "xicheng", "headcount": 15, "lead_name": "张建国", "summary": "电量异常",
            "lead_phone": f"1380013{uuid.uuid4().int % 10000:04d}", "drill": True}
    body.update(over)
    return body


async def footprint(env, incident_id: str) -> tuple[int, int]:
    handle = env.client.get_workflow_handle(incident_id)
    events = (await handle.fetch_history()).events
    updates = sum(1 for e in events if "UPDATE" in EventType.Name(e.event_type) or "SIGNAL" in EventType.Name(e.event_type))
    return updates, len((await handle.query(WF.state)).timeline)


async def test_sign_in_and_csrf(console):
    env, app = console
    async with signed_in(app, None) as anonymous:
        assert (await anonymous.get("/api/incidents")).status_code == 401
        bad = await anonymous.post("/api/session", json={"person": HALL_LEAD, "password": "wrong"})
        assert bad.status_code == 401
    async with signed_in(app, HALL_LEAD) as lead:
        token = lead.headers.pop("X-CSRF-Token")
        refused = await lead.post("/api/incidents", json=start_body())
        assert refused.status_code == 403 and "CSRF" in refused.text
        lead.headers["X-CSRF-Token"] = token
        assert (await lead.post("/api/incidents", json=start_body())).status_code == 201
    assert "/api/incidents/{incident_id}/approval" in app.openapi()["paths"]


async def test_permission_matrix(console):
    env, app = console
    # start a group: the playbook's started_by roles at that hall (guide, guard, hall lead)
    for person in EVERYONE:
        async with signed_in(app, person) as web:
            response = await web.post("/api/incidents", json=start_body())
            assert response.status_code == (201 if person in (HALL_LEAD, GUIDE, GUARD) else 403), (person, response.text)
    async with signed_in(app, HALL_LEAD) as lead:
        incident = (await lead.post("/api/incidents", json=start_body())).json()["id"]
    handle = env.client.get_workflow_handle(incident)
    await wait_for(handle, lambda s: len(s.deliveries) >= 4)

    async def attempt(person, method, path, body=None):
        async with signed_in(app, person) as web:
            return await web.request(method, path, json=body)

    expectations = [
        ("GET", f"/api/incidents/{incident}", None, {OTHER_LEAD}),
        ("POST", f"/api/incidents/{incident}/notes", {"text": "现场平稳"}, {OPERATOR, OPS, OTHER_LEAD}),
        ("POST", f"/api/incidents/{incident}/outcomes", {"step": "keep_order", "outcome": "done"},
         {GUIDE, DIRECTOR, OPERATOR, OPS, OTHER_LEAD}),
        ("GET", "/api/failed", None, set(EVERYONE) - {OPS}),
        ("POST", f"/api/incidents/{incident}/failed/move_to_vip_room/retry", None, set(EVERYONE) - {OPS}),
        ("POST", f"/api/incidents/{incident}/failed/move_to_vip_room/skip", {"reason": "x"}, set(EVERYONE) - {OPS}),
    ]
    for method, path, body, forbidden in expectations:
        for person in forbidden:
            before = await footprint(env, incident)
            response = await attempt(person, method, path, body)
            assert response.status_code == 403, (person, path, response.text)
            assert await footprint(env, incident) == before, f"{person} changed something with a 403"
    nothing_parked = await attempt(OPS, "POST", f"/api/incidents/{incident}/failed/move_to_vip_room/retry")
    assert nothing_parked.status_code == 409 and "no failed action is parked" in nothing_parked.text
    assert (await attempt(GUIDE, "POST", f"/api/incidents/{incident}/outcomes",
                          {"step": "move_to_vip_room", "outcome": "done"})).status_code == 200
    assert (await attempt(GUARD, "POST", f"/api/incidents/{incident}/outcomes",
                          {"step": "keep_order", "outcome": "done"})).status_code == 200
    assert (await attempt(HALL_LEAD, "POST", f"/api/incidents/{incident}/outcomes",
                          {"step": "talk_with_lead", "outcome": "not_accepted"})).status_code == 200
    await wait_for(handle, lambda s: "director_review" in s.current_steps)
    for _ in range(50):
        async with signed_in(app, DIRECTOR) as director:
            if any(r["id"] == incident for r in (await director.get("/api/approvals")).json()):
                break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the approval never reached the director's inbox")
    offered = (await attempt(HALL_LEAD, "GET", f"/api/incidents/{incident}")).json()["actions"]
    assert [(a["step"], a["outcome"], a["kind"], a["roles"]) for a in offered] == [
        ("director_review", "approved", "approval", ["centre_director"]),
        ("director_review", "rejected", "approval", ["centre_director"])]  # the contract every client uses
    english = (await attempt(HALL_LEAD, "GET", f"/api/incidents/{incident}?lang=en")).json()["actions"]
    assert english[0]["label"] == "tier-3 warning plan started" and english[1]["requires_reason"]
    for person in set(EVERYONE) - {DIRECTOR}:
        before = await footprint(env, incident)
        response = await attempt(person, "POST", f"/api/incidents/{incident}/approval", {"approve": True})
        assert response.status_code == 403, (person, response.text)
        assert await footprint(env, incident) == before
        async with signed_in(app, person) as web:
            assert (await web.get("/api/approvals")).json() == []
    refused = await attempt(DIRECTOR, "POST", f"/api/incidents/{incident}/approval", {"approve": False})
    assert refused.status_code == 422 and refused.json()["detail"].startswith("reason: "), refused.text
    approved = await attempt(DIRECTOR, "POST", f"/api/incidents/{incident}/approval", {"approve": True})
    assert approved.status_code == 200 and approved.json()["warning_tier"] == 3
    for person in (OPERATOR, OPS):  # see everything
        async with signed_in(app, person) as web:
            assert any(r["id"] == incident for r in (await web.get("/api/incidents")).json())
    async with signed_in(app, OTHER_LEAD) as web:
        assert not any(r["id"] == incident for r in (await web.get("/api/incidents")).json())
    assert (await attempt(HALL_LEAD, "GET", "/api/incidents/no-such-incident")).status_code == 404


async def test_start_validation_and_double_submit(console):
    env, app = console
    async with signed_in(app, HALL_LEAD) as lead:
        cases = {"headcount": start_body(headcount=1, playbook="smart-meter-group-complaint"), "lead_phone": start_body(lead_phone="123"),
                 "summary": start_body(summary=" "), "time_scale": start_body(drill=False, time_scale=60),
                 "playbook": start_body(playbook="nope")}
        for field, body in cases.items():
            response = await lead.post("/api/incidents", json=body)
            assert response.status_code == 422 and field in response.json()["errors"], response.text
        token = uuid.uuid4().hex
        body = start_body(submit_token=token)
        first, second = await asyncio.gather(lead.post("/api/incidents", json=body),
                                             lead.post("/api/incidents", json=body))
        assert first.status_code == second.status_code == 201, (first.text, second.text)
        assert first.json()["id"] == second.json()["id"]
        again = await lead.post("/api/incidents", json=body)  # a third, later click
        assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
        listed = [r for r in (await lead.get("/api/incidents")).json() if r["id"] == first.json()["id"]]
        assert len(listed) <= 1
    async with signed_in(app, GUIDE) as guide:  # the same form token from someone who may not start: no id back
        replayed = await guide.post("/api/incidents", json=body)
        assert replayed.status_code == 403 and first.json()["id"] not in replayed.text


async def test_registration_round_trip(console):
    env, app = console
    registration = {"address": "幸福里小区3号楼", "account_no": "0101234567", "category": "outage",
                    "demands": "尽快恢复供电\n说明停电原因", "complainant_type": "publicity", "media_present": True,
                    "person_involved": "qian.lei"}
    async with signed_in(app, HALL_LEAD) as lead:
        refused = await lead.post("/api/incidents", json=start_body(category="metering"))
        assert refused.status_code == 422 and refused.json()["detail"].startswith("category: "), refused.text
        created = await lead.post("/api/incidents", json=start_body(**registration))
        assert created.status_code == 201, created.text
        incident = created.json()["id"]
        assert (await lead.get(f"/api/incidents/{incident}")).json()["registration"] == registration
        page = (await lead.get(f"/incidents/{incident}")).text
        for shown in ("幸福里小区3号楼", "0101234567", "停电", "制造轰动效应型", "有媒体在场", "钱磊"):
            assert shown in page
        plain = (await lead.post("/api/incidents", json=start_body())).json()["id"]  # nothing registered
        assert (await lead.get(f"/api/incidents/{plain}")).json()["registration"] == {
            "address": "", "account_no": "", "category": None, "demands": "", "complainant_type": None,
            "media_present": False, "person_involved": ""}
        assert 'id="registration"' not in (await lead.get(f"/incidents/{plain}")).text


async def test_temporal_facing_paths_and_the_phone_simulator(console, tmp_path):
    """What reaches Temporal's power or its data: ops (or the codec/metrics token) only; the simulator never
    outside dev, and only ops in dev, since it replies as anyone (the director included)."""
    env, app = console
    codec_body = {"payloads": []}
    matrix = [  # method, path, body, who may (200)
        ("GET", "/metrics", None, {OPS}),
        ("GET", "/openapi.json", None, {OPS}),
        ("GET", "/docs", None, {OPS}),
        ("POST", "/codec/decode", codec_body, {OPERATOR, OPS}),
        ("POST", "/codec/encode", codec_body, {OPERATOR, OPS}),
    ]
    async with signed_in(app, None) as anonymous:
        for method, path, body, _ in matrix:
            response = await anonymous.request(method, path, json=body)
            assert response.status_code in (401, 303), (path, response.status_code)  # /docs sends to /login
        for path in ("/metrics", "/openapi.json"):
            by_token = await anonymous.get(path, headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
            assert by_token.status_code == 200, path
            assert (await anonymous.get(path, headers={"Authorization": "Bearer nope"})).status_code == 401
        assert (await anonymous.get("/healthz")).json() == {"status": "ok"}
    for person in EVERYONE:
        async with signed_in(app, person) as web:
            for method, path, body, allowed in matrix:
                response = await web.request(method, path, json=body)
                assert response.status_code == (200 if person in allowed else 403), (person, path, response.text)
            for method, path in (("GET", "/phone"), ("POST", "/phone/reply")):
                assert (await web.request(method, path)).status_code == 404, (person, path)  # not in production
    async with signed_in(app, OPS) as ops:
        assert "groupdesk_open_incidents" in (await ops.get("/metrics")).text
        assert "/api/incidents" in (await ops.get("/openapi.json")).json()["paths"]

    dev = create_app(setup_for(tmp_path / "dev", env).settings, client=env.client, dev=True)
    director_phone = "+8613900000301"  # wang.jun
    for person in EVERYONE:
        async with signed_in(dev, person) as web:
            page = await web.get("/phone")
            reply = await web.post("/phone/reply", data={"phone": director_phone, "body": "1 123456"})
            if person == OPS:
                assert page.status_code == 200 and reply.status_code == 303, (page.text, reply.text)
            else:
                assert page.status_code == reply.status_code == 403, (person, page.status_code, reply.status_code)


async def test_a_board_stream_ends_when_its_session_does(console):
    env, app = console
    async with signed_in(app, OPERATOR) as web:
        stream = asyncio.create_task(web.get("/events/board"))
        await asyncio.sleep(2)
        assert not stream.done(), "the board streams while signed in"
        assert (await web.delete("/api/session")).status_code == 200
        response = await asyncio.wait_for(stream, timeout=15)
    assert response.status_code == 200 and "event: board" in response.text
