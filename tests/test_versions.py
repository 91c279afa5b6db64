"""The versioning policy on the real dev server: no marker in a new incident, and the drain check.

A new incident records no patch marker and names its engine; `groupdesk ops versions` counts open incidents by the branch of code they need, from visibility (the SDK's
`TemporalChangeVersion` and groupdesk's `GroupdeskEngine`), and `--check` fails while any needs a retired one.

Incidents of earlier releases are stood in for by a workflow of the same type that records the patch markers
those releases recorded (one per incident, as their first command): visibility sees what it saw of them.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from temporalio import workflow
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from groupdesk.core import search_attributes as sa
from groupdesk.core.versions import ENGINE, OPEN_INCIDENTS
from groupdesk.drills.smart_meter import wait_for
from helpers import run_cli, start
from test_local_effects import patch_ids
from worker import build_worker

pytestmark = pytest.mark.devserver


@workflow.defn(name="GroupIncident")
class EarlierRelease:
    """An open incident started by an earlier release: its patch markers, then waiting."""

    @workflow.run
    async def run(self, patches: list[str]) -> None:
        for patch in patches:
            workflow.patched(patch)
        await workflow.wait_condition(lambda: False)


EARLIER = {  # branch -> the markers its incidents recorded (tests/histories/retired/ has one of each)
    "perf-timers": [["perf-timers"]],
    "perf-local-effects": [["perf-local-effects"]],
    "remote-activities": [["approval-code-activity", "sms-reply-keys", "failed-actions-flag", "board-attributes"],
                          ["sms-reply-keys", "failed-actions-flag"]],
    "before-patches": [[]],
}


async def versions(setup, *flags: str):
    return await run_cli(setup.env, "ops", "versions", *flags)


async def test_ops_versions_counts_open_incidents_by_the_branch_they_need(dev_env, dev_setup, make_start):
    settings = dev_setup.settings
    async with build_worker(dev_env.client, settings):
        handle = await start(dev_env, settings, make_start(drill=True))  # a current incident
        await wait_for(handle, lambda s: len(s.deliveries) >= 1)
        history = await handle.fetch_history()
    assert patch_ids(history.events) == [], "a new incident records no patch marker"
    described = await handle.describe()
    attributes = {pair.key.name: pair.value for pair in described.typed_search_attributes}
    assert attributes[sa.ENGINE.name] == ENGINE
    assert "TemporalChangeVersion" not in (described.raw_description.workflow_execution_info.search_attributes
                                           .indexed_fields)

    done = await versions(dev_setup, "--check")  # no retired branch has an open incident
    assert done.returncode == 0, done.stderr
    assert "every open incident runs on this release's workflow code" in done.stdout

    other = f"earlier-{uuid.uuid4().hex[:6]}"
    async with Worker(dev_env.client, task_queue=other, workflows=[EarlierRelease],
                      workflow_runner=UnsandboxedWorkflowRunner()):
        for markers in [m for ms in EARLIER.values() for m in ms]:
            await dev_env.client.start_workflow(EarlierRelease.run, markers, id=f"{other}-{uuid.uuid4().hex[:6]}",
                                                task_queue=other)
        expected = {"one-mode": 1, **{branch: len(ms) for branch, ms in EARLIER.items()}}
        rows = {}
        for _ in range(100):  # visibility trails the workflows by a moment
            done = await versions(dev_setup, "--json")
            assert done.returncode == 0, done.stderr
            rows = {row["branch"]: row for row in json.loads(done.stdout)}
            if {name: row["open"] for name, row in rows.items()} == expected:
                break
            await asyncio.sleep(0.2)
        assert {name: row["open"] for name, row in rows.items()} == expected
        assert [name for name, row in rows.items() if row["runs_here"]] == ["one-mode", "perf-timers"]
        total = (await dev_env.client.count_workflows(OPEN_INCIDENTS)).count
        assert total == sum(expected.values()), "every open incident is counted once"

        done = await versions(dev_setup, "--check")
        assert done.returncode == 1
        assert "4 open incident(s) need a branch this release does not run" in done.stdout
        for branch in expected:
            assert branch in done.stdout
