"""The board at scale: counts cover every open incident, rows are one page, the most urgent first."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from temporalio.api.enums.v1 import EventType

from groupdesk.incidents.gateway import Gateway
from groupdesk.engine.visibility import list_query
from groupdesk.web.board import first_page
from groupdesk.core import search_attributes as sa
from helpers import running_worker, start, state, until, visible

pytestmark = pytest.mark.devserver


async def test_first_page_is_a_page_with_the_overdue_first_and_counts_of_all(dev_env, dev_setup, make_start, playbook):
    settings = dev_setup.settings
    async with running_worker(dev_env, settings):
        calm = [make_start(drill=True) for _ in range(3)]
        late = make_start(drill=True, time_scale=100000.0)  # its first deadline passes at once
        for request in [*calm, late]:
            await start(dev_env, settings, request)
        # its step's deadline is published by its first task; the board sees it pass on its own clock
        await visible(dev_env.client, f'WorkflowId = "{late.incident_id}" AND {sa.NEXT_DEADLINE.name} IS NOT NULL',
                      tries=300)
        for request in calm:  # counted as open only once visibility has them
            await visible(dev_env.client, f'WorkflowId = "{request.incident_id}"', tries=300)
        gateway = Gateway(dev_env.client, settings)
        now = datetime.now(timezone.utc)
        page = await first_page(gateway, list_query(status="open"), {playbook.id: playbook}, now=now, size=2)
        assert len(page["rows"]) == 2, "one page, not every open incident"
        assert page["rows"][0]["id"] == late.incident_id and page["rows"][0]["urgency"] == "overdue"
        assert page["counts"]["open"] == 4 and page["counts"]["overdue"] == 1, "counts cover all, not the page"
        whole = await first_page(gateway, list_query(status="open"), {playbook.id: playbook}, now=now, size=10)
        assert sorted(r["id"] for r in whole["rows"]) == sorted(r.incident_id for r in [*calm, late])


async def test_a_deadline_passing_sends_its_reminders_without_publishing_anything(dev_env, dev_setup, make_start):
    """A reminder or an escalation does not move the step's deadline the board reads, so the workflow writes no
    search attributes for it: one visibility write fewer per timer, on the server every incident shares."""
    settings = dev_setup.settings
    async with running_worker(dev_env, settings):
        late = make_start(drill=True, time_scale=600.0)  # deadline in 0.5 s, then a rung of the ladder a second
        await start(dev_env, settings, late)
        handle = dev_env.client.get_workflow_handle(late.incident_id)

        async def two_timers_handled():
            # waits on the history, not on the timeline: on a loaded host the first task may run after the
            # deadline and send the reminder itself, and one timer then escalates both steps at once
            kinds = [e.event_type for e in (await handle.fetch_history()).events]
            fired = [i for i, kind in enumerate(kinds) if kind == EventType.EVENT_TYPE_TIMER_FIRED]
            handled = [i for i, kind in enumerate(kinds) if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED]
            return kinds if len(fired) >= 2 and handled[-1] > fired[1] else None

        events = await until(two_timers_handled, "two of the ladder's timers fired and were handled")
        upserts = [i for i, kind in enumerate(events) if kind == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES]
        fired = [i for i, kind in enumerate(events) if kind == EventType.EVENT_TYPE_TIMER_FIRED]
        assert any(e.kind == "escalation" for e in (await state(handle)).timeline), "the missed deadline escalated"
        # one upsert: the first publish, once the first messages landed; nobody acted, so nothing changed since
        assert len(upserts) == 1, f"upserts at events {upserts}; timers fired at {fired}"
