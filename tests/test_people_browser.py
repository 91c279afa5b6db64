"""The people rules in a real browser on a phone (390×844): the start form asks for the person involved and the
complainant type; the incident page shows them, the owner and the type's extra 话术 at the talk; the person involved
reads why they cannot act and gets no buttons. Every page fits the phone, every control is named, contrast AA."""

from __future__ import annotations

import pytest
import pytest_asyncio
from playwright.async_api import expect

from helpers import quiet_port, setup_for
from web_helpers import serving
from test_console_browser import A11Y_JS, LAYOUT_JS, SIZES, sign_in
from worker import build_worker

pytestmark = [pytest.mark.devserver, pytest.mark.browser]


@pytest_asyncio.fixture(scope="module")
async def site(dev_env, tmp_path_factory):
    port = quiet_port()
    settings = setup_for(tmp_path_factory.mktemp("people"), dev_env, queue="people-ui").settings
    async with serving(settings, dev_env.client, port) as url, build_worker(dev_env.client, settings):
        yield url


async def fits_the_phone(page, name: str) -> None:
    await page.set_viewport_size(SIZES["phone"])
    await page.wait_for_timeout(100)
    assert await page.evaluate(LAYOUT_JS) == [], name
    assert await page.evaluate(A11Y_JS) == [], name


async def test_registration_person_involved_and_type_scripts_on_a_phone(site, browser):
    base = site
    lead = await sign_in(browser, base, "sun.li", "phone")
    await lead.goto(f"{base}/incidents/new")
    await lead.get_by_label("被投诉当事人(工号)").fill("sun.li")
    await lead.get_by_label("来访人数").fill("6")
    await lead.get_by_label("领头人姓名").fill("刘洋")
    await lead.get_by_label("领头人手机").fill("13600136000")
    await lead.get_by_label("投诉事由").fill("引导员态度生硬")
    await lead.click("#start-button")
    await expect(lead.locator("#person_involved-error")).to_contain_text("cannot start a complaint about themselves")
    await fits_the_phone(lead, "start form with the person involved refused")
    await lead.get_by_label("被投诉当事人(工号)").fill("zhao.min")
    await lead.get_by_label("投诉人类型").select_option("authority")
    await lead.click("#start-button")
    await lead.wait_for_url("**/incidents/xicheng-*")
    incident = lead.url.rsplit("/", 1)[1]
    await expect(lead.locator("#reg-person-involved")).to_have_text("赵敏")
    await expect(lead.locator("#owner")).to_have_text("孙丽")
    for step in ("move_to_vip_room", "keep_order"):  # the hall lead acts for the guide complained about
        async with lead.expect_navigation():
            await lead.locator(f"#act-{step} button[data-outcome]").first.click()
    await expect(lead.locator("#type-scripts-talk_with_lead")).to_contain_text("维护其自尊心")
    await fits_the_phone(lead, "incident with the registration and the type's scripts")

    them = await sign_in(browser, base, "zhao.min", "phone")
    await them.goto(f"{base}/incidents/{incident}")
    await expect(them.locator("#involved-you")).to_contain_text("更换当事人")
    assert await them.locator("button[data-outcome]").count() == 0
    await fits_the_phone(them, "incident as the person involved")
