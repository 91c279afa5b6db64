"""The board at scale: counts cover every open incident, rows are one page, the most urgent first."""

from __future__ import annotations


import pytest

from groupdesk.incidents.gateway import Gateway
from groupdesk.engine.visibility import list_query
from groupdesk.web.board import first_page
from groupdesk.core import search_attributes as sa
from helpers import running_worker, start, visible

pytestmark = pytest.mark.devserver


async def test_first_page_is_a_page_with_the_overdue_first_and_counts_of_all(dev_env, dev_setup, make_start, playbook):
    settings = dev_setup.settings
    async with running_worker(dev_env, settings):
        calm = [make_start(drill=True) for _ in range(3)]
        late = make_start(drill=True, time_scale=100000.0)  # its first deadline passes at once
        for request in [*calm, late]:
            await start(dev_env, settings, request)
        await visible(dev_env.client, f'WorkflowId = "{late.incident_id}" AND {sa.OVERDUE.name} = true', tries=300)
        gateway = Gateway(dev_env.client, settings)
        page = await first_page(gateway, list_query(status="open"), {playbook.id: playbook}, size=2)
        assert len(page["rows"]) == 2, "one page, not every open incident"
        assert page["rows"][0]["id"] == late.incident_id and page["rows"][0]["urgency"] == "overdue"
        assert page["counts"]["open"] == 4 and page["counts"]["overdue"] == 1, "counts cover all, not the page"
        whole = await first_page(gateway, list_query(status="open"), {playbook.id: playbook}, size=10)
        assert sorted(r["id"] for r in whole["rows"]) == sorted(r.incident_id for r in [*calm, late])
