"""Issue 16 on the real dev server: the report's categories by week and its open incidents (Temporal's counts),
on the command line and the /reports page, checked against the incidents driven here; repeat complaints by the
same account number or community while the earlier incident is still open, with the reason told."""

from __future__ import annotations

import json
import random
import re
import uuid
from datetime import datetime, timezone

import pytest

from groupdesk.runtime.config import EXAMPLE_DIRECTORY
from groupdesk.people.directory import load_directory
from groupdesk.drills.smart_meter import staff_of, talk_accepted, wait_for
from groupdesk.core.workcal import LOCAL_TZ
from groupdesk.record.repeat_keys import match_keys, search_values
from groupdesk.web.app import create_app
from helpers import answer_follow_up, messages, run_cli as cli, start, state, visible
from web_helpers import signed_in
from worker import build_worker

pytestmark = pytest.mark.devserver
DRILL = dict(drill=True, time_scale=20_000.0)
STAFF = {hall: staff_of(load_directory(EXAMPLE_DIRECTORY), hall) for hall in ("xicheng", "dongcheng")}


def phone() -> str:
    return f"+86138{random.randint(10_000_000, 99_999_999)}"


def incident(make_start, hall: str = "xicheng", **registration):
    lead = {"xicheng": "sun.li", "dongcheng": "wu.fang"}[hall]
    return make_start(hall_id=hall, started_by=lead, lead_phone=phone(), registration=registration,
                      incident_id=f"i16-{uuid.uuid4().hex[:10]}", **DRILL)


async def test_the_report_counts_categories_by_week_and_the_open_incidents(dev_env, dev_setup, make_start):
    """Runs first in this module: the open incidents the server holds are the two left open here."""
    settings = dev_setup.settings
    today = datetime.now(timezone.utc).astimezone(LOCAL_TZ)
    week = "{}-W{:02d}".format(*today.isocalendar()[:2])
    async with build_worker(dev_env.client, settings):
        for hall, registration, score in (("xicheng", {"category": "business"}, 5),
                                          ("dongcheng", {"category": "outage"}, 3), ("xicheng", {}, 4)):
            handle = await start(dev_env, settings, incident(make_start, hall, **registration))
            await talk_accepted(handle, STAFF[hall])
            await wait_for(handle, lambda st: st.follow_up is not None and st.follow_up.sent)
            await answer_follow_up(handle, score, STAFF[hall]["hall_lead"])
            await handle.result()  # closed and archived
        left_open = [await start(dev_env, settings, incident(make_start, "xicheng", category="business")),
                     await start(dev_env, settings, incident(make_start, "dongcheng"))]
        for handle in left_open:
            await visible(dev_env.client, f'WorkflowId = "{handle.id}"')

        period = ["--from", today.date().isoformat(), "--to", today.date().isoformat()]
        done = await cli(dev_setup.env, "report", *period, "--with-drills", "--json")
        assert done.returncode == 0, done.stderr
        got = json.loads(done.stdout)
        assert got["totals"]["incidents"] == 3
        assert got["by_category"] == [{"category": "business", "incidents": 1}, {"category": "none", "incidents": 1},
                                      {"category": "outage", "incidents": 1}]
        assert got["by_category_week"] == [{"category": c, "week": week, "incidents": 1}
                                           for c in ("business", "none", "outage")]
        assert got["open"] == {"incidents": 2, "by_hall": [{"hall_id": "dongcheng", "incidents": 1},
                                                           {"hall_id": "xicheng", "incidents": 1}]}
        # the running corrective actions are counted by Temporal too (a query it refused would leave them null)
        assert all(isinstance(got["correctives"][k], int) for k in ("correctives_open", "correctives_overdue"))
        real_only = json.loads((await cli(dev_setup.env, "report", *period, "--json")).stdout)
        assert real_only["open"] == {"incidents": 0, "by_hall": [{"hall_id": "dongcheng", "incidents": 0},
                                                                 {"hall_id": "xicheng", "incidents": 0}]}
        one_hall = json.loads((await cli(dev_setup.env, "report", *period, "--with-drills", "--hall", "xicheng",
                                         "--json")).stdout)
        assert one_hall["open"] == {"incidents": 1, "by_hall": [{"hall_id": "xicheng", "incidents": 1}]}
        assert [r["category"] for r in one_hall["by_category"]] == ["business", "none"]
        table = (await cli(dev_setup.env, "report", *period, "--with-drills", "--csv")).stdout
        assert "by_category,outage,incidents,1" in table and f"by_category_week,business {week},incidents,1" in table
        assert "open,,incidents,2" in table

        async with signed_in(create_app(settings, client=dev_env.client), "lin.yue") as operator:
            page = (await operator.get("/reports", params={"start": today.date().isoformat(), "drills": "true"})).text
        assert re.search(r'id="unfinished"><b>2</b>', page)
        category_chart = page.split("按投诉类别")[1].split("</svg>")[0]
        assert [label for label in ("营业(含计量)", "未分类", "停电") if label in category_chart] == \
            ["营业(含计量)", "未分类", "停电"]
        sla_chart = page.split("各环节超时率")[1].split("</svg>")[0]
        # each step's bar ends with its rate as the report gives it (at 20,000x most first deadlines pass)
        rate = next(round(r["breach_rate"] * 100) for r in got["steps"] if r["step"] == "move_to_vip_room")
        shown = re.search(r'>引导客户至VIP室</text><rect [^>]*></rect><text [^>]*>(\d+)%</text>', sla_chart)
        assert shown and int(shown.group(1)) == rate, sla_chart


