"""The console's API: sign-in, CSRF, and the permission matrix (each role x each action)."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import EventType

from groupdesk.drills.smart_meter import wait_for
from groupdesk.web.app import create_app
from helpers import setup_for, until
from web_helpers import EventStream, signed_in
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
    async with signed_in(app, OTHER_LEAD) as other:  # the same form token from someone who may not start here: no id
        replayed = await other.post("/api/incidents", json=body)
        assert replayed.status_code == 403 and first.json()["id"] not in replayed.text


async def test_registration_round_trip(console):
    env, app = console
    registration = {"address": "幸福里小区3号楼", "account_no": "0101234567", "category": "outage",
                    "demands": "尽快恢复供电\n说明停电原因", "complainant_type": "publicity", "media_present": True,
                    "person_involved": "qian.lei", "channel": "letter", "ticket_no": "XC-2026-017"}
    async with signed_in(app, HALL_LEAD) as lead:
        refused = await lead.post("/api/incidents", json=start_body(category="metering"))
        assert refused.status_code == 422 and refused.json()["detail"].startswith("category: "), refused.text
        created = await lead.post("/api/incidents", json=start_body(**registration))
        assert created.status_code == 201, created.text
        incident = created.json()["id"]
        assert (await lead.get(f"/api/incidents/{incident}")).json()["registration"] == {**registration,
                                                                                          "headcount": 15, "feeder": ""}
        page = (await lead.get(f"/incidents/{incident}")).text
        for shown in ("幸福里小区3号楼", "0101234567", "停电", "制造轰动效应型", "有媒体在场", "钱磊", "信函", "XC-2026-017"):
            assert shown in page
        plain = (await lead.post("/api/incidents", json=start_body())).json()["id"]  # nothing registered
        assert (await lead.get(f"/api/incidents/{plain}")).json()["registration"] == {
            "address": "", "account_no": "", "category": None, "demands": "", "complainant_type": None,
            "media_present": False, "person_involved": "", "headcount": 15, "channel": "visit", "ticket_no": "",
            "feeder": ""}
        bare = (await lead.get(f"/incidents/{plain}")).text  # the registration view: the headcount and how it came in
        assert 'id="reg-headcount">15<' in bare and 'id="reg-channel">来访<' in bare and 'id="reg-address"' not in bare


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
        stream = EventStream(app, web, "/events/board")
        assert "event: board" in await stream.first()
        assert not stream.task.done(), "the board streams while signed in"
        assert (await web.delete("/api/session")).status_code == 200
        text = await stream.ended()
    assert stream.status == 200 and "event: board" in text


async def test_every_door_registers_with_its_roles_its_owner_and_its_work_order(console, dev_setup, make_start):
    """Issue 28's doors: a guide registers a group (the duty lead owns it and is texted), a counter clerk a single
    complaint (owns it, records its step; the same 95598 work order makes it a repeat), refusals by the CLI and the
    API naming the playbook's roles, and the work order found by list --ticket-no (archive included), the board's
    search, in the archive row and in the report by channel."""
    import json
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import select

    from groupdesk.messaging.outbox import Outbox
    from groupdesk.record.archive_record import build_record
    from groupdesk.record.chain import append
    from groupdesk.storage import open_database
    from groupdesk.storage.schema import archive_records
    from helpers import run_cli
    from workflows.machine.incident import IncidentMachine

    env, app = console
    settings, ticket = dev_setup.settings, f"2026{uuid.uuid4().int % 10 ** 12:012d}"
    work_order = {"channel": "hotline_95598", "ticket_no": ticket}
    async with signed_in(app, GUIDE) as guide:
        made = await guide.post("/api/incidents", json=start_body(**work_order))
        assert made.status_code == 201, made.text
    group = made.json()["id"]
    state = await wait_for(env.client.get_workflow_handle(group),
                           lambda s: any("/registered_by_other/" in d.key for d in s.deliveries))
    assert (state.started_by, state.owner) == (GUIDE, HALL_LEAD)  # xicheng's duty lead
    told = [m for m in Outbox(settings).list(group) if m.purpose == "registered_by_other"]
    assert [m.recipient for m in told] == [HALL_LEAD] and "引导员赵敏" in told[0].body and group in told[0].body

    clerk = "li.qiang"
    async with signed_in(app, clerk) as web:
        form = (await web.get("/incidents/new")).text  # the start form offers only what a clerk may start
        assert 'value="single-complaint"' in form and 'value="service-attitude-complaint"' in form
        assert 'value="smart-meter-group-complaint"' not in form and 'href="/incidents/new"' in form
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        chosen = await web.post("/incidents", data={"csrf_token": token, "hall": "xicheng", "headcount": "20",
                                                    "lead_name": "张三", "lead_phone": "13800138333", "summary": "电量异常"})
        assert chosen.status_code == 403 and "it is started by guide" in chosen.text and 'id="start-form"' in chosen.text
        refused = await web.post("/api/incidents", json=start_body())  # a group is not a clerk's to register
        assert refused.status_code == 403 and "it is started by guide (引导员), security_guard" in refused.text
        made = await web.post("/api/incidents", json=start_body(headcount=1, playbook="single-complaint",
                                                                   category="business", **work_order))
        assert made.status_code == 201, made.text
        single = made.json()["id"]
        state = await wait_for(env.client.get_workflow_handle(single), lambda s: "contact_customer" in s.current_steps)
        assert state.owner == clerk and state.repeat_of == group and "same_ticket" in state.repeat_reasons
        offered = (await web.get(f"/api/incidents/{single}")).json()
        assert offered["registration"]["channel"] == "hotline_95598" and offered["registration"]["ticket_no"] == ticket
        assert {(a["step"], tuple(a["roles"])) for a in offered["actions"]} == {
            ("contact_customer", ("incident_owner", "hall_lead"))}
        recorded = await web.post(f"/api/incidents/{single}/outcomes", json={"step": "contact_customer",
                                                                             "outcome": "contacted"})
        assert recorded.status_code == 200, recorded.text
        page = (await web.get(f"/incidents/{single}")).text
        assert "95598" in page and ticket in page and "首问负责人" in page
        # the owner corrects the work order (groupdesk amend): checked against the channel kept, then re-keyed
        misheard = await web.post(f"/api/incidents/{single}/registration", json={"reason": "工单号听错",
                                                                                 "ticket_no": "WO-17"})
        assert misheard.status_code == 422 and "ticket_no: 'WO-17' is not a hotline_95598 number" in misheard.text
        corrected = f"2027{uuid.uuid4().int % 10 ** 12:012d}"
        amended = await web.post(f"/api/incidents/{single}/registration", json={"reason": "工单号听错",
                                                                                "ticket_no": corrected})
        assert amended.status_code == 200, amended.text
    cli_env = dev_setup.process_env()
    refused = await run_cli(cli_env, "start", "--hall", "xicheng", "--headcount", "20", "--lead-name", "张三",
                            "--lead-phone", "13800138111", "--summary", "电量异常", "--as", clerk)
    assert refused.returncode == 2 and refused.stderr.strip().count("\n") == 0, refused.stderr
    assert "--as: 'li.qiang' may not start smart-meter-group-complaint at hall xicheng: it is started by guide" in refused.stderr

    # one closed incident of the same work order, archived
    start = make_start(lead_phone="13800138222", registration=work_order)
    t0 = datetime.now(timezone.utc) - timedelta(days=2)
    m = IncidentMachine.new(start, t0)
    for step, outcome_name in (("move_to_vip_room", "done"), ("keep_order", "done"), ("talk_with_lead", "accepted")):
        m.finish(step, outcome_name, HALL_LEAD, "", t0 + timedelta(minutes=5))
    m.close_incident(t0 + timedelta(hours=1), "answered")
    db = open_database(settings)
    append(db, settings.hash_key(), build_record(start, m.state, "run", settings.hash_key()))
    with db.read() as c:
        row = c.execute(select(archive_records.c.channel, archive_records.c.ticket_no, archive_records.c.ticket_key)
                        .where(archive_records.c.incident_id == start.incident_id)).one()
    assert (row.channel, row.ticket_no) == ("hotline_95598", ticket) and row.ticket_key and ticket not in row.ticket_key

    deadline = asyncio.get_running_loop().time() + 60
    while True:  # visibility trails the workflows by a moment
        listed = await run_cli(cli_env, "list", "--ticket-no", ticket, "--json")
        assert listed.returncode == 0, listed.stderr
        found = {r["id"]: r for r in json.loads(listed.stdout)}
        if group in found and single not in found or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.5)
    assert set(found) == {group, start.incident_id}  # the single complaint's number was corrected
    assert found[start.incident_id]["status"] == "closed" and found[start.incident_id]["archived"]
    wrong = await run_cli(cli_env, "list", "--ticket-no", ticket, "--channel", "gov_12345", "--json")
    assert wrong.returncode == 0 and json.loads(wrong.stdout) == []
    async with signed_in(app, HALL_LEAD) as lead:
        row = 'href="/incidents/{}"'.format  # a row of the board (an id also stands in a repeat's flag)
        board = (await lead.get(f"/?ticket={ticket}")).text
        assert row(group) in board and row(single) not in board
        async def by_corrected() -> str | None:  # the amended number is re-published; the old one no longer finds it
            page = (await lead.get(f"/?ticket={corrected}")).text
            return page if row(single) in page else None

        board = await until(by_corrected, "the corrected number does not find the incident", 20)
        assert row(single) in board and row(group) not in board
        other = (await lead.get("/?ticket=99999999")).text
        assert row(group) not in other and row(single) not in other
        assert (await lead.get("/?ticket=a%20b")).status_code == 400
        api = (await lead.get("/api/incidents", params={"ticket_no": ticket})).json()  # the API finds what list does
        assert {r["id"] for r in api} == {group, start.incident_id} and any(r.get("archived") for r in api)
        assert (await lead.get("/api/incidents", params={"ticket_no": ticket, "channel": "gov_12345"})).json() == []
        for params, field in (({"ticket_no": "a b"}, "ticket_no"), ({"ticket_no": "WO-17", "channel": "hotline_95598"},
                              "ticket_no"), ({"ticket_no": ticket, "channel": "fax"}, "channel"),
                              ({"channel": "hotline_95598"}, "channel")):
            bad = await lead.get("/api/incidents", params=params)
            assert bad.status_code == 422 and bad.json()["detail"].startswith(f"{field}: "), (params, bad.text)
    day = t0.astimezone(timezone(timedelta(hours=8))).date()
    report = await run_cli(cli_env, "report", "--from", str(day), "--to", str(day), "--json")
    assert report.returncode == 0, report.stderr
    assert {"channel": "hotline_95598", "incidents": 1} in json.loads(report.stdout)["by_channel"]
