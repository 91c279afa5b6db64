"""The console in a real browser (Debian's chromium via Playwright), on a phone (390×844) and a desk (1280×800).

A hall lead starts a drill from her phone and records the first steps; the page then says who must
act (the director, by name) and until when. Every page is checked at both sizes: no sideways
scrolling, nothing overflowing its box, no playbook or state identifier in the Chinese text, every
control named, text contrast at WCAG AA. The director approves from the inbox with one tap and a
confirmation; the operator's board, open the whole time, follows without a reload.

Screenshots go to test-output/screenshots, or to GROUPDESK_SCREENSHOTS (docs/screenshots for the README).
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import expect

from fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from groupdesk.runtime.config import REPO_ROOT
from groupdesk.core.models import IncidentState
from groupdesk.playbooks.loader import find_playbook
from groupdesk.core.workcal import format_local
from helpers import TEST_PASSWORD, quiet_port, setup_for
from web_helpers import identifier_pattern, serving
from worker import build_worker
from workflows.group_incident import GroupIncidentWorkflow as WF

pytestmark = [pytest.mark.devserver, pytest.mark.browser]
SHOTS = Path(os.environ.get("GROUPDESK_SCREENSHOTS") or REPO_ROOT / "test-output" / "screenshots")
REFUSED = "+8613900000201"  # zhou.jie, guide at Dongcheng
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}

PLAYBOOK = find_playbook(REPO_ROOT / "playbooks", "smart-meter-group-complaint")
IDENTIFIER = identifier_pattern(PLAYBOOK)

ZH_TEXT_JS = """() => {  // the visible text, less passages marked as another language (an English SMS, the language switch)
  const other = [...document.querySelectorAll('[lang]:not(html)')].filter(el => el.lang !== 'zh-CN');
  const saved = other.map(el => el.style.display);
  other.forEach(el => { el.style.display = 'none'; });
  const text = document.body.innerText;
  other.forEach((el, i) => { el.style.display = saved[i]; });
  return text;
}"""

LAYOUT_JS = """() => {
  const vw = document.documentElement.clientWidth, problems = [];
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && el.className.baseVal === undefined ? '.' + String(el.className).trim().replace(/\\s+/g, '.') : '');
  if (document.documentElement.scrollWidth > vw) problems.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + vw);
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
    if (el.closest('dialog:not([open])')) continue;
    const cs = getComputedStyle(el), r = el.getBoundingClientRect();
    if (cs.display === 'none' || cs.visibility === 'hidden' || (r.width === 0 && r.height === 0)) continue;
    if (r.right > vw + 1 || r.left < -1) problems.push(name(el) + ' is cut off: ' + Math.round(r.left) + '..' + Math.round(r.right));
    if (['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName)) continue;
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) problems.push(name(el) + ' overflows its box: ' + el.scrollWidth + ' > ' + el.clientWidth);
  }
  return problems;
}"""

A11Y_JS = """() => {
  const problems = [];
  const named = el => (el.getAttribute('aria-label') || '').trim() || (el.getAttribute('aria-labelledby') && document.getElementById(el.getAttribute('aria-labelledby'))?.textContent.trim())
    || (el.labels && [...el.labels].some(l => l.textContent.trim())) || (el.getAttribute('title') || '').trim();
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) if (!named(el)) problems.push('unlabelled ' + el.outerHTML.slice(0, 80));
  for (const el of document.querySelectorAll('button, a[href]')) if (!(el.textContent.trim() || named(el))) problems.push('nameless ' + el.outerHTML.slice(0, 80));
  for (const el of document.querySelectorAll('[tabindex]')) if (+el.getAttribute('tabindex') > 0) problems.push('tabindex > 0 breaks the focus order: ' + el.outerHTML.slice(0, 60));
  const rgb = s => { const m = s.match(/[\\d.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const backgroundOf = el => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.a > 0.5) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg') || el.closest('dialog:not([open])')) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    if (!own || r.width === 0 || cs.visibility === 'hidden') continue;
    const fg = lum(rgb(cs.color)), bg = lum(backgroundOf(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const large = parseFloat(cs.fontSize) >= 24 || (parseFloat(cs.fontSize) >= 18.6 && +cs.fontWeight >= 700);
    if (ratio < (large ? 3 : 4.5)) problems.push('contrast ' + ratio.toFixed(2) + ' for "' + el.textContent.trim().slice(0, 30) + '" (' + cs.color + ' on ' + JSON.stringify(backgroundOf(el)) + ')');
  }
  return problems;
}"""


@pytest_asyncio.fixture(scope="module")
async def site(dev_env, tmp_path_factory, make_httpserver):
    """One console and one worker for the module, on the module's dev server; SMS through the fake Twilio,
    which refuses the Dongcheng guide's number (so ops has a failed action to see)."""
    make_httpserver.clear()  # pytest-httpserver's `httpserver` clears before a test, not after: drop the last one's fakes
    fake = FakeTwilio(make_httpserver).install()
    fake.refuse[REFUSED] = (400, 21211, "The 'To' number is not a valid phone number.")
    port = quiet_port()
    settings = setup_for(tmp_path_factory.mktemp("console"), dev_env, queue="ui", GROUPDESK_SMS_PROVIDER="twilio",
                         TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_FROM_NUMBER=FROM_NUMBER,
                         GROUPDESK_TWILIO_API_BASE=fake.base_url, GROUPDESK_PUBLIC_URL=f"http://127.0.0.1:{port}",
                         GROUPDESK_TWILIO_TIMEOUT="2").settings
    async with serving(settings, dev_env.client, port) as url, build_worker(dev_env.client, settings):
        yield dev_env, url
    make_httpserver.clear()


async def sign_in(browser, base: str, person: str, size: str = "desktop"):
    ctx = await browser.new_context(viewport=SIZES[size])
    page = await ctx.new_page()
    await page.goto(f"{base}/login")
    await page.get_by_label("工号").fill(person)
    await page.get_by_label("密码").fill(TEST_PASSWORD)
    await page.click("form.card button")
    await page.wait_for_url(f"{base}/")
    return page


async def check_page(page, name: str, incident_ids: list[str]) -> None:
    """At both sizes: fits, reads without identifiers, every control named, contrast AA; a screenshot each."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, viewport in SIZES.items():
        await page.set_viewport_size(viewport)
        await page.wait_for_timeout(150)
        assert await page.evaluate(LAYOUT_JS) == [], f"{name} at {size}"
        text = await page.evaluate(ZH_TEXT_JS)
        for incident_id in incident_ids:
            text = text.replace(incident_id, "")
        found = sorted(set(IDENTIFIER.findall(text)))
        assert not found, f"{name} at {size} shows identifiers {found}"
        assert await page.evaluate(A11Y_JS) == [], f"{name} at {size}"
        height = min(await page.evaluate("() => document.documentElement.scrollHeight"), viewport["height"] * 3 // 2)
        await page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True,
                              clip={"x": 0, "y": 0, "width": viewport["width"], "height": height})


async def test_a_phone_and_a_desk_in_chinese_with_who_must_act(site, browser):
    env, base = site
    operator = await sign_in(browser, base, "lin.yue")  # the command centre's board, open the whole time
    await expect(operator.locator("#board tbody")).to_contain_text("暂无")

    anonymous = await (await browser.new_context(viewport=SIZES["phone"])).new_page()
    await anonymous.goto(f"{base}/login")
    await check_page(anonymous, "sign-in", [])
    await anonymous.keyboard.press("Tab")
    assert await anonymous.evaluate("() => document.activeElement.className") == "skip", "focus starts at skip-link"
    await anonymous.evaluate("""() => document.querySelector('main').insertAdjacentHTML('beforeend',
        '<div style="width:2000px">director_review</div><p style="color:#bbb">浅色</p><input name="x">')""")
    assert len(await anonymous.evaluate(LAYOUT_JS)) >= 2, "the checks see a page that scrolls sideways"
    assert IDENTIFIER.search(await anonymous.evaluate(ZH_TEXT_JS)), "... an identifier"
    assert len(await anonymous.evaluate(A11Y_JS)) == 2, "... poor contrast and an unlabelled input"

    lead = await sign_in(browser, base, "sun.li", "phone")
    await lead.goto(f"{base}/incidents/new")
    await expect(lead.locator("#playbook-choice")).to_contain_text("一位客户投诉")  # picked by situation, described
    await lead.get_by_label("智能电表集体投诉现场处置").check()
    await lead.get_by_label("来访人数").fill("1")  # one person is not a group: not for this playbook
    await lead.click("#start-button")
    await expect(lead.locator("#headcount-error")).to_contain_text("smart-meter-group-complaint")  # inline, beside it
    await check_page(lead, "start-form", [])
    await lead.get_by_label("来访人数").fill("18")
    await lead.get_by_label("领头人姓名").fill("张建国")
    await lead.get_by_label("领头人手机").fill("13800138000")
    await lead.get_by_label("投诉事由").fill("智能电表换装后电量异常增长")
    await lead.click("#start-button")
    await lead.wait_for_url("**/incidents/xicheng-*")
    incident = lead.url.rsplit("/", 1)[1]
    handle = env.client.get_workflow_handle(incident, result_type=IncidentState)

    first = lead.locator("#act-move_to_vip_room")
    await expect(first).to_contain_text("参考话术")
    await expect(first.locator("button[data-outcome=done]")).to_have_text("已引导至VIP室")  # from `actions`
    await check_page(lead, "incident-acting", [incident])

    # an incident elsewhere, on compressed time: overdue at once, so it heads the board in red
    other = await sign_in(browser, base, "wu.fang")
    csrf = await other.evaluate("() => document.querySelector('input[name=csrf_token]').value")
    started = await other.request.post(f"{base}/api/incidents", headers={"X-CSRF-Token": csrf}, data={
        "hall": "dongcheng", "headcount": 12, "lead_name": "李四", "lead_phone": "13700137000", "summary": "频繁停电",
        "drill": True, "time_scale": 100000})
    late = (await started.json())["id"]

    rows = operator.locator("#board tbody tr")
    await expect(operator.locator(f"#board tr[data-id='{late}']")).to_have_class(re.compile("overdue"), timeout=10000)
    await expect(rows.first).to_have_attribute("data-id", late)
    mine = operator.locator(f"#board tr[data-id='{incident}']")
    await expect(mine).to_have_class(re.compile("soon"))  # first steps are due within 5 minutes
    await expect(mine).to_contain_text("西城营业厅")
    await expect(mine.locator(".stage")).to_have_text("引导客户至VIP室、维持营业厅秩序")
    await expect(operator.locator("[data-count=open] b")).to_have_text("2")
    await expect(operator.locator("[data-count=overdue] b")).to_have_text("1")
    await expect(operator.locator("[data-count=failed] b")).to_have_text("1", timeout=30000)  # a loaded machine
    await expect(operator.locator(f"#board tr[data-id='{late}'] .flags")).to_contain_text("短信失败")

    for step, outcome in (("move_to_vip_room", "done"), ("keep_order", "done"), ("talk_with_lead", "not_accepted")):
        async with lead.expect_navigation():
            await lead.locator(f"#act-{step} button[data-outcome={outcome}]").click()
    waiting = lead.locator("#act-director_review")
    state = await handle.query(WF.state)
    deadline = state.steps["director_review"].deadline_at
    await expect(waiting.locator(".must-act")).to_have_text("王军")
    await expect(waiting).to_contain_text("客户中心主任")
    await expect(waiting.locator(".deadline")).to_have_text(format_local(deadline))
    await expect(waiting.locator(".ladder li").first).to_contain_text("短信提醒 王军")
    await expect(waiting.locator(".ladder li").nth(1)).to_contain_text("供电服务应急办值班室(市局供电服务应急办公室)")
    assert await waiting.locator("form").count() == 0, "the hall lead cannot decide"
    await expect(operator.locator("[data-count=approval] b")).to_have_text("1", timeout=10000)
    await expect(mine.locator(".flags")).to_contain_text("待审批")

    timeline = lead.locator("#timeline > li")
    await expect(timeline.first).to_contain_text("发起事件")  # reading order: oldest first
    await expect(lead.locator("#timeline li.sms").filter(has_text="审批请求")).to_contain_text(
        "王军(客户中心主任) +86 139****0301")
    await check_page(lead, "incident-waiting", [incident])
    await lead.goto(f"{base}/incidents/{incident}?step=talk_with_lead")
    await expect(timeline.first).to_be_visible()
    assert set(await lead.locator("#timeline .step-name").all_inner_texts()) == {"领头人单独谈话"}
    await lead.goto(f"{base}/lang/en")
    await lead.goto(f"{base}/incidents/{incident}")
    await expect(waiting).to_contain_text("Waiting for 王军(customer service centre director)")
    await expect(lead.locator("#timeline li.sms").filter(has_text="approval request")).to_contain_text("sent")

    await check_page(operator, "board", [incident, late])
    director = await sign_in(browser, base, "wang.jun", "phone")
    await director.goto(f"{base}/incidents/{incident}")
    await expect(director.locator("#act-director_review button[data-outcome=approved]")).to_be_visible()
    await check_page(director, "incident-director", [incident])
    await director.goto(f"{base}/approvals")
    card = director.locator(f".card[data-id='{incident}']")
    for _ in range(50):  # the inbox lists through visibility, which follows the workflow shortly after
        if await card.count():
            break
        await asyncio.sleep(0.2)
        await director.reload()
    await expect(card).to_contain_text(format_local(deadline))
    await expect(card.locator(".why")).to_have_text("领头人单独谈话: 客户不认可 · 孙丽")  # what led here
    await check_page(director, "approvals", [incident, late])
    await director.goto(f"{base}/playbooks")
    await check_page(director, "playbooks", [])
    await director.goto(f"{base}/playbooks/smart-meter-group-complaint")
    await expect(director.locator("svg.diagram g.step")).to_have_count(len(PLAYBOOK.steps))
    await check_page(director, "playbook", [])
    ops = await sign_in(browser, base, "ma.ning")  # the phone simulator is for ops (it replies as anyone)
    await ops.goto(f"{base}/phone")
    await check_page(ops, "phone-simulator", [incident, late])
    await ops.goto(f"{base}/failed")
    await expect(ops.locator("table.cards tbody tr").first).to_contain_text("号码无效")  # the reason, in words
    await expect(ops.locator("table.cards tbody tr").first).to_contain_text("引导客户至VIP室")
    await check_page(ops, "failed-actions", [incident, late])
    await ops.goto(f"{base}/incidents/{late}")
    await expect(ops.locator("#failed-actions button", has_text="重试").first).to_be_visible()
    await check_page(ops, "incident-ops", [late])

    await director.set_viewport_size(SIZES["phone"])
    await director.goto(f"{base}/approvals")
    await card.locator("button[data-outcome=approved]").click()  # one tap ...
    await expect(director.locator("#confirm")).to_be_visible()  # ... and a confirmation
    await director.click("#confirm-yes")
    await director.wait_for_url(f"**/incidents/{incident}")
    await expect(director.locator("#tier")).to_have_text("三级预警")
    await expect(mine.locator(".tier")).to_have_text("三级预警", timeout=10000)  # the board, without a reload
    await expect(mine.locator(".stage")).to_have_text("计量专业技术人员现场讲解")
    await expect(operator.locator("[data-count=tier3]")).to_have_text("1三级预警")
    await expect(operator.locator("[data-count=approval] b")).to_have_text("0")
    assert (await handle.query(WF.state)).warning_tier == 3
