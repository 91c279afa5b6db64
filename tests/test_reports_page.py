"""The console's report page: the archive's figures and charts, for those who may see them, on a phone too."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from conftest import utc
from groupdesk.record.chain import append
from groupdesk.record.archive_record import build_record
from groupdesk.core.finding import Finding
from groupdesk.core.models import RecordOutcome
from groupdesk.record.archive_record import corrective_record
from groupdesk.storage import open_database
from groupdesk.web.app import create_app
from web_helpers import identifier_pattern, signed_in
from workflows.machine.incident import IncidentMachine


def archive_two(settings, make_start) -> list[str]:
    """One late incident at 西城 (dissatisfied, 2/5; the group went to 信访 first; a founded finding of metering, its
    corrective action verified), one quick one at 东城 (5/5, not founded), in November 2026."""
    key, db, ids = settings.hash_key(), open_database(settings), []
    for n, (hall, lead, late, score) in enumerate([("xicheng", "sun.li", 16, 2), ("dongcheng", "wu.fang", 1, 5)]):
        start = make_start(hall_id=hall, started_by=lead, lead_phone=f"1380013800{n}")
        t0 = utc(2026, 11, 10 + n, 2, 0)
        m = IncidentMachine.new(start, t0)
        m.fire_due(t0 + timedelta(minutes=late))
        m.finish("move_to_vip_room", "done", lead, "", t0 + timedelta(minutes=late))
        m.finish("keep_order", "done", lead, "", t0 + timedelta(minutes=late))
        if hall == "xicheng":
            m.record_outcome(RecordOutcome(step="talk_with_lead", outcome="went_to_government", actor=lead,
                                           data={"department": "市信访局"}), t0 + timedelta(minutes=late))
        m.finish("talk_with_lead", "accepted", lead, "", t0 + timedelta(minutes=late + 10))
        m.state.finding = Finding(founded="yes" if hall == "xicheng" else "no", cause="metering",
                                  responsible_people=[lead] if hall == "xicheng" else [], reason="核实", recorded_by=lead)
        m.state.follow_up.score, m.state.follow_up.outcome = score, "answered"
        m.close_incident(t0 + timedelta(days=1), "answered")
        append(db, key, build_record(start, m.state, "run", key))
        if hall == "xicheng":
            append(db, key, corrective_record(*verified_corrective(start, t0)))
        ids.append(start.incident_id)
    return ids


def verified_corrective(start, t0):
    """The incident's corrective action, done on time and verified."""
    from groupdesk.core.corrective import CorrectiveDone, CorrectiveVerify, StartCorrective
    from workflows.machine.corrective import CorrectiveMachine

    action = CorrectiveMachine(StartCorrective(
        id=f"{start.incident_id}-c1", incident_id=start.incident_id, hall_id=start.hall_id, hall_name="西城营业厅",
        what="更换表计", owner="sun.li", owner_name="孙丽", owner_role="hall_lead", made_by="sun.li",
        made_at=t0 + timedelta(days=1), due_at=t0 + timedelta(days=2), chain=["centre_director"], grace_seconds=600,
        directors=["wang.jun"]))
    action.done(CorrectiveDone(actor="sun.li", note="已更换"), t0 + timedelta(days=1, hours=1))
    action.verify(CorrectiveVerify(actor="wang.jun"), t0 + timedelta(days=1, hours=2))
    return action.start, action.state, "run"


@pytest.fixture
def site(settings, make_start, playbook):
    return create_app(settings), archive_two(settings, make_start), playbook


async def test_the_report_page_shows_the_figures_to_those_who_may_see_them(site):
    app, (late_id, quick_id), playbook = site
    period = "/reports?start=2026-11-01&end=2026-11-30"
    async with signed_in(app, "wang.jun") as web:  # the centre director of both halls
        page = await web.get(period)
    assert page.status_code == 200
    html = page.text
    assert html.count("<svg") == 8 and "引导客户至VIP室" in html and "2/5" in html
    assert ">来访</text>" in html.split("按受理渠道")[1].split("</svg>")[0]  # both came in at the hall
    sla = html.split("各环节超时率")[1].split("</svg>")[0]  # 西城's first two steps were late, 东城's not
    assert re.findall(r">([^<>]+)</text><rect[^>]*></rect><text[^>]*>(\d+)%<", sla) == [
        ("事件办结", "0"), ("维持营业厅秩序", "50"), ("引导客户至VIP室", "50"), ("领头人单独谈话", "0")]
    assert "未分类" in html.split("按投诉类别")[1].split("</svg>")[0]  # neither registered a category
    assert '<li id="unfinished"><b>—</b>' in html  # no Temporal here: open incidents not counted
    sections = html.split('id="findings"')[1]  # issue 29's sections
    assert '<b>1</b> 有效 · <b>0</b> 部分有效 · <b>1</b> 无效' in sections and '<b>50%</b> 有效投诉率' in sections
    assert '<b>0</b> 起未认定' in sections and 'data-cause="metering"><td class="lead">电能计量</td>' in sections
    assert '<b>1</b> 起客户已到政府部门信访' in sections and '<b>0</b> 起上级转办' in sections
    assert '<b>—</b> 整改中' in sections and '<b>1</b> 已验收 (0 逾期后完成)' in sections  # running ones: no Temporal
    assert html.index('id="findings"') < html.index('id="upward"') < html.index('id="correctives"') \
        < html.index('id="lines"') < html.index("责任台账")
    assert '<li><b>2</b> 起已办结</li>' in html and '<li><b>1</b> 起超时 (50%)</li>' in html
    assert f"{late_id} 引导客户至VIP室" in html and f"{late_id} (2/5)" in html and quick_id not in html.split("责任台账")[1]
    visible = html.split("<main", 1)[1].replace(late_id, "").replace(quick_id, "")
    assert not identifier_pattern(playbook).search(visible.split("</form>", 1)[1])
    async with signed_in(app, "wu.fang") as web:  # the hall lead of 东城 sees 东城 only
        mine = await web.get(period)
        other = await web.get(period + "&hall=xicheng")
    assert mine.status_code == 200 and "<li><b>1</b> 起已办结</li>" in mine.text and late_id not in mine.text
    assert other.status_code == 403
    async with signed_in(app, "zhao.min") as web:  # a guide has no reports
        assert (await web.get(period)).status_code == 403
    async with signed_in(app, "lin.yue") as web:  # the command centre sees every hall, in English too
        await web.get("/lang/en")
        english = await web.get(period)
        bad = await web.get("/reports?start=2026-13-01")
        backwards = await web.get("/reports?start=2026-11-30&end=2026-11-01")
        nowhere = await web.get("/reports?hall=nowhere")
    assert "incidents closed" in english.text and "Move the group to the VIP room" in english.text
    assert "Findings at close" in english.text and ">Metering</td>" in english.text  # the cause's en label
    assert "went to the government (信访)" in english.text and "Frequent-outage lines" in english.text
    assert bad.status_code == 400 and "start: &#39;2026-13-01&#39; is not a date; use YYYY-MM-DD" in bad.text
    assert backwards.status_code == 400 and "end: 2026-11-01 is before start 2026-11-30" in backwards.text
    assert nowhere.status_code == 400 and "hall: unknown hall" in nowhere.text
