"""The complainant's status page: each message to them carries `GROUPDESK_PUBLIC_URL/s/<token>` (128 random bits,
kept only as a keyed hash); the page shows their matter in plain Chinese with no staff name, no incident id and
nothing internal; from it they answer the 回访 once it is due and add information, both on the timeline; an
unknown, mangled, revoked or expired link gets the same 404; requests are limited (429)."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from PIL import Image
from temporalio.testing import ActivityEnvironment

import evidence_files as files

from activities.sms import SmsActivities
from groupdesk.core.models import RecordOutcome
from groupdesk.core.promise_models import PromiseChange
from groupdesk.core.tell import TellComplainant
from groupdesk.incidents.gateway import Gateway, Incident
from groupdesk.messaging import status_links
from groupdesk.messaging.outbox import Outbox
from groupdesk.messaging.provider import OutboxProvider
from groupdesk.messaging.status_links import StatusLinks
from groupdesk.people.permissions import Forbidden, acting_as
from groupdesk.web.app import create_app
from groupdesk.web.status_page import Limiter
from helpers import setup_for, start, survey_sent
from machine_helpers import DIRECTORY, drain, new_machine, sends

LINK = re.compile(r"/s/([A-Za-z0-9_-]{22})\b")
STAFF_NAMES = [p.name for p in DIRECTORY.people]
STAFF_IDS = [p.id for p in DIRECTORY.people]


def test_a_token_is_128_random_bits_kept_only_as_a_keyed_hash_and_revoked_with_its_incident(tmp_path):
    settings = setup_for(tmp_path).settings
    links = StatusLinks.for_settings(settings)
    url = links.issue("inc-1", "xicheng", "+8613800138000")
    token = LINK.search(url).group(1)
    assert url == f"http://127.0.0.1:{settings.web_port}/s/{token}"  # no GROUPDESK_PUBLIC_URL: this machine's console
    other = LINK.search(links.issue("inc-1", "xicheng", "+8613800138000")).group(1)
    assert token != other and len(token) == 22  # secrets.token_urlsafe(16): 128 bits
    row = links.find(token)
    assert row["incident_id"] == "inc-1" and row["phone_key"] and row["phone_key"] != "+8613800138000"
    raw = (settings.data_dir / "groupdesk.sqlite3").read_bytes() if (settings.data_dir / "groupdesk.sqlite3").exists() \
        else b""
    assert token.encode() not in raw  # stored only as its keyed hash
    for mangled in ("", token[:-1], token + "A", token.upper() if token.upper() != token else token.lower(),
                    "../" + token[3:], "x" * 22):
        assert links.find(mangled) is None
    assert links.revoke("inc-1") == 2 and links.find(token) is None and links.find(other) is None
    assert links.revoke("inc-1") == 0


def test_visits_are_noted_at_most_once_an_hour_per_link(tmp_path):
    links = StatusLinks.for_settings(setup_for(tmp_path).settings)
    token = LINK.search(links.issue("inc-1", "xicheng", "+8613800138000")).group(1)
    t0 = datetime(2026, 11, 23, 2, tzinfo=timezone.utc)
    hour = timedelta(hours=1)
    assert links.visit_due(token, hour, t0) and not links.visit_due(token, hour, t0 + timedelta(minutes=59))
    assert links.visit_due(token, hour, t0 + timedelta(minutes=61))


def test_the_limits_are_30_a_minute_per_token_and_300_per_address():
    limiter = Limiter()
    assert all(limiter.allow("t:x", 30, now=100.0 + n / 100) for n in range(30))
    assert not limiter.allow("t:x", 30, now=101.0) and limiter.allow("t:y", 30, now=101.0)
    assert limiter.allow("t:x", 30, now=161.0)  # a minute later


def test_expired_thirty_days_after_close():
    closed = datetime(2026, 11, 23, tzinfo=timezone.utc)
    assert not status_links.expired(None) and not status_links.expired(closed, closed + timedelta(days=30))
    assert status_links.expired(closed, closed + timedelta(days=30, seconds=1))


async def test_every_message_to_the_complainant_carries_a_link_and_staff_messages_do_not(tmp_path):
    settings = setup_for(tmp_path, GROUPDESK_PUBLIC_URL="https://gd.example.cn/").settings
    m = new_machine()
    m.tell(TellComplainant(actor="sun.li", message="progress"), m.state.started_at)
    requests = sends(drain(m))
    links = StatusLinks.for_settings(settings)
    sms = SmsActivities(Outbox(settings), OutboxProvider(), lambda: DIRECTORY, links=links)
    for request in requests:
        await ActivityEnvironment().run(sms.send_messages, request)
    rows = Outbox(settings).list("inc-1")
    to_complainant = [r for r in rows if r.recipient == "lead_complainant"]
    assert to_complainant and all("https://gd.example.cn/s/" in r.body for r in to_complainant)
    assert to_complainant[0].body.endswith(("。办理进度:https://gd.example.cn/s/" + LINK.search(to_complainant[0].body)
                                            .group(1)))
    assert all("/s/" not in r.body for r in rows if r.recipient != "lead_complainant")
    assert links.find(LINK.search(to_complainant[0].body).group(1))["incident_id"] == "inc-1"


def test_the_page_shows_the_promises_made_to_them_and_the_next_contact_in_plain_words():
    from groupdesk.web.status_view import view

    m = new_machine()
    now = m.state.started_at
    for what, to in (("一小时内回电告知核查结果", "lead_complainant"), ("内部:调取换表记录", "feng.tao")):
        m.change_promises(PromiseChange(kind="add", actor="sun.li", what=what, due="1h", owner="sun.li",
                                        owner_role="hall_lead", to=to), now)
    shown = view(m.state, DIRECTORY, now)
    assert [(p["what"], p["status"]) for p in shown["promises"]] == [("一小时内回电告知核查结果", "待兑现")]
    assert shown["next_contact"] == "11月23日 11:00" and shown["hall_phone"] == "010-6601 0001"
    assert shown["standing"] == "我们正在处理您反映的问题。" and not shown["survey_due"]
    m.change_promises(PromiseChange(kind="kept", actor="sun.li", promise=m.state.promises[0].id), now)
    assert view(m.state, DIRECTORY, now)["promises"][0]["status"] == "已兑现"


def test_the_page_names_the_channel_and_the_work_order_number_they_were_given():
    from groupdesk.web.status_view import view

    m = new_machine()
    assert (view(m.state, DIRECTORY, m.state.started_at)["channel"], view(m.state, DIRECTORY, m.state.started_at)
            ["ticket_no"]) == ("来访", "")
    m.state.registration = m.state.registration.model_copy(update={"channel": "hotline_95598",
                                                                   "ticket_no": "20261123000177"})
    shown = view(m.state, DIRECTORY, m.state.started_at)
    assert (shown["channel"], shown["ticket_no"]) == ("95598", "20261123000177")


async def _get(app, path, **kw):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as web:
        return await web.get(path, **kw)


async def _post(app, path, data, photo: bytes | None = None, name: str = "IMG_0001.jpg", headers=None):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as web:
        return await web.post(path, data=data, files=None if photo is None else {"photo": (name, photo)},
                              headers=headers)


def _error_line(html: str) -> str:
    found = re.findall(r'<p class="error" role="alert" id="error">([^<]*)</p>', html)
    assert len(found) == 1, html
    return found[0]


def _leaks(html: str, incident_id: str) -> list[str]:
    found = [name for name in STAFF_NAMES if name in html] + [pid for pid in STAFF_IDS if pid in html]
    found += [word for word in (incident_id, "xicheng", "张建国", "13800138000", "sun.li", "hall_lead", "lead_complainant",
                                "talk_with_lead", "smart-meter") if word in html]
    return found


@pytest.mark.devserver
async def test_the_page_the_visit_the_information_the_answer_revocation_and_the_same_404(dev_env, dev_setup,
                                                                                           make_start, monkeypatch):
    from groupdesk.drills.smart_meter import wait_for
    from worker import build_worker

    settings = dev_setup.settings
    gateway = Gateway(dev_env.client, settings)
    lead = acting_as(DIRECTORY, "sun.li")
    app = create_app(settings, client=dev_env.client)

    def told(s):
        return any("/tell/" in d.key for d in s.deliveries)

    async with build_worker(dev_env.client, settings):
        # a drill at 10,000 times speed: the survey goes out seconds after closing
        handle = Incident.of(await start(dev_env, settings, make_start(lead_phone="13800138000", drill=True, time_scale=10_000,
                                                           registration={"demands": "退还多收电费",
                                                                         "channel": "hotline_95598",
                                                                         "ticket_no": "20261123000177"})))
        other = Incident.of(await start(dev_env, settings, make_start(lead_phone="13900139000",
                                                                      summary="另一位客户的投诉内容")))
        await gateway.tell(lead, handle.id, TellComplainant(actor="sun.li", message="progress"))
        await gateway.tell(lead, other.id, TellComplainant(actor="sun.li", message="progress"))
        await wait_for(handle, told)
        await wait_for(other, told)
        body = next(r.body for r in Outbox(settings).list(handle.id) if r.purpose == "tell")
        token = LINK.search(body).group(1)

        page = await _get(app, f"/s/{token}")
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
        html = page.text
        assert "智能电表换装后电量异常增长" in html and "退还多收电费" in html and "010-6601 0001" in html
        assert '受理渠道:95598,工单号:<span id="ticket-no">20261123000177</span>' in html
        assert 'id="survey"' not in html
        assert not _leaks(html, handle.id) and "另一位客户" not in html and other.id not in html
        await _get(app, f"/s/{token}")  # a second visit within the hour: not on the timeline again
        visits = [e for e in (await handle.live_state()).timeline if e.kind == "status_page_visit"]
        assert [(e.actor, e.detail) for e in visits] == [("lead_complainant", "the complainant opened the status page")]

        added = await _post(app, f"/s/{token}/info", {"text": "家里电表箱已拍照,可随时上门查看"})
        assert added.status_code == 303 and added.headers["location"] == f"/s/{token}?ok=info"
        blank = await _post(app, f"/s/{token}/info", {"text": "  "})
        assert blank.status_code == 422 and "请填写补充内容" in blank.text
        early = await _post(app, f"/s/{token}/answer", {"score": "5"})
        assert early.status_code == 409  # the survey is not due yet: the same rule as an SMS answer
        info = [e.detail for e in (await handle.live_state()).timeline if e.kind == "complainant_info"]
        assert info == ["家里电表箱已拍照,可随时上门查看"]

        # a photo with the information: the staff's evidence checks and store, EXIF gone, listed for staff
        assert 'type="file" name="photo"' in html and 'enctype="multipart/form-data"' in html
        photo = await _post(app, f"/s/{token}/info", {"text": "电表箱照片"}, files.photo_jpeg())
        assert photo.status_code == 303, photo.text
        listed = await gateway.evidence(lead, handle.id)
        assert [(r["added_by"], r["media_type"], r["step"], r["name"]) for r in listed] == \
            [("lead_complainant", "image/jpeg", None, "")]
        _, kept = await gateway.evidence_file(lead, handle.id, listed[0]["stored_sha256"], "api")
        assert Image.open(io.BytesIO(kept)).getexif().get_ifd(0x8825) == {} and dict(Image.open(io.BytesIO(kept))
                                                                                      .getexif()) == {}
        assert listed[0]["original_sha256"] != listed[0]["stored_sha256"]  # both hashes kept
        assert [e.detail for e in (await handle.live_state()).timeline if e.kind == "complainant_info"][-1] == "电表箱照片"
        for data, name, status, line in (
                (files.scan_pdf(), "scan.pdf", 422, "只能上传 JPEG、PNG 或 WebP 格式的照片。"),
                (files.gif(), "a.jpg", 422, "只能上传 JPEG、PNG 或 WebP 格式的照片。"),
                (files.oversized_jpeg(), "big.jpg", 413, "照片超过 10 MB,请压缩后或换一张再上传。")):
            refused = await _post(app, f"/s/{token}/info", {"text": "再补充一张"}, data, name)
            assert refused.status_code == status and _error_line(refused.text) == line
            assert not _leaks(refused.text, handle.id)
        assert (await _post(app, "/s/" + "A" * 22 + "/info", {"text": "x"}, files.photo_png())).status_code == 404
        elsewhere = await _post(app, f"/s/{token}/info", {"text": "x"}, files.photo_png(),
                                headers={"Sec-Fetch-Site": "cross-site"})  # a form on another site posting here
        assert elsewhere.status_code == 403
        monkeypatch.setattr("groupdesk.record.evidence.MAX_PER_INCIDENT", 1)  # the 50 reached, as one
        full = await _post(app, f"/s/{token}/info", {"text": "再补充一张"}, files.photo_png(), "b.png")
        assert full.status_code == 409 and _error_line(full.text) == "本事项的照片和材料已达 1 个上限,不能再上传。"
        monkeypatch.undo()
        assert len(await gateway.evidence(lead, handle.id)) == 1  # nothing stored by a refusal
        assert len([e for e in (await handle.live_state()).timeline if e.kind == "complainant_info"]) == 2

        # the matter settled: the survey goes out a (scaled) working day after closing
        for step, outcome_name, actor in (("move_to_vip_room", "done", "zhao.min"), ("keep_order", "done", "qian.lei"),
                                          ("talk_with_lead", "accepted", "sun.li")):
            await handle.record_outcome(RecordOutcome(step=step, outcome=outcome_name, actor=actor))
        await survey_sent(handle)
        due = await _get(app, f"/s/{token}")
        assert 'id="survey"' in due.text and "请您对我们的处理进行评价" in due.text
        bad = await _post(app, f"/s/{token}/answer", {"score": "9"})
        assert bad.status_code == 422
        answered = await _post(app, f"/s/{token}/answer", {"score": "4", "comment": "处理及时"})
        assert answered.status_code == 303, answered.text
        final = await handle.result()
        assert final.follow_up.score == 4 and final.follow_up.comment == "处理及时" and final.status == "closed"
        assert [e.actor for e in final.timeline if e.kind == "follow_up_answered"] == ["lead_complainant"]
        after = await _get(app, f"/s/{token}")
        assert after.status_code == 200 and "您的问题已办结" in after.text and 'id="survey"' not in after.text
        assert 'name="photo"' not in after.text
        late = await _post(app, f"/s/{token}/info", {"text": "补一张"}, files.photo_webp(), "c.webp")
        assert late.status_code == 409 and _error_line(late.text) == "事项已办结归档,不能再上传照片。"
        assert len(await gateway.evidence(lead, handle.id)) == 1

        # revoked (only by the owner, the hall lead or the director) and expired: the same 404 as an unknown link
        with pytest.raises(Forbidden):
            await gateway.revoke_status_links(acting_as(DIRECTORY, "zhao.min"), other.id)
        old = LINK.search(next(r.body for r in Outbox(settings).list(other.id) if r.purpose == "tell")).group(1)
        assert (await _get(app, f"/s/{old}")).status_code == 200
        assert await gateway.revoke_status_links(lead, other.id) == (1, True)
        await wait_for(other, lambda s: sum("/tell/" in d.key for d in s.deliveries) == 2)
        fresh = [LINK.search(r.body).group(1) for r in Outbox(settings).list(other.id) if r.purpose == "tell"
                 and old not in r.body]
        assert len(fresh) == 1 and (await _get(app, f"/s/{fresh[0]}")).status_code == 200
        unknown = await _get(app, "/s/" + "A" * 22)
        revoked = await _get(app, f"/s/{old}")
        mangled = await _get(app, f"/s/{token}%00")
        monkeypatch.setattr(status_links, "_now", lambda: final.closed_at + timedelta(days=31))
        expired = await _get(app, f"/s/{token}")
        assert {r.status_code for r in (unknown, revoked, mangled, expired)} == {404}
        assert unknown.text == revoked.text == mangled.text == expired.text


async def test_thirty_requests_a_minute_per_link_then_429(settings):
    app = create_app(settings)
    statuses = [(await _get(app, "/s/" + "B" * 22)).status_code for _ in range(31)]
    assert statuses == [404] * 30 + [429]


def test_the_texts_a_complainant_reads_are_registered_with_their_link_as_a_link_kind_variable(tmp_path):
    from groupdesk.messaging.sms_templates import complainant_templates
    from groupdesk.messaging.template_sync import export_rows
    from machine_helpers import PLAYBOOK

    assert {"follow_up", "close_notice_complainant", "metrology_calibration_complainant"} <= \
        complainant_templates(PLAYBOOK)
    assert "escalation" not in complainant_templates(PLAYBOOK)
    settings = setup_for(tmp_path).settings
    for provider, link in (("aliyun", ["status_link"]), ("tencent", ["2"])):
        rows = {e.text: e for e in export_rows(settings, provider)}
        tell = next(e for t, e in rows.items() if "您反映的问题我们正在处理中" in t and not t.startswith("（演练）"))
        assert tell.links == link and tell.text.endswith(("${status_link}", "{2}"))
        assert all(e.links for e in rows.values() if any("(complainant)" in u for u in e.used_by))
        assert not any(e.links for e in rows.values() if not any("(complainant)" in u for u in e.used_by))
