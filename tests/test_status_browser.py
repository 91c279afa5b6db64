"""The complainant's status page in Chromium on a 390 px phone: opened from the link in their SMS, it fits the phone
(every control named, contrast AA) and leaks nothing (no staff name, no other complainant's matter, no incident id,
no internal identifier); once the survey is due the 回访 is answered there and closes the incident; a wrong link
gets the same 404. Screenshots (GROUPDESK_SCREENSHOTS=docs/screenshots for the README): status-page-*.png."""

from __future__ import annotations

import re

import pytest
import pytest_asyncio
from playwright.async_api import expect

from evidence_files import photo_jpeg
from groupdesk.core.models import RecordOutcome
from groupdesk.core.tell import TellComplainant
from groupdesk.drills.smart_meter import wait_for
from groupdesk.incidents.gateway import Gateway, Incident
from groupdesk.messaging.outbox import Outbox
from groupdesk.people.permissions import acting_as
from helpers import quiet_port, setup_for, start, survey_sent
from machine_helpers import DIRECTORY
from test_console_browser import A11Y_JS, IDENTIFIER, LAYOUT_JS, SHOTS, SIZES, ZH_TEXT_JS
from web_helpers import serving
from worker import build_worker

pytestmark = [pytest.mark.devserver, pytest.mark.browser]
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]{22})")


@pytest_asyncio.fixture(scope="module")
async def site(dev_env, tmp_path_factory):
    port = quiet_port()  # the links the worker writes point at this console (no GROUPDESK_PUBLIC_URL: this machine's)
    settings = setup_for(tmp_path_factory.mktemp("status"), dev_env, queue="status-ui",
                         GROUPDESK_WEB_PORT=str(port)).settings
    async with serving(settings, dev_env.client, port) as url, build_worker(dev_env.client, settings):
        yield settings, url


async def _told(gateway, settings, incident: Incident) -> str:
    await gateway.tell(acting_as(DIRECTORY, "sun.li"), incident.id, TellComplainant(actor="sun.li", message="progress"))
    await wait_for(incident, lambda s: any("/tell/" in d.key for d in s.deliveries))
    return LINK.search(next(r.body for r in Outbox(settings).list(incident.id) if r.purpose == "tell")).group(1)


def _leaks(text: str, html: str, ids: list[str]) -> list[str]:
    found = [p.name for p in DIRECTORY.people if p.name in text] + [p.id for p in DIRECTORY.people if p.id in html]
    found += [i for i in ids if i in html] + [w for w in ("张建国", "13800138000", "另一位客户") if w in html]
    return found + IDENTIFIER.findall(text)


async def test_the_complainant_answers_the_survey_on_their_phone(site, dev_env, make_start, browser):
    settings, base = site
    gateway = Gateway(dev_env.client, settings)
    # a drill at 10,000 times speed: the survey goes out seconds after closing
    incident = Incident.of(await start(dev_env, settings, make_start(
        lead_phone="13800138000", drill=True, time_scale=10_000, registration={"demands": "核查电表并退还多收电费"})))
    other = Incident.of(await start(dev_env, settings, make_start(lead_phone="13900139000",
                                                                  summary="另一位客户的投诉内容")))
    link = await _told(gateway, settings, incident)
    await _told(gateway, settings, other)
    ids = [incident.id, other.id]
    page = await (await browser.new_context(viewport=SIZES["phone"], locale="zh-CN")).new_page()
    await page.goto(link)
    await expect(page.locator("#standing")).to_contain_text("我们正在处理您反映的问题")
    await expect(page.locator("#hall-phone")).to_have_text("010-6601 0001")
    assert await page.evaluate(LAYOUT_JS) == [] and await page.evaluate(A11Y_JS) == []
    assert _leaks(await page.evaluate(ZH_TEXT_JS), await page.content(), ids) == []
    await page.get_by_label("如有新的情况,请在此告诉我们").fill("家里电表箱已拍照,可随时上门查看")
    await page.get_by_label(re.compile("附上照片")).set_input_files(
        files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": photo_jpeg()}])
    await page.click("#send-info")
    await expect(page.locator("#notice")).to_have_text("您补充的信息已收到,我们会尽快处理。")
    listed = await gateway.evidence(acting_as(DIRECTORY, "sun.li"), incident.id)
    assert [(r["added_by"], r["media_type"]) for r in listed] == [("lead_complainant", "image/jpeg")]

    for step, outcome, actor in (("move_to_vip_room", "done", "zhao.min"), ("keep_order", "done", "qian.lei"),
                                 ("talk_with_lead", "accepted", "sun.li")):
        await incident.record_outcome(RecordOutcome(step=step, outcome=outcome, actor=actor))
    await survey_sent(incident)
    await page.goto(link)
    await expect(page.locator("#survey")).to_be_visible()
    assert await page.evaluate(LAYOUT_JS) == [] and await page.evaluate(A11Y_JS) == []
    assert _leaks(await page.evaluate(ZH_TEXT_JS), await page.content(), ids) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "status-page-survey-phone.png"), full_page=True)
    await page.get_by_text("5 分 · 非常满意").click()
    await page.get_by_label("意见或建议(选填)").fill("处理及时,态度很好")
    await page.click("#send-answer")
    await expect(page.locator("#notice")).to_have_text("感谢您的评价!")
    await expect(page.locator("#standing")).to_contain_text("您的问题已办结")
    await page.screenshot(path=str(SHOTS / "status-page-closed-phone.png"), full_page=True)
    final = await incident.result()
    assert final.follow_up.score == 5 and final.follow_up.comment == "处理及时,态度很好"
    assert [e.actor for e in final.timeline if e.kind in ("follow_up_answered", "complainant_info")] == \
        ["lead_complainant", "lead_complainant"]

    wrong = await page.goto(link[:-1] + ("A" if link[-1] != "A" else "B"))
    wrong_text = await wrong.text()
    unknown = await page.goto(f"{base}/s/" + "Z" * 22)
    assert (wrong.status, unknown.status) == (404, 404) and await unknown.text() == wrong_text
