"""进度告知: staff tell the complainant progress, a delay, a visit or a short text of their own at any time
(the owner, the hall lead or the director; anyone else is refused with the rule), each on the timeline, in
the record, and sent as a registered template through every provider."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.sms import SmsActivities
from groupdesk.core.tell import TellComplainant
from groupdesk.messaging.channels import build as make_provider
from groupdesk.messaging.outbox import Outbox
from groupdesk.messaging.provider import OutboxProvider
from groupdesk.messaging.sms_templates import cached_registry
from groupdesk.messaging.status_links import StatusLinks
from groupdesk.record.archive_record import build_record
from domestic_helpers import PROVIDERS, approved_playbooks, fake_for, provider_env, sent_texts
from helpers import migrated_sqlite, setup_for, until
from machine_helpers import DIRECTORY, T0, drain, new_machine, sends
from workflows.machine import tell as machine_tell
from workflows.tell_checks import check_tell

VISIT_AT = T0 + timedelta(days=1)  # 2026-11-24 10:00 in Shanghai
TELLS = [TellComplainant(actor="sun.li", message="progress"),
         TellComplainant(actor="sun.li", message="delay", at=T0 + timedelta(days=2)),
         TellComplainant(actor="sun.li", message="visit", at=VISIT_AT),
         TellComplainant(actor="sun.li", message="custom", text="抢修队已出发,预计一小时内到达")]


def told_machine():
    m = new_machine()
    drain(m)
    for n, req in enumerate(TELLS):
        check_tell(m, req, T0 + timedelta(minutes=n))
        m.tell(req, T0 + timedelta(minutes=n))
    return m


def test_each_tell_is_on_the_timeline_and_one_message_to_the_lead_complainant():
    m = told_machine()
    messages = [s for s in sends(drain(m)) if s.purpose == "tell"]
    assert [s.recipients for s in messages] == [["lead_complainant"]] * 4
    assert [s.key.rsplit("/", 1)[-1] for s in messages] == ["tell1", "tell2", "tell3", "tell4"]
    assert [s.template["zh-CN"] for s in messages] == [machine_tell.TEMPLATES[k]["zh-CN"]
                                                       for k in ("progress", "delay", "visit", "custom")]
    assert messages[2].context["appointment_at"] == VISIT_AT.isoformat()
    assert messages[3].context["text"] == "抢修队已出发,预计一小时内到达" and messages[0].lead.phone
    told = [(e.actor, e.detail) for e in m.state.timeline if e.kind == "told"]
    assert told[0] == ("sun.li", "told the complainant progress")
    assert told[3] == ("sun.li", "told the complainant a message: 抢修队已出发,预计一小时内到达")
    m.close_incident(T0 + timedelta(hours=1), "test")
    record = build_record(m.start, m.state, "run-1", b"k" * 32)
    assert record["told"] == 4


@pytest.mark.parametrize("req, says", [
    (TellComplainant(actor="zhao.min", message="progress"), "only its owner (sun.li), the hall lead or the centre"),
    (TellComplainant(actor="zhao.min", message="progress", roles=["guide"]), "may not speak to the complainant"),
    (TellComplainant(actor="sun.li", message="visit", at=T0 - timedelta(minutes=1)), "at: 2026-11-23 09:59 has passed"),
    (TellComplainant(actor="sun.li", message="delay", at=T0 + timedelta(days=91)), "at: 2027-02-22 10:00 is more than 90 days"),
    (TellComplainant(actor="sun.li", message="delay"), "at: a delay message names a time"),
    (TellComplainant(actor="sun.li", message="progress", at=VISIT_AT), "at: only delay and visit messages"),
    (TellComplainant(actor="sun.li", message="custom", text="话" * 61), "text: 61 characters is too long"),
    (TellComplainant(actor="sun.li", message="custom", text="  "), "text: write the text to send"),
    (TellComplainant(actor="sun.li", message="custom", text="好\u202e的"), "text: contains U+202E"),
])
def test_the_validator_refuses_with_one_line_naming_the_field_or_the_rule(req, says):
    m = new_machine()
    with pytest.raises(ApplicationError) as refused:
        check_tell(m, req, T0)
    assert says in str(refused.value)


def test_the_director_and_the_hall_lead_may_tell_and_a_closed_incident_is_told_nothing():
    m = new_machine()
    check_tell(m, TellComplainant(actor="wang.jun", message="progress"), T0)  # the centre director
    check_tell(m, TellComplainant(actor="x", message="progress", roles=["hall_lead"]), T0)
    m.close_incident(T0, "test")
    with pytest.raises(ApplicationError, match="is closed"):
        check_tell(m, TellComplainant(actor="sun.li", message="progress"), T0)


EXPECTED = ["西城营业厅:您好,您反映的问题我们正在处理中,有结果会第一时间告知您。",
            "处理时间有所调整,我们将于 11月25日 10:00 前给您答复",
            "我们的工作人员将于 11月24日 10:00 上门",
            "西城营业厅:您好,抢修队已出发,预计一小时内到达"]


@pytest.mark.parametrize("provider", ["twilio", *PROVIDERS])
async def test_every_tell_is_rendered_through_every_provider(provider, httpserver, tmp_path):
    messages = [s for s in sends(drain(told_machine())) if s.purpose == "tell"]
    outbox = Outbox(migrated_sqlite(tmp_path / "o.sqlite3"))
    links = StatusLinks.for_settings(setup_for(tmp_path / "links", GROUPDESK_PUBLIC_URL="https://95598.example.cn").settings)
    if provider == "twilio":
        sms = SmsActivities(outbox, OutboxProvider(), lambda: DIRECTORY, links=links)
    else:
        fake = fake_for(provider, httpserver)
        playbooks = approved_playbooks(tmp_path, provider, fake)  # the registry's tell texts, approved
        settings = setup_for(tmp_path / "data", **provider_env(provider, fake),
                             GROUPDESK_PLAYBOOKS_DIR=str(playbooks)).settings
        sms = SmsActivities(outbox, make_provider(settings, provider), lambda: DIRECTORY,
                            registry_loader=lambda: cached_registry(playbooks), links=links)
    for message in messages:
        result = await ActivityEnvironment().run(sms.send_messages, message)
        assert [d.status for d in result.deliveries] == ["sent"], result.deliveries
    bodies = [row.body for row in sorted(outbox.list("inc-1"), key=lambda r: r.key)]
    assert len(bodies) == 4 and all(expected in body for expected, body in zip(EXPECTED, bodies)), bodies
    # each ends with the complainant's status link, whole (a link-kind variable: never cut to Aliyun's 35 characters)
    found = [re.search(r"办理进度:(https://95598\.example\.cn/s/([A-Za-z0-9_-]{22}))$", body) for body in bodies]
    assert all(found) and all(links.find(m.group(2))["incident_id"] == "inc-1" for m in found), bodies
    if provider != "twilio":
        assert all(bodies), sent_texts(provider, fake)
        assert all(text is not None for text in sent_texts(provider, fake))  # each an approved template
        assert all(json.loads(row.params) for row in outbox.list("inc-1"))


@pytest.mark.devserver
async def test_tell_and_agreed_times_from_the_cli_the_api_and_the_console(dev_env, dev_setup):
    """Telling, and the one time rule at the doors: a past agreed time is exit 2 / 422, the same time again 422."""
    import uuid
    from datetime import datetime, timezone

    from groupdesk.drills.smart_meter import wait_for
    from groupdesk.incidents.registration import prepare_start
    from groupdesk.web.app import create_app
    from helpers import run_cli as cli, start
    from machine_helpers import PLAYBOOK
    from web_helpers import signed_in
    from worker import build_worker

    env, settings = dev_setup.env, dev_setup.settings
    request = prepare_start(directory=DIRECTORY, playbook=PLAYBOOK, hall_id="xicheng", headcount=9,
                            lead_name="张建国", lead_phone="13800138000", summary="电量异常", started_by="sun.li",
                            incident_id=f"tell-{uuid.uuid4().hex[:8]}")
    async with build_worker(dev_env.client, settings):
        handle = await start(dev_env, settings, request)
        guide = await cli(env, "tell", handle.id, "--as", "zhao.min", "--message", "progress")
        assert guide.returncode == 2 and guide.stderr.startswith("error: --as: zhao.min may not speak to the"), \
            guide.stderr
        past = await cli(env, "tell", handle.id, "--as", "sun.li", "--message", "visit", "--at", "2026-01-01 10:00")
        assert past.returncode == 2 and past.stderr.startswith("error: --at: 2026-01-01 10:00 has passed"), past.stderr
        long = await cli(env, "tell", handle.id, "--as", "sun.li", "--message", "custom", "--text", "话" * 61)
        assert long.returncode == 2 and long.stderr.startswith("error: --text: 61 characters"), long.stderr
        done = await cli(env, "tell", handle.id, "--as", "sun.li", "--message", "progress")
        assert done.returncode == 0, done.stderr
        revoke = await cli(env, "status-link", "revoke", handle.id, "--as", "zhao.min")
        assert revoke.returncode == 2 and "may not speak to the complainant" in revoke.stderr, revoke.stderr

        app = create_app(settings, client=dev_env.client)
        at = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat(timespec="minutes")
        async with signed_in(app, "zhao.min") as guide_session:
            page = (await guide_session.get(f"/incidents/{handle.id}")).text
            assert f'action="/incidents/{handle.id}/tell"' not in page  # no button for whom the rule refuses
            refused = await guide_session.post(f"/api/incidents/{handle.id}/tell", json={"message": "progress"})
            assert refused.status_code == 403 and "may not speak to the complainant" in refused.text
        async with signed_in(app, "wang.jun") as director:
            page = (await director.get(f"/incidents/{handle.id}")).text
            assert f'action="/incidents/{handle.id}/tell"' in page
            bad = await director.post(f"/api/incidents/{handle.id}/tell", json={"message": "visit"})
            assert bad.status_code == 422 and "at" in bad.text
            ok = await director.post(f"/api/incidents/{handle.id}/tell", json={"message": "visit", "at": at})
            assert ok.status_code == 200, ok.text
        state = await wait_for(handle, lambda s: sum(d.key.split("/")[-2].startswith("tell") for d in s.deliveries)
                               == 2)
        assert [e.actor for e in state.timeline if e.kind == "told"] == ["sun.li", "wang.jun"]
        sent = [m for m in Outbox(settings).list(handle.id) if m.purpose == "tell"]
        assert {m.recipient for m in sent} == {"lead_complainant"} and any("上门" in m.body for m in sent)

        # Times that make sense: the group adjourns (talk_with_lead) to an agreed time
        for step in ("move_to_vip_room", "keep_order"):
            assert (await cli(env, "outcome", handle.id, step, "done", "--as", "sun.li")).returncode == 0
        await wait_for(handle, lambda s: "talk_with_lead" in s.current_steps)
        past = await cli(env, "outcome", handle.id, "talk_with_lead", "adjourned", "--as", "sun.li",
                         "--data", "agreed_at=2026-01-01 10:00")
        assert past.returncode == 2 and past.stderr.strip() == (
            "error: data.agreed_at: 2026-01-01 10:00 has passed; give a time in the future"), past.stderr
        far = (datetime.now(timezone.utc) + timedelta(days=120)).isoformat(timespec="minutes")
        async with signed_in(app, "sun.li") as lead:
            def adjourn(when: str):
                return lead.post(f"/api/incidents/{handle.id}/outcomes", json={
                    "step": "talk_with_lead", "outcome": "adjourned", "data": {"agreed_at": when}})
            for when, says in [("2026-01-01 10:00", "has passed"), (far, "more than 90 days ahead")]:
                refused = await adjourn(when)
                assert refused.status_code == 422 and "data.agreed_at" in refused.text and says in refused.text, \
                    refused.text
            assert (await adjourn(at)).status_code == 200
            again = await adjourn(at)
            assert again.status_code == 422 and "no change" in again.text, again.text
        state = await wait_for(handle, lambda s: any(e.kind == "adjourned" for e in s.timeline))
        assert [e.kind for e in state.timeline].count("adjourned") == 1


def test_the_archive_row_and_the_report_count_the_tells(tmp_path):
    from datetime import date

    from groupdesk.record.chain import append
    from groupdesk.record.report import build_report
    from groupdesk.storage import open_database

    settings = setup_for(tmp_path).settings
    m = told_machine()
    m.close_incident(T0 + timedelta(hours=1), "test")
    db = open_database(settings)
    append(db, settings.hash_key(), build_record(m.start, m.state, "run-1", settings.hash_key()))
    other = new_machine()  # told nothing
    other.state.id = "inc-2"
    other.close_incident(T0 + timedelta(hours=1), "test")
    append(db, settings.hash_key(), build_record(other.start, other.state, "run-2", settings.hash_key()))
    report = build_report(db, date(2026, 11, 1), date(2026, 11, 30))
    assert report["totals"]["incidents"] == 2 and report["told"] == {"messages": 4, "incidents": 1}


def test_the_report_page_the_workbook_and_the_cli_say_how_often_complainants_were_told():
    from groupdesk.record.workbook import _totals

    report = {"totals": {k: 0 for k in ("incidents", "sla_breached", "sla_breach_rate", "deadlines_missed",
                                        "escalations", "escalated_incidents", "repeat_complaints", "warning_tier_3")},
              "promises": {k: 0 for k in ("made", "kept", "kept_late", "missed", "waived", "incidents_with_missed")},
              "dissatisfied": {"answers": 0, "incidents": 0}, "told": {"messages": 4, "incidents": 1}}
    rows = _totals(report, {})
    assert ["进度告知(条)", 4] in rows and ["告知过客户的事件", 1] in rows


@pytest.mark.devserver
async def test_amend_from_the_cli_and_the_api_and_became_group(dev_env, dev_setup):
    """A registration amended (issue 28): media arriving alerts, a corrected 户号 re-keys the repeat key (a later
    start with that 户号 is a repeat), more people offer became_group, whose hand-over closes the single complaint
    into a linked group incident; wrong input and the wrong person get one line, exit 2 or 4xx."""
    import uuid

    from groupdesk.core import search_attributes as sa
    from groupdesk.drills.smart_meter import wait_for
    from groupdesk.engine.visibility import equals, incidents
    from groupdesk.incidents.gateway import Incident
    from groupdesk.incidents.registration import prepare_start
    from groupdesk.playbooks.loader import find_playbook
    from groupdesk.record.repeat_keys import complainant_key, match_keys, search_values
    from groupdesk.web.app import create_app
    from helpers import run_cli as cli, start, visible
    from web_helpers import signed_in
    from worker import build_worker

    env, settings = dev_setup.env, dev_setup.settings
    single = find_playbook(settings.playbooks_dir, "single-complaint")
    tag = uuid.uuid4().hex[:8]

    def single_start(n: str, name: str, phone: str, account: str):
        return prepare_start(directory=DIRECTORY, playbook=single, hall_id="xicheng", headcount=1, lead_name=name,
                             lead_phone=phone, summary="电费异常", started_by="sun.li",
                             incident_id=f"amend-{n}-{tag}",
                             registration={"category": "business", "account_no": account})

    async with build_worker(dev_env.client, settings):
        handle = await start(dev_env, settings, single_start("a", "张一", "13800138011", "3200111111"))
        a = handle.id
        guide = await cli(env, "amend", a, "--as", "zhao.min", "--reason", "记者到场", "--media")
        assert guide.returncode == 2 and guide.stderr.startswith("error: --as: zhao.min may not amend the"), \
            guide.stderr
        bad = await cli(env, "amend", a, "--as", "sun.li", "--reason", "户号", "--account-no", "12ab")
        assert bad.returncode == 2 and bad.stderr.startswith("error: --account-no: '12ab' is not an account"), \
            bad.stderr
        empty = await cli(env, "amend", a, "--as", "sun.li", "--reason", "核实")
        assert empty.returncode == 2 and "nothing to amend" in empty.stderr and len(empty.stderr.splitlines()) == 1
        media = await cli(env, "amend", a, "--as", "sun.li", "--reason", "记者到场", "--media")
        assert media.returncode == 0, media.stderr
        await wait_for(handle, lambda s: any("/publicity_alert/alert-a1" in d.key for d in s.deliveries))
        again = await cli(env, "amend", a, "--as", "sun.li", "--reason", "记者到场", "--media")
        assert again.returncode == 2 and "no change" in again.stderr, again.stderr

        app = create_app(settings, client=dev_env.client)
        async with signed_in(app, "zhao.min") as guide_session:
            refused = await guide_session.post(f"/api/incidents/{a}/registration",
                                               json={"reason": "人数", "headcount": 6})
            assert refused.status_code == 403 and "may not amend the registration" in refused.text
        async with signed_in(app, "sun.li") as lead:
            page = (await lead.get(f"/incidents/{a}")).text
            assert f'action="/incidents/{a}/registration"' in page and 'id="reg-headcount">1<' in page
            before = (await lead.get(f"/api/incidents/{a}")).json()
            assert not any(x["outcome"] == "became_group" for x in before["actions"])
            for body, field in (({"reason": "x", "lead_phone": "123"}, "lead_phone"),
                                ({"reason": "x", "headcount": "6"}, "headcount"),
                                ({"reason": "x", "category": "weather"}, "category")):
                wrong = await lead.post(f"/api/incidents/{a}/registration", json=body)
                assert wrong.status_code == 422 and field in wrong.text, wrong.text
            ok = await lead.post(f"/api/incidents/{a}/registration", json={
                "reason": "户号听错,又来了5位邻居", "account_no": "3200222222", "headcount": 6, "category": "outage"})
            assert ok.status_code == 200, ok.text
            # the incident page's form: empty fields stay as registered; media select no
            form = await lead.post(f"/incidents/{a}/registration", data={"media": "no", "reason": "记者已离开",
                                                                           "headcount": "", "address": ""})
            assert form.status_code == 303 and "not done" not in form.headers.get("location", ""), form.headers
            after = (await lead.get(f"/api/incidents/{a}")).json()
            assert after["registration"]["media_present"] is False and after["registration"]["address"] == ""
            assert after["registration"]["headcount"] == 6 and after["registration"]["account_no"] == "3200222222"
            assert {x["step"] for x in after["actions"] if x["outcome"] == "became_group"} == {"contact_customer"}
        amended = await wait_for(handle, lambda s: any("/headcount_outside/" in d.key for d in s.deliveries))
        entries = [e.detail for e in amended.timeline if e.kind == "registration_amended"]
        assert entries[-1] == "media_present: yes -> no — 记者已离开", entries
        entry = entries[-2]
        assert entry.startswith("headcount: 1 -> 6; category: business -> outage; account_no: ******1111 ->"
                                " ******2222; outside this playbook's range"), entry

        # the corrected 户号 re-keys: a later complaint with it is a repeat of this one
        account_key = search_values(match_keys(settings.hash_key(), "", "3200222222"))[0]
        await visible(dev_env.client, incidents(equals(sa.REPEAT_KEYS, account_key), f"{sa.HEADCOUNT.name} = 6"))
        later = await start(dev_env, settings, single_start("b", "李二", "13800138022", "3200222222"))
        repeat = await Incident.of(later).state()
        assert (repeat.repeat_of, repeat.repeat_reasons) == (a, ["same_account"])

        # the complainant's key stays until the phone changes, then follows it
        def complainant_attr(described) -> str:
            return described.typed_search_attributes.get(sa.COMPLAINANT)

        assert complainant_attr(await handle.describe()) == complainant_key(settings.hash_key(), "+8613800138011")
        async with signed_in(app, "sun.li") as lead:
            phone = await lead.post(f"/api/incidents/{a}/registration",
                                    json={"reason": "手机号记错", "lead_phone": "139 0013 9033"})
            assert phone.status_code == 200, phone.text
        new_key = complainant_key(settings.hash_key(), "+8613900139033")
        async def published() -> bool:  # once the update's workflow task is done
            return complainant_attr(await handle.describe()) == new_key

        await until(published, "the new phone's key was not published", 10)

        # more people came: became_group hands over to the playbook start would choose (outage, 6 people)
        done = await cli(env, "outcome", a, "contact_customer", "became_group", "--as", "sun.li")
        assert done.returncode == 0, done.stderr
        closed = await wait_for(handle, lambda s: s.status == "closed" and s.linked
                                and s.linked[0].status == "open")
        child = closed.linked[0]
        assert (child.relation, child.playbook) == ("child", "outage-group-complaint")
        grown = await Incident(dev_env.client.get_workflow_handle(child.id)).state()
        assert (grown.headcount, grown.registration.category, grown.playbook) == (6, "outage",
                                                                                  "outage-group-complaint")
