"""Evidence from a phone (390 px, Debian's chromium): the hall's guard photographs the meter from the incident page,
the photo is listed with a download link and stored without its GPS; a GIF and a polyglot are refused with one
line; the page passes every console check. Screenshots with GROUPDESK_SCREENSHOTS=docs/screenshots."""

from __future__ import annotations

import io

import pytest
import pytest_asyncio
from PIL import Image
from playwright.async_api import async_playwright, expect

import evidence_files as files
from groupdesk.record.attachments import Attachments
from groupdesk.record.evidence_check import sha256
from groupdesk.record.evidence_store import store_for
from groupdesk.storage import open_database
from helpers import setup_for, start
from test_console_browser import CHROMIUM, CHROMIUM_ARGS, SHOTS, SIZES, check_page, free_port, sign_in
from test_evidence_doors import request_for
from web_helpers import serving
from worker import build_worker

pytestmark = [pytest.mark.devserver, pytest.mark.browser]


@pytest_asyncio.fixture
async def served(dev_env, tmp_path):
    port = free_port()
    settings = setup_for(tmp_path, queue="evb").settings
    async with serving(settings, dev_env.client, port) as url, build_worker(dev_env.client, settings):
        handle = await start(dev_env, settings, request_for())
        yield url, settings, handle
        await handle.terminate("test over")


async def test_a_meter_photo_from_a_phone(served):
    base, settings, handle = served
    photo = files.photo_jpeg()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
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
        await browser.close()
    row = Attachments(open_database(settings), store_for(settings)).list(handle.id)[0]
    assert row["original_sha256"] == sha256(photo) and row["stored_sha256"] == sha256(stored)
    assert Image.open(io.BytesIO(stored)).getexif().get_ifd(0x8825) == {}  # no GPS in what anyone downloads
