"""Sign-in with WeCom in a real browser (Debian's chromium via Playwright) against the fake WeCom's OAuth page.

The director, who has no password at all, taps 企业微信登录 on a phone and lands signed in where the
link pointed (an approval card links to its incident page this way). A non-member is refused; a
callback URL carried to another browser (a login CSRF) signs no one in; sign-out ends the session.
"""

from __future__ import annotations

import re

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import expect

from fake_wecom import FakeWecom, settings_env
from helpers import accounts_file, quiet_port, setup_for
from test_console_browser import A11Y_JS, LAYOUT_JS, SIZES
from web_helpers import serving
from worker import build_worker

pytestmark = [pytest.mark.devserver, pytest.mark.browser]


@pytest_asyncio.fixture(scope="module")
async def site(dev_env, tmp_path_factory):
    fake = FakeWecom().start()
    data = tmp_path_factory.mktemp("wecom-sign-in")
    accounts = accounts_file(without=("wang.jun",))  # the director has no password
    port = quiet_port()
    settings = setup_for(data / "data", queue="wecom-ui", GROUPDESK_ACCOUNTS=accounts,
                         GROUPDESK_PUBLIC_URL=f"http://127.0.0.1:{port}", **settings_env(fake.base_url)).settings
    try:
        async with serving(settings, dev_env.client, port) as url, build_worker(dev_env.client, settings):
            yield url, fake
    finally:
        fake.stop()


def at(base: str, path: str) -> re.Pattern:
    """The page at `path`; WeCom's `#wechat_redirect` fragment may ride along through the redirects."""
    return re.compile(re.escape(base + path) + r"(#.*)?$")


async def phone(browser):
    context = await browser.new_context(viewport=SIZES["phone"])
    return context, await context.new_page()


async def test_the_director_signs_in_with_wecom_without_a_password(site, browser):
    base, fake = site
    fake.signing_in = {"userid": "WangJun"}
    context, page = await phone(browser)
    await page.goto(f"{base}/login")
    link = page.locator("#wecom-sign-in")
    await expect(link).to_have_text("企业微信登录")
    assert await page.evaluate(LAYOUT_JS) == [] and await page.evaluate(A11Y_JS) == []
    await link.click()
    await page.wait_for_url(at(base, "/"))
    await expect(page.locator(".who")).to_contain_text("王军")
    authorize = fake.calls("/connect/oauth2/authorize")[-1]["args"]
    assert authorize["scope"] == "snsapi_base" and authorize["redirect_uri"] == f"{base}/auth/wecom/callback"
    assert len(authorize["state"]) >= 32 and authorize["agentid"] == "1000002"
    assert fake.calls("auth/getuserinfo")[-1]["args"]["access_token"].startswith("tok-")

    await page.goto(f"{base}/approvals")  # the session holds: no second trip to WeCom
    await expect(page.locator(".who")).to_contain_text("王军")
    await page.locator("form[action='/logout'] button").click()
    await page.wait_for_url(at(base, "/login"))
    await page.goto(f"{base}/approvals")
    await page.wait_for_url(at(base, "/login"))
    await context.close()


async def test_a_card_link_signs_in_and_opens_the_page_it_names(site, browser):
    base, fake = site
    fake.signing_in = {"userid": "WuFang"}
    context, page = await phone(browser)
    await page.goto(f"{base}/auth/wecom?next=/approvals")
    await page.wait_for_url(at(base, "/approvals"))
    await expect(page.locator(".who")).to_contain_text("吴芳")
    await page.goto(f"{base}/auth/wecom?next=//evil.example.org/")  # never to another site
    await page.wait_for_url(at(base, "/"))
    await context.close()


async def test_a_non_member_is_refused(site, browser):
    base, fake = site
    fake.signing_in = {"openid": "oAbCdEf123456"}
    context, page = await phone(browser)
    await page.goto(f"{base}/login")
    await page.locator("#wecom-sign-in").click()
    await expect(page.locator("p.error")).to_contain_text("仅限本企业成员")
    assert await page.evaluate(LAYOUT_JS) == []
    await page.goto(f"{base}/approvals")
    await page.wait_for_url(at(base, "/login"))
    fake.signing_in = {"userid": "SomeoneElse"}  # a member WeCom knows, not in groupdesk's directory
    await page.locator("#wecom-sign-in").click()
    await expect(page.locator("p.error")).to_contain_text("不在员工名录中")
    await context.close()


async def test_a_callback_carried_to_another_browser_signs_no_one_in(site, browser):
    """Login CSRF: the attacker's own sign-in, stopped at the callback, opened in the victim's browser."""
    base, fake = site
    fake.signing_in = {"userid": "WangJun"}
    attacker, page = await phone(browser)
    started = await attacker.request.get(f"{base}/auth/wecom", max_redirects=0)  # the attacker's session and state
    to_wecom = started.headers["location"].split("#")[0]
    async with httpx.AsyncClient() as outside:  # WeCom sends the attacker back with a code: not followed
        back = (await outside.get(to_wecom)).headers["location"]
    assert "code=" in back and "state=" in back
    victim, other = await phone(browser)
    response = await other.goto(back)
    assert response.status == 400
    await expect(other.locator("p.error")).to_contain_text("不是从本页发起")
    await other.goto(f"{base}/approvals")
    await other.wait_for_url(at(base, "/login"))
    await page.goto(back)  # in the browser that started it, the same callback does sign in
    await page.wait_for_url(at(base, "/"))
    await expect(page.locator(".who")).to_contain_text("王军")
    await attacker.close()
    await victim.close()
