"""Evidence from a phone (390 px, Debian's chromium): the hall's guard photographs the meter from the incident page,
the photo is listed with a download link and stored without its GPS; a GIF and a polyglot are refused with one
line; the page passes every console check. Screenshots with GROUPDESK_SCREENSHOTS=docs/screenshots."""

from __future__ import annotations

import io

import pytest
import pytest_asyncio
from PIL import Image
from playwright.async_api import expect

import evidence_files as files
from groupdesk.record.attachments import Attachments
from groupdesk.record.evidence_check import sha256
from groupdesk.record.evidence_store import store_for
from groupdesk.storage import open_database
from helpers import quiet_port, setup_for, start, state as query_state
from test_console_browser import SHOTS, SIZES, check_page, sign_in
from test_evidence_doors import request_for
from web_helpers import serving
from worker import build_worker

pytestmark = [pytest.mark.devserver, pytest.mark.browser]


@pytest_asyncio.fixture
async def served(dev_env, tmp_path):
    port = quiet_port()
    settings = setup_for(tmp_path, queue="evb").settings
    async with serving(settings, dev_env.client, port) as url, build_worker(dev_env.client, settings):
        handle = await start(dev_env, settings, request_for())
        yield url, settings, handle
        await handle.terminate("test over")


async def test_a_meter_photo_from_a_phone(served, browser):
    base, settings, handle = served
    photo = files.photo_jpeg()
    page = await sign_in(browser, base, "qian.lei", "phone")  # the hall's security guard, on a phone
    await page.goto(f"{base}/incidents/{handle.id}")
    picker = page.get_by_label("拍照或选择文件")
    assert await picker.get_attribute("accept") == "image/*,application/pdf"
    assert await picker.get_attribute("capture") is not None  # the phone opens its camera
    await picker.set_input_files([{"name": "电表照片.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    async with page.expect_navigation():
        await page.click("#attach-form button")
    await expect(page.locator(".flash")).to_contain_text("已上传")
    item = page.locator("#evidence-list li")
    await expect(item).to_have_count(1)
    await expect(item).to_contain_text("电表照片.jpg")
    await expect(item).to_contain_text("钱磊")

    for name, data, says in (("动图.jpg", files.gif(), "a GIF is not accepted"),
                             ("电表2.jpg", files.polyglots()["jpeg+zip"], "(a polyglot file)")):
        await picker.set_input_files([{"name": name, "mimeType": "image/jpeg", "buffer": data}])
        async with page.expect_navigation():
            await page.click("#attach-form button")
        flash = page.locator(".flash")
        await expect(flash).to_contain_text(says)
        assert "\n" not in await flash.inner_text()
    await expect(item).to_have_count(1)  # nothing of the refused files was kept
    await page.goto(f"{base}/incidents/{handle.id}")
    await check_page(page, "incident-evidence", [handle.id])
    await page.set_viewport_size(SIZES["phone"])
    await page.locator("#attachments").screenshot(path=str(SHOTS / "incident-evidence-section-phone.png"))

    async with page.expect_download() as downloading:
        await item.locator("a").click()
    saved = await (await downloading.value).path()
    with open(saved, "rb") as got:
        stored = got.read()
    row = Attachments(open_database(settings), store_for(settings)).list(handle.id)[0]
    assert row["original_sha256"] == sha256(photo) and row["stored_sha256"] == sha256(stored)
    assert Image.open(io.BytesIO(stored)).getexif().get_ifd(0x8825) == {}  # no GPS in what anyone downloads


async def test_a_finding_from_a_phone(served, browser):
    """有效投诉的认定 from the incident page on a 390 px phone: the hall lead records a founded finding (who, which
    unit, the cause from the list), the page shows it awaiting the director's review; the page passes every check."""
    base, settings, handle = served
    page = await sign_in(browser, base, "sun.li", "phone")
    await page.goto(f"{base}/incidents/{handle.id}")
    section = page.locator("#finding")
    await expect(section.locator("#finding-needed")).to_contain_text("办结前须认定")
    await expect(page.locator("#finding-box")).to_have_attribute("open", "")  # needed: open at once
    await page.get_by_label("有效投诉(属实)").check()
    await page.get_by_label("投诉原因").select_option(label="电能计量")
    await page.get_by_label("责任人(工号,逗号分隔)").fill("feng.tao")
    await page.get_by_label("责任单位").select_option(value="xicheng")
    await page.get_by_label("认定依据").fill("换表后未告知客户新表起码,电量核算有误")
    await page.set_viewport_size({"width": 390, "height": 844})
    await section.screenshot(path=str(SHOTS / "incident-finding-form-phone.png"))
    async with page.expect_navigation():
        await page.click("#finding-save")
    await expect(page.locator("#finding-founded-value")).to_contain_text("有效投诉")
    await expect(page.locator("#finding-cause-value")).to_have_text("电能计量")
    await expect(page.locator("#finding-people-value")).to_contain_text("冯涛")
    await expect(page.locator("#finding-awaiting")).to_contain_text("客户中心主任审核")
    await check_page(page, "incident-finding", [handle.id])
    await page.set_viewport_size(SIZES["phone"])
    await section.screenshot(path=str(SHOTS / "incident-finding-phone.png"))
    found = (await query_state(handle)).finding
    assert (found.founded, found.cause, found.responsible_people, found.responsible_unit, found.recorded_by) == (
        "yes", "metering", ["feng.tao"], "xicheng", "sun.li")
