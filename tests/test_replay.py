"""Recorded incident histories must keep replaying against the current workflow code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from groupdesk.models import IncidentState, StartIncident
from workflows.group_incident import GroupIncidentWorkflow
from workflows.sandbox import workflow_runner

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    raw = path.read_text(encoding="utf-8")
    workflow_id = json.loads(raw)["events"][0]["workflowExecutionStartedEventAttributes"].get("workflowId") \
        or path.stem
    return WorkflowHistory.from_json(workflow_id, raw)


def test_histories_are_committed():
    assert {p.stem for p in HISTORIES} >= {"talk_accepted", "approved_then_metrology", "rejected_then_explained"}


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path):
    replayer = Replayer(workflows=[GroupIncidentWorkflow], data_converter=pydantic_data_converter,
                        workflow_runner=workflow_runner())
    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


@workflow.defn(name="GroupIncident")
class ReorderedIncident(GroupIncidentWorkflow):
    """A careless change: one extra timer before the playbook starts."""

    @workflow.run
    async def run(self, start: StartIncident) -> IncidentState:
        await workflow.sleep(1)
        return await super().run(start)


async def test_a_non_deterministic_change_is_caught():
    replayer = Replayer(workflows=[ReorderedIncident], data_converter=pydantic_data_converter,
                        workflow_runner=workflow_runner())
    result = await replayer.replay_workflow(load(HISTORIES[0]), raise_on_replay_failure=False)
    assert result.replay_failure is not None
    assert "nondetermin" in repr(result.replay_failure).lower()
