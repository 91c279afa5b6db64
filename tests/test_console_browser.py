"""The console in a real browser: Debian's chromium driven by Playwright.

A hall lead starts a drill and records the first steps; the director approves from the
approvals inbox; the operator's board, open the whole time, shows the change without a reload.
"""

from __future__ import annotations

import asyncio
import socket
import uuid

import pytest
import pytest_asyncio
import uvicorn
from playwright.async_api import async_playwright, expect
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from groupdesk.binaries import temporal_cli
from groupdesk.config import REPO_ROOT, Settings
from groupdesk.web.app import create_app
from worker import build_worker
from workflows import search_attributes as sa

pytestmark = [pytest.mark.devserver, pytest.mark.browser]
CHROMIUM = "/usr/bin/chromium"
SHOTS = REPO_ROOT / "test-output" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest_asyncio.fixture
async def site(tmp_path):
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=str(temporal_cli()),
                                                search_attributes=sa.ALL, data_converter=pydantic_data_converter)
    settings = Settings(GROUPDESK_DATA_DIR=tmp_path, GROUPDESK_TASK_QUEUE=f"ui-{uuid.uuid4().hex[:6]}",
                        GROUPDESK_DEV_MODE="true")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, client=env.client), host="127.0.0.1", port=port,
                                           log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    async with build_worker(env.client, settings):
        yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await serving
    await env.shutdown()


async def sign_in(browser, base: str, person: str, **context):
    ctx = await browser.new_context(**context)
    page = await ctx.new_page()
    await page.goto(f"{base}/login")
    await page.fill("input[name=person]", person)
    await page.fill("input[name=password]", "groupdesk-demo")
    await page.click("form.card button")
    await page.wait_for_url(f"{base}/")
    return page


async def record(page, step: str, outcome: str) -> None:
    await page.click(f"#act-{step} button[data-outcome={outcome}]")
    await page.wait_for_load_state()


async def test_lead_starts_director_approves_operator_watches(site):
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        board = await sign_in(browser, site, "lin.yue")  # the operator, watching from the start
        await expect(board.locator("#board tbody")).to_contain_text("暂无")

        lead = await sign_in(browser, site, "sun.li", viewport={"width": 390, "height": 844})  # a phone
        await lead.goto(f"{site}/incidents/new")
        await lead.fill("input[name=headcount]", "1")
        await lead.click("#start-button")
        await expect(lead.locator("#headcount-error")).to_be_visible()  # inline, names the field
        await lead.fill("input[name=headcount]", "18")
        await lead.fill("input[name=lead_name]", "张建国")
        await lead.fill("input[name=lead_phone]", "13800138000")
        await lead.fill("textarea[name=summary]", "智能电表换装后电量异常增长")
        await lead.fill("input[name=time_scale]", "")
        await lead.click("#start-button")
        await lead.wait_for_url("**/incidents/xicheng-*")
        incident = lead.url.rsplit("/", 1)[1]
        await expect(lead.locator("#act-move_to_vip_room")).to_contain_text("参考话术")
        await lead.screenshot(path=str(SHOTS / "incident-phone.png"), full_page=True)

        row = board.locator(f"#board tr[data-id='{incident}']")
        await expect(row).to_be_visible(timeout=5000)  # pushed to the open board, no reload
        await record(lead, "move_to_vip_room", "done")
        await record(lead, "keep_order", "done")
        await record(lead, "talk_with_lead", "not_accepted")
        await expect(row.locator(".flags")).to_contain_text("待审批", timeout=5000)

        director = await sign_in(browser, site, "wang.jun")
        await director.goto(f"{site}/approvals")
        await expect(director.locator(f".card[data-id='{incident}']")).to_be_visible(timeout=5000)
        await director.click(f".card[data-id='{incident}'] button[value=approve]")
        await director.wait_for_url(f"**/incidents/{incident}")
        await expect(director.locator("#tier")).to_have_text("3")

        await expect(row.locator(".tier")).to_have_text("3", timeout=5000)
        await expect(row.locator(".stage")).to_have_text("metering_explanation")
        await board.screenshot(path=str(SHOTS / "board.png"), full_page=True)
        await director.screenshot(path=str(SHOTS / "incident.png"), full_page=True)
        await director.goto(f"{site}/playbooks/smart-meter-group-complaint")
        await expect(director.locator("svg.diagram g.step")).to_have_count(7)
        await director.screenshot(path=str(SHOTS / "playbook.png"), full_page=True)
        await browser.close()
    assert all((SHOTS / name).stat().st_size > 10_000 for name in
               ("board.png", "incident.png", "playbook.png", "incident-phone.png"))
