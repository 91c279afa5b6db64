"""A lead complainant who comes back is recorded as a repeat complaint, linked and told to the hall lead."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest
from temporalio.exceptions import WorkflowAlreadyStartedError

from helpers import messages, patient_follow_ups, running_worker, setup_for, start, state, visible
from groupdesk.playbooks.loader import find_playbook
from groupdesk.web.app import create_app
from web_helpers import signed_in
from groupdesk.engine.client import incident_id_for
from groupdesk.incidents.gateway import Gateway
from groupdesk.drills.smart_meter import answer_follow_up, talk_accepted, wait_for
from groupdesk.engine.visibility import equals, incidents
from groupdesk.core import search_attributes as sa

DRILL = dict(drill=True, time_scale=20_000.0)


async def test_a_repeat_complaint_opens_a_linked_incident_and_tells_the_hall_lead(dev_env, tmp_path, make_start):
    env = dev_env
    # the first incident's survey stays open while the second is started and checked: 60 days, not 13 s of wall time
    patient = patient_follow_ups(tmp_path)
    settings = setup_for(tmp_path / "data", GROUPDESK_PLAYBOOKS_DIR=patient).settings
    playbook = find_playbook(patient, "smart-meter-group-complaint")
    phone = f"+86138{random.randint(10_000_000, 99_999_999)}"
    base = incident_id_for("xicheng", phone, datetime.now(timezone.utc), settings.hash_key())

    def again(**overrides):
        return make_start(lead_phone=phone, incident_id=base, playbook=playbook, **DRILL, **overrides)

    async with running_worker(env, settings):
        a = await start(env, settings, again())
        assert a.id == base
        await talk_accepted(a)
        await wait_for(a, lambda st: st.stage == "follow_up")

        # the same lead, the same hall, the same day, after the first was resolved: a new, linked incident,
        # started from the console; the form sent twice (same token) names that new incident both times
        app = create_app(settings, client=env.client)
        form = {"hall": "xicheng", "headcount": 12, "lead_name": "张建国", "lead_phone": phone, "summary": "又来了",
                "drill": True, "time_scale": 20_000, "submit_token": "form-1"}
        async with signed_in(app, "sun.li") as web:
            first_click = await web.post("/api/incidents", json=form)
            second_click = await web.post("/api/incidents", json=form)
        assert first_click.status_code == 201, first_click.text
        assert first_click.json() == second_click.json() == {"id": f"{base}-2"}
        b = env.client.get_workflow_handle(f"{base}-2")
        assert (await state(b)).repeat_of == base
        notice = await _sms(settings, b.id, "repeat_complaint")
        assert notice.role == "hall_lead" and base in notice.body and "回访中" in notice.body
        await visible(env.client, incidents(equals(sa.REPEAT_OF, base)))
        [row] = [r for r in await Gateway(env.client, settings).list(incidents(equals(sa.HALL, "xicheng")))
                 if r["id"] == b.id]
        assert row["repeat_of"] == base

        # while that one is being handled, the same start again is a second click: refused
        with pytest.raises(WorkflowAlreadyStartedError):
            await start(env, settings, again())

        # both end and are archived; at another hall later, the complainant is recognised from the archive
        await answer_follow_up(a, 5)
        await a.result()
        await talk_accepted(b)
        await answer_follow_up(b, 3)  # (2 or less would reopen it: seed 004)
        await b.result()
        other = make_start(lead_phone=phone, hall_id="dongcheng", started_by="wu.fang", playbook=playbook, **DRILL,
                           incident_id=incident_id_for("dongcheng", phone, datetime.now(timezone.utc),
                                                       settings.hash_key()))
        d = await start(env, settings, other)
        assert other.repeat_of == b.id and "满意度 3/5" in other.repeat_outcome
        notice = await _sms(settings, d.id, "repeat_complaint")
        assert notice.recipient == "wu.fang" and b.id in notice.body and "满意度 3/5" in notice.body
        assert (await state(d)).repeat_of == b.id

        # a different complainant is no repeat
        fresh = make_start(lead_phone="+8613700137000", **DRILL, incident_id=f"fresh-{random.randint(1000, 9999)}")
        f = await start(env, settings, fresh)
        assert fresh.repeat_of is None and (await state(f)).repeat_of is None


async def _sms(settings, incident_id: str, purpose: str, tries: int = 100):
    import asyncio

    for _ in range(tries):
        found = [m for m in messages(settings, incident_id) if m.purpose == purpose]
        if found:
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"{incident_id}: no {purpose} SMS")