async def test_a_repeat_by_account_or_community_while_the_first_is_open(dev_env, dev_setup, make_start):
    settings = dev_setup.settings
    async with build_worker(dev_env.client, settings):
        first = incident(make_start, "xicheng", account_no="1234-5678", address="阳光花园5栋")
        a = await start(dev_env, settings, first)
        for value in search_values(match_keys(settings.hash_key(), first.lead.phone, "1234-5678", "阳光花园5栋")):
            await visible(dev_env.client, f'GroupdeskRepeatKeys = "{value}"')

        by_account = incident(make_start, "dongcheng", account_no="12345678")  # another phone, the same 户号
        b = await start(dev_env, settings, by_account)
        assert (by_account.repeat_of, by_account.repeat_reasons) == (a.id, ["same_account"])
        assert (await state(b)).repeat_reasons == ["same_account"]
        notice = await _sms(settings, b.id)
        assert notice.recipient == "wu.fang" and "同一户号" in notice.body and a.id in notice.body

        by_community = incident(make_start, "xicheng", address="北京市西城区阳光花园3号楼")
        c = await start(dev_env, settings, by_community)
        assert (by_community.repeat_of, by_community.repeat_reasons) == (a.id, ["same_community"])
        shown = json.loads((await cli(dev_setup.env, "show", c.id, "--json")).stdout)
        assert (shown["repeat_of"], shown["repeat_reasons"]) == (a.id, ["same_community"])
        assert "同一小区" in (await _sms(settings, c.id)).body
        async with signed_in(create_app(settings, client=dev_env.client), "sun.li") as lead:
            page = (await lead.get(f"/incidents/{c.id}")).text
        assert f"{a.id}: " in page and "(同一小区)" in page

        stranger = incident(make_start, "xicheng", account_no="9999-0000", address="别的小区1号")
        await start(dev_env, settings, stranger)
        assert stranger.repeat_of is None


async def _sms(settings, incident_id: str, tries: int = 100):
    import asyncio

    for _ in range(tries):
        found = [m for m in messages(settings, incident_id) if m.purpose == "repeat_complaint"]
        if found:
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"{incident_id}: no repeat_complaint SMS")
