"""The console's pages over HTTP: a whole drill from forms alone, CSRF, 403s, language, phone simulator."""

from __future__ import annotations

import re

import httpx
import pytest
import pytest_asyncio

from groupdesk.runtime.config import REPO_ROOT, Settings
from groupdesk.drills.smart_meter import wait_for
from groupdesk.core.models import IncidentState
from groupdesk.web.app import create_app
from groupdesk.playbooks.loader import find_playbook
from helpers import TEST_PASSWORD, ahead, approval_code_by_sms, patient_follow_ups
from web_helpers import identifier_pattern
from worker import build_worker
from workflows.group_incident import GroupIncidentWorkflow as WF

pytestmark = pytest.mark.devserver


@pytest_asyncio.fixture
async def app(dev_env, dev_setup, tmp_path):
    settings = dev_setup.but(GROUPDESK_PLAYBOOKS_DIR=patient_follow_ups(tmp_path)).settings
    async with build_worker(dev_env.client, settings):  # as `groupdesk dev` serves it: the phone simulator too
        yield dev_env, create_app(settings, client=dev_env.client, dev=True)


def settings_of(site) -> Settings:
    return site.state.services.settings


class Browser:
    """A cookie-keeping client that submits forms the way a browser does."""

    def __init__(self, app):
        self.web = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        self.csrf = ""

    async def get(self, path: str) -> httpx.Response:
        response = await self.web.get(path, follow_redirects=True)
        if found := re.search(r'name="csrf_token" value="([^"]+)"', response.text):
            self.csrf = found.group(1)
        return response

    async def post(self, path: str, data: dict, csrf: bool = True) -> httpx.Response:
        return await self.web.post(path, data={**data, **({"csrf_token": self.csrf} if csrf else {})})

    async def sign_in(self, person: str) -> "Browser":
        await self.get("/login")
        response = await self.post("/login", {"person": person, "password": TEST_PASSWORD})
        assert response.status_code == 303, response.text
        await self.get("/")
        return self


IDENTIFIER = identifier_pattern(find_playbook(REPO_ROOT / "playbooks", "smart-meter-group-complaint"))


def assert_reads_in_words(html: str, incident: str) -> None:
    """The page's text (tags, scripts and attributes dropped) names no step, outcome, role, hall, state or event id."""
    text = re.sub(r"<(script|style)\b.*?</\1>|<[^>]+>", " ", html, flags=re.S).replace(incident, "")
    assert not IDENTIFIER.findall(text), sorted(set(IDENTIFIER.findall(text)))


async def test_a_drill_from_the_pages_alone(app):
    env, site = app
    lead = await Browser(site).sign_in("sun.li")
    form = await lead.get("/incidents/new")
    token = re.search(r'name="submit_token" value="([^"]+)"', form.text).group(1)
    for asked in ('name="category"', 'name="complainant_type"', 'name="address"', 'name="account_no"',
                  'name="demands"', 'name="media_present"'):  # the registration, optional
        assert asked in form.text
    started = await lead.post("/incidents", {"submit_token": token, "hall": "xicheng", "headcount": "20",
                                             "lead_name": "张建国", "lead_phone": "13800138000", "summary": "电量异常",
                                             "playbook": "smart-meter-group-complaint", "drill": "on",
                                             "time_scale": "200000", "category": "business",
                                             "complainant_type": "authority", "account_no": "0101234567",
                                             "media_present": "on"})
    assert started.status_code == 303
    incident = started.headers["location"].rsplit("/", 1)[1]
    handle = env.client.get_workflow_handle(incident, result_type=IncidentState)

    async def act(browser, path, data):
        response = await browser.post(f"/incidents/{incident}/{path}", data)
        assert response.status_code == 303 and response.headers["location"] == f"/incidents/{incident}"
        page = await browser.get(f"/incidents/{incident}")
        assert "class=\"flash\"" not in page.text, re.search(r'class="flash"[^>]*>([^<]*)', page.text).group(1)
        return page

    await lead.get(f"/incidents/{incident}")
    await act(lead, "outcome", {"step": "move_to_vip_room", "outcome": "done"})
    await act(lead, "outcome", {"step": "keep_order", "outcome": "done"})
    await act(lead, "outcome", {"step": "talk_with_lead", "outcome": "not_accepted", "note": "要求换回机械表"})
    director = await Browser(site).sign_in("wang.jun")
    await director.get(f"/incidents/{incident}")
    page = await act(director, "approval", {"decision": "approve"})
    assert 'data-tier="3"' in page.text and "三级预警" in page.text
    assert 'id="act-warning-plan"' in page.text and "升级为二级预警" in page.text, "the director may raise or end it"
    assert 'id="act-warning-plan"' not in (await lead.get(f"/incidents/{incident}")).text
    page = await act(director, "outcome", {"step": "warning_plan", "outcome": "raise", "note": "群众情绪激动"})
    assert 'data-tier="2"' in page.text and "结束二级预警预案" in page.text
    await act(lead, "outcome", {"step": "metering_explanation", "outcome": "not_accepted"})
    await wait_for(handle, lambda s: s.steps["metrology_calibration"].deadline_at is not None)
    calibration_at = ahead()
    await act(lead, "outcome", {"step": "metrology_calibration", "outcome": "scheduled",
                                "data_calibration_at": calibration_at.strftime("%Y-%m-%dT%H:%M")})
    await act(lead, "outcome", {"step": "metrology_calibration", "outcome": "meter_accurate"})
    await wait_for(handle, lambda s: s.follow_up is not None and s.follow_up.sent)
    page = await lead.get(f"/incidents/{incident}")
    assert 'id="act-follow-up"' in page.text
    assert_reads_in_words(page.text, incident)
    await act(lead, "follow-up", {"score": "5", "comment": "满意"})
    final = await handle.result()
    assert final.status == "closed" and final.follow_up.score == 5
    assert (final.registration.category, final.registration.complainant_type, final.registration.account_no,
            final.registration.media_present, final.registration.address) == (
        "business", "authority", "0101234567", True, "")
    appointment = [e for e in final.timeline if e.kind == "recorded"][0]
    assert calibration_at.isoformat() in appointment.detail, "a time typed in the page is Asia/Shanghai"
    page = await lead.get(f"/incidents/{incident}")
    assert "已办结" in page.text and "act-" not in page.text
    assert_reads_in_words(page.text, incident)
    assert page.text.index("发起事件") < page.text.index("回访已答复"), "the timeline reads oldest first"


