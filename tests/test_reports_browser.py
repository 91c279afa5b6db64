"""The report page in a real browser: fits a phone and a desk, reads without identifiers, passes the checks
every console page passes; screenshots with GROUPDESK_SCREENSHOTS=docs/screenshots."""

from __future__ import annotations

import io

import pytest_asyncio
from playwright.async_api import expect

from web_helpers import serving
from helpers import quiet_port
from test_console_browser import check_page, sign_in
from test_reports_page import archive_two


@pytest_asyncio.fixture
async def served(dev_env, dev_setup, make_start):
    port = quiet_port()
    settings = dev_setup.settings
    ids = archive_two(settings, make_start)
    async with serving(settings, dev_env.client, port) as url:
        yield url, ids


async def test_the_report_page_on_a_phone_and_a_desk(served, browser):
    base, ids = served
    page = await sign_in(browser, base, "wang.jun")
    await page.click("nav >> text=统计报告")
    await page.fill("input[name=start]", "2026-11-01")
    await page.fill("input[name=end]", "2026-11-30")
    await page.click("form.filters button")
    await page.wait_for_url(f"{base}/reports?start=2026-11-01&end=2026-11-30*")
    assert await page.locator("svg.chart").count() == 8  # by hall, week, category, channel; time and deadlines missed per step; satisfaction; cause
    await check_page(page, "reports", ids)


async def test_a_city_manager_reads_the_city_on_a_phone_and_downloads_it(served, browser):
    base, ids = served
    page = await sign_in(browser, base, "he.ping", "phone")  # city_service_manager of 示例市供电公司
    await page.goto(f"{base}/reports?start=2026-11-01&end=2026-11-30")
    rows = page.locator("#rollup tbody tr")
    await expect(rows).to_have_count(4)  # the city, its centre, the centre's two halls
    await expect(rows.first).to_contain_text("示例市供电公司")
    await expect(page.locator("select[name=unit] option[selected]")).to_have_text("示例市供电公司")
    assert await page.locator("svg.chart").count() == 9  # the roll-up's chart besides the eight
    await check_page(page, "reports-city", ids)
    async with page.expect_download() as downloading:
        await page.click("#xlsx")
    sheet = await downloading.value
    assert sheet.suggested_filename == "groupdesk-capital-city-2026-11-01-2026-11-30.xlsx"
    from openpyxl import load_workbook

    with open(await sheet.path(), "rb") as got:
        book = load_workbook(io.BytesIO(got.read()))
    assert book["各级汇总"]["B2"].value == "示例市供电公司" and book["各级汇总"]["E2"].value == 2
