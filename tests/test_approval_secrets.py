"""Approval codes are secrets and phone hashes are keyed: real dev server, real console, signed webhooks."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import EventType

from groupdesk.messaging.approval_codes import ApprovalCodes
from groupdesk.engine.client import incident_id_for
from groupdesk.runtime.config import EXAMPLE_DIRECTORY
from groupdesk.people.directory import load_directory
from groupdesk.drills.smart_meter import record, staff_of
from groupdesk.runtime.keyed import code_key
from groupdesk.web.app import create_app
from helpers import WF, approval_code_by_sms, setup_for, start, visible
from test_twilio_webhooks import DIRECTOR, PUBLIC, TOKEN, post, reply_text, sms_form
from web_helpers import signed_in
from worker import build_worker
from groupdesk.core import search_attributes as sa

pytestmark = pytest.mark.devserver


@pytest_asyncio.fixture
async def site(dev_env, tmp_path):
    settings = setup_for(tmp_path, queue="codes", GROUPDESK_PUBLIC_URL=PUBLIC, TWILIO_AUTH_TOKEN=TOKEN).settings
    app = create_app(settings, client=dev_env.client)
    async with build_worker(dev_env.client, settings), signed_in(app, None) as web:
        yield dev_env, settings, app, web


async def waiting_for_approval(env, settings, make_start, hall_id: str = "xicheng", **start_args):
    staff = staff_of(load_directory(EXAMPLE_DIRECTORY), hall_id)
    handle = await start(env, settings, make_start(incident_id=f"codes-{uuid.uuid4().hex[:8]}", hall_id=hall_id,
                                                   started_by=staff["hall_lead"], **start_args))
    await record(handle, "move_to_vip_room", "done", staff["guide"])
    await record(handle, "keep_order", "done", staff["security_guard"])
    await record(handle, "talk_with_lead", "not_accepted", staff["hall_lead"])
    return handle, await approval_code_by_sms(env.client, settings, handle.id)


def shows(code: str, text: str) -> bool:
    """The code as a number of its own (a timestamp's digits may contain any six in a row)."""
    return re.search(rf"(?<!\d){code}(?!\d)", text) is not None


async def reply(web, body: str, sender: str = DIRECTOR) -> str:
    return reply_text(await post(web, "/twilio/inbound", sms_form(sender, body)))


async def update_events(handle) -> int:
    return sum(1 for e in (await handle.fetch_history()).events if "UPDATE" in EventType.Name(e.event_type))


async def test_the_code_reaches_the_director_by_sms_alone(site, make_start):
    env, settings, app, web = site
    handle, code = await waiting_for_approval(env, settings, make_start)

    described = await handle.describe()
    attributes = {pair.key.name: pair.value for pair in described.typed_search_attributes}
    assert attributes[sa.APPROVAL_KEY.name] == code_key(settings.hash_key(), code)
    assert not any(shows(code, str(value)) for value in attributes.values()), attributes
    state = await handle.query(WF.state)
    assert state.approval_key is None and "approval_code" not in state.model_dump()
    assert not shows(code, state.model_dump_json())
    assert not shows(code, (await handle.fetch_history()).to_json()), "the code entered workflow history"
    for person in ("wang.jun", "sun.li", "ma.ning", "lin.yue"):
        async with signed_in(app, person) as staff:
            answer = await staff.get(f"/api/incidents/{handle.id}")
            assert answer.status_code == 200 and not shows(code, answer.text), person
            assert not {"approval_code", "approval_key"} & set(answer.json()), "the API shows no code field"
            assert not shows(code, (await staff.get("/api/approvals")).text)
            page = await staff.get(f"/incidents/{handle.id}")
            assert page.status_code == 200 and not shows(code, page.text), person

    assert "已同意" in await reply(web, f"同意 {code}")
    assert (await handle.query(WF.state)).warning_tier == 3
    await visible(env.client, f'WorkflowId = "{handle.id}" AND {sa.APPROVAL_KEY.name} = "-"')
    assert "已失效" in await reply(web, f"不同意 {code} 再议"), "a used code decides nothing"
    assert [e.step for e in (await handle.query(WF.state)).timeline if e.kind == "outcome"].count("director_review") == 1


async def test_five_wrong_codes_lock_the_phone(site, make_start):
    env, settings, _app, web = site
    handle, code = await waiting_for_approval(env, settings, make_start)
    wrong = [c for c in ("100000", "100001", "100002", "100003", "100004", "100005") if c != code][:5]
    updates = await update_events(handle)
    for guess in wrong[:4]:
        assert "无效" in await reply(web, f"同意 {guess}")
    locked = await reply(web, f"同意 {wrong[4]}")
    assert "锁定至" in locked and re.search(r"\d{1,2}月\d{1,2}日 \d\d:\d\d", locked), locked
    assert await reply(web, f"同意 {code}") == "", "a locked phone is told once, then its codes are ignored"
    st = await handle.query(WF.state)
    assert st.current_steps == ["director_review"] and st.warning_tier == 0
    assert await update_events(handle) == updates, "a guess reached the workflow"


async def test_two_open_approvals_get_their_own_codes(site, make_start):
    env, settings, _app, web = site
    first, first_code = await waiting_for_approval(env, settings, make_start)
    second, second_code = await waiting_for_approval(env, settings, make_start, hall_id="dongcheng",
                                                     lead_phone="13700137000")
    assert first_code != second_code
    assert "不启动预警" in await reply(web, f"不同意 {second_code} 已电话沟通")
    assert (await second.query(WF.state)).rejection_reason == "已电话沟通"
    assert (await first.query(WF.state)).current_steps == ["director_review"], "the other incident was decided"
    assert "已同意" in await reply(web, f"Y {first_code}")
    assert (await first.query(WF.state)).warning_tier == 3
    assert (await second.query(WF.state)).warning_tier == 0


def test_incident_ids_and_phone_keys_are_keyed():
    now = datetime(2026, 11, 23, 2, tzinfo=timezone.utc)
    phone = "+8613800138000"
    key, other = b"k" * 32, b"o" * 32
    incident = incident_id_for("xicheng", phone, now, key)
    assert incident == incident_id_for("xicheng", phone, now, key), "the same day's twin is refused"
    assert incident.startswith("xicheng-20261123-")
    suffix = incident.rsplit("-", 1)[1]
    assert suffix != hashlib.sha256(phone.encode()).hexdigest()[:6]
    assert incident != incident_id_for("xicheng", phone, now, other), "the suffix follows the key"
    assert incident != incident_id_for("xicheng", "+8613800138001", now, key)
    assert code_key(key, "482913") != code_key(other, "482913")


async def test_a_code_of_an_ended_incident_is_refused(site, make_start):
    env, settings, _app, web = site
    handle, code = await waiting_for_approval(env, settings, make_start)
    await handle.terminate("test: the incident ended")
    assert "已失效" in await reply(web, f"同意 {code}")
    assert "已失效" in await reply(web, f"同意 {code}"), "and stays refused"


def test_codes_are_stable_per_request_unique_among_open_ones_and_kept_private(tmp_path, monkeypatch):
    codes = ApprovalCodes(tmp_path / "codes.sqlite3", b"k" * 32)
    request = "inc-1/director_review#1/approval_request/start"
    code, hashed = codes.issue(request, "inc-1", "xicheng")
    assert re.fullmatch(r"\d{6}", code) and hashed == code_key(b"k" * 32, code)
    assert codes.issue(request, "inc-1", "xicheng") == (code, hashed), "a retried send must render the same code"
    other = "654321" if code != "654321" else "123456"
    draws = iter([code, other])  # the first draw collides with the open code of inc-1
    monkeypatch.setattr(codes, "_code", lambda request_key, salt: next(draws))
    assert codes.issue("inc-2/director_review#1/approval_request/start", "inc-2", "dongcheng")[0] == other
    monkeypatch.undo()
    assert (codes.find(code).incident_id, codes.find(other).hall_id) == ("inc-1", "dongcheng")
    codes.close(request, "used")
    assert codes.find(code).status == "used"
    assert codes.issue(request, "inc-1", "xicheng") == (code, hashed) and codes.find(code).status == "open", \
        "a request made again (a reset) reopens its code"
    newer = codes.issue("inc-1/director_review#2/approval_request/start", "inc-1", "xicheng")
    assert codes.find(code).status == "expired" and codes.find(newer[0]).status == "open", "superseded"
    assert (tmp_path / "codes.sqlite3").stat().st_mode & 0o777 == 0o600
    assert code.encode() not in (tmp_path / "codes.sqlite3").read_bytes(), "the store keeps no code"


def test_the_fifth_wrong_code_within_an_hour_locks_for_an_hour(tmp_path):
    codes = ApprovalCodes(tmp_path / "codes.sqlite3", b"k" * 32)
    t0 = datetime(2026, 11, 23, 2, tzinfo=timezone.utc)
    assert codes.wrong(DIRECTOR, t0 - timedelta(minutes=61)) is None  # too long ago to count
    assert [codes.wrong(DIRECTOR, t0 + timedelta(minutes=i)) for i in range(4)] == [None] * 4
    assert codes.locked_until(DIRECTOR, t0 + timedelta(minutes=4)) is None
    until = codes.wrong(DIRECTOR, t0 + timedelta(minutes=5))
    assert until == t0 + timedelta(minutes=65)
    assert codes.locked_until(DIRECTOR, t0 + timedelta(minutes=64)) == until
    assert codes.locked_until("+8613900000302", t0 + timedelta(minutes=6)) is None, "per phone"
    assert codes.locked_until(DIRECTOR, t0 + timedelta(minutes=66)) is None
    assert codes.wrong(DIRECTOR, t0 + timedelta(minutes=66)) is None, "the count starts again"