async def test_forms_need_csrf_and_rights(app):
    env, site = app
    lead = await Browser(site).sign_in("sun.li")
    started = await lead.web.post("/api/incidents", headers={"X-CSRF-Token": lead.csrf}, json={
        "hall": "xicheng", "headcount": 9, "lead_name": "李", "lead_phone": "13700137000", "summary": "电费"})
    incident = started.json()["id"]
    handle = env.client.get_workflow_handle(incident)
    await wait_for(handle, lambda s: len(s.deliveries) >= 4)
    before = len((await handle.query(WF.state)).timeline)

    no_token = await lead.post(f"/incidents/{incident}/outcome", {"step": "keep_order", "outcome": "done"},
                               csrf=False)
    assert no_token.status_code == 403
    operator = await Browser(site).sign_in("lin.yue")
    page = await operator.get(f"/incidents/{incident}")
    assert page.status_code == 200 and 'action="/incidents/' not in page.text.split("timeline")[0]
    refused = await operator.post(f"/incidents/{incident}/outcome", {"step": "keep_order", "outcome": "done"})
    assert refused.status_code == 403 and "<h1>403</h1>" in refused.text
    other_hall = await Browser(site).sign_in("wu.fang")
    assert (await other_hall.get(f"/incidents/{incident}")).status_code == 403
    assert (await operator.get("/failed")).status_code == 403
    assert len((await handle.query(WF.state)).timeline) == before, "nothing changed"


async def test_english_switch_and_sign_in_redirect(app):
    _, site = app
    anonymous = Browser(site)
    response = await anonymous.web.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    lead = await Browser(site).sign_in("sun.li")
    assert "事件看板" in (await lead.get("/")).text
    await lead.web.get("/lang/en")
    board = await lead.get("/")
    assert "Live board" in board.text and "事件看板" not in board.text
    wrong = await Browser(site).get("/login")
    assert wrong.status_code == 200


async def test_phone_simulator_approves_through_the_sms_reply_logic(app):
    env, site = app
    lead = await Browser(site).sign_in("sun.li")
    started = await lead.web.post("/api/incidents", headers={"X-CSRF-Token": lead.csrf}, json={
        "hall": "xicheng", "headcount": 9, "lead_name": "王", "lead_phone": "13600136000", "summary": "电费"})
    incident = started.json()["id"]
    handle = env.client.get_workflow_handle(incident)
    for step, person in (("move_to_vip_room", "zhao.min"), ("keep_order", "qian.lei")):
        await lead.web.post("/api/incidents/" + incident + "/outcomes", headers={"X-CSRF-Token": lead.csrf},
                            json={"step": step, "outcome": "done"})
    await lead.web.post(f"/api/incidents/{incident}/outcomes", headers={"X-CSRF-Token": lead.csrf},
                        json={"step": "talk_with_lead", "outcome": "not_accepted"})
    code = await approval_code_by_sms(env.client, settings_of(site), incident)
    director = await Browser(site).sign_in("ma.ning")  # the simulator is for ops: it replies as anyone
    phone = await director.get("/phone")
    assert code in phone.text, "the director's simulated phone shows the code"
    assert code not in (await director.get(f"/incidents/{incident}")).text, "only the phone shows it"
    reply = await director.post("/phone/reply", {"phone": "+8613900000301", "body": f"同意 {code}"})
    assert reply.status_code == 303
    assert "已同意" in (await director.get("/phone")).text
    assert (await handle.query(WF.state)).warning_tier == 3
