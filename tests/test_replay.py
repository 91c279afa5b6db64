"""Recorded incident histories must keep replaying against the current workflow code."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from temporalio import workflow
from typer.testing import CliRunner

from groupdesk.core.models import IncidentState, StartIncident
from workflows.group_incident import GroupIncidentWorkflow

# This module defines a workflow (ReorderedIncident), so the sandbox re-imports it; the CLI and the
# replayer are not workflow code and are passed through as they are.
with workflow.unsafe.imports_passed_through():
    from groupdesk.cli import app
    from groupdesk.replay import history_from_file, replay

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
# A history with regular activities (recorded before local effects), for the canary and the tampering test.
WITH_ACTIVITIES = Path(__file__).parent / "histories" / "before-local-effects-approved_then_explained.json"
CURRENT = "perf-timers"  # the one patch marker a new incident records (it implies every older patch)


def test_a_history_for_every_path_is_committed():
    from groupdesk.drill import PATHS

    names = {p.stem for p in HISTORIES}
    assert set(PATHS) <= names, f"record them: make record-histories ({set(PATHS) - names} missing)"
    for path in ("talk_accepted", "approved_then_metrology", "rejected_then_explained"):
        assert f"before-sms-replies-{path}" in names, "histories from before a patch stay"
    for path in PATHS:
        assert f"before-approval-code-activity-{path}" in names, "histories from before a patch stay"
    assert {"archive-at-close-talk_accepted", "archive-at-close-approved_then_metrology"} <= names
    assert "handed_over" in names, "a handover (首问负责制) replays"
    for path in [*PATHS, "handed_over"]:
        assert f"before-local-effects-{path}" in names, "histories from before local effects (issue 18) stay"
        assert patches_in(HISTORIES[0].parent / f"{path}.json") == {CURRENT}, \
            f"{path}.json is recorded with the current command shape (make record-histories)"
        assert "perf-local-effects" in patches_in(HISTORIES[0].parent / f"before-perf-timers-{path}.json"), \
            "histories from before the timer on the batch's clock (issue 18) stay"
    assert "sensitive-period-approved_then_metrology" in names, "an incident inside a sensitive period replays"
    assert {"lang-plan_raised_then_ended", "lang-approved_then_metrology",  # the plan raised and ended by the
            "lang-rejected_then_metrology_inaccurate",  # director; the inaccurate meter's remedy
            "lang-local-effects-plan_raised_then_ended",  # the same after perf-local-effects
            "lang-local-effects-rejected_then_metrology_inaccurate"} <= names
    assert {"promises_kept_and_missed", "before-local-effects-promises_kept_and_missed"} <= names, \
        "promises (one kept, one missed) replay, with and without local effects"
    from groupdesk.drill_ladder import LADDER_PATHS

    assert set(LADDER_PATHS) <= names and "ladder-result_disputed-child" in names, "hand-overs replay, both sides"
    assert {f"before-local-effects-{n}" for n in LADDER_PATHS} <= names, "hand-overs from before local effects stay"
    assert {"dispute-ladder-to_court", "dispute-ladder-refused_lawfully"} <= names, "the ladder on its own replays"
    for path in LADDER_PATHS:
        assert patches_in(HISTORIES[0].parent / f"{path}.json") == {CURRENT}, f"{path}: current shape"
        assert f"before-perf-timers-{path}" in names


def patches_in(path: Path) -> set[str]:
    """The patch ids a recorded history's markers carry."""
    found = set()
    for event in json.loads(path.read_text(encoding="utf-8"))["events"]:
        marker = event.get("markerRecordedEventAttributes", {})
        if marker.get("markerName") == "core_patch":
            data = marker["details"]["patch-data"]["payloads"][0]["data"]
            found.add(json.loads(base64.b64decode(data))["id"])
    return found


# every playbook in playbooks/ (archive/ holds older versions, whose incidents the histories of their day cover)
PLAYBOOKS = Path(__file__).parent.parent / "playbooks"
LIBRARY = [p.stem for p in sorted(PLAYBOOKS.glob("*.yaml")) if p.name != "sms_templates.yaml"]  # not a playbook


def test_the_library_is_found_in_the_directory():
    assert len(LIBRARY) >= 5 and {"smart-meter-group-complaint", "dispute-ladder"} <= set(LIBRARY)


@pytest.mark.parametrize("playbook_id", LIBRARY)
def test_every_path_of_a_library_playbook_has_a_history(playbook_id):
    from groupdesk.drill_paths import reopened_route, routes
    from groupdesk.playbook_loader import find_playbook

    playbook = find_playbook(PLAYBOOKS, playbook_id)
    paths = set(routes(playbook)) | ({reopened_route(playbook)} - {None})  # and two dissatisfied follow-ups
    missing = paths - {p.stem for p in HISTORIES}
    assert not missing, f"record them: tests/record_histories.py --playbook {playbook_id} ({missing} missing)"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path):
    outcome = await replay(history_from_file(path), str(path))
    assert outcome.error is None, f"{path.name}: {outcome.error}"


@workflow.defn(name="GroupIncident")
class ReorderedIncident(GroupIncidentWorkflow):
    """A careless change: one extra timer before the playbook starts."""

    @workflow.run
    async def run(self, start: StartIncident) -> IncidentState:
        await workflow.sleep(1)
        return await super().run(start)


async def test_a_non_deterministic_change_is_caught_and_located():
    outcome = await replay(history_from_file(WITH_ACTIVITIES), "canary", workflows=(ReorderedIncident,))
    assert outcome.error and "nondetermin" in outcome.error.lower()
    # events 5-6: the approval-code-activity patch that __init__ records; the timer meets the next command
    assert outcome.diverged_at.startswith("event 7 (MARKER_RECORDED)")


def test_cli_replays_files_and_fails_on_a_tampered_history(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["replay", *map(str, HISTORIES)])
    assert ok.exit_code == 0 and f"{len(HISTORIES)} replayed, 0 failed" in ok.output
    data = json.loads(WITH_ACTIVITIES.read_text(encoding="utf-8"))
    scheduled = next(e for e in data["events"] if "activityTaskScheduledEventAttributes" in e)
    scheduled["activityTaskScheduledEventAttributes"]["activityType"]["name"] = "send_letters"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(data), encoding="utf-8")
    bad = runner.invoke(app, ["replay", str(tampered)])
    assert bad.exit_code == 1
    assert f"diverged at event {scheduled['eventId']} (ACTIVITY_TASK_SCHEDULED)" in bad.output
    assert "1 failed" in bad.output
    missing = runner.invoke(app, ["replay", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2
