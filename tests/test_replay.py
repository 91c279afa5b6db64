"""Recorded incident histories replay against the current workflow code, as the versioning policy says.

tests/histories/*.json: every current path of every playbook, recorded by this code (no patch marker).
tests/histories/perf-timers/: recorded by the previous release; replayed while the workflow reads its marker on
replay (groupdesk.core.versions.DEPRECATED). tests/histories/retired/: recorded under branches this code no
longer has; kept for one release, never replayed (they do not replay: their incidents must end first).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from temporalio import workflow
from typer.testing import CliRunner

from groupdesk.core.models import IncidentState, StartIncident
from groupdesk.core.versions import DEPRECATED, RETIRED
from workflows.group_incident import GroupIncidentWorkflow

pytestmark = pytest.mark.server  # the server tier: every recorded history through the Temporal core's replayer, and the replay command as a process

# This module defines a workflow (ReorderedIncident), so the sandbox re-imports it; the CLI and the
# replayer are not workflow code and are passed through as they are.
with workflow.unsafe.imports_passed_through():
    from groupdesk.cli import app
    from groupdesk.engine.replay import history_from_file, replay
    from groupdesk.playbooks.loader import NOT_PLAYBOOKS

HISTORIES = Path(__file__).parent / "histories"
CURRENT = sorted(HISTORIES.glob("*.json"))
KEPT_FOR = {patch: sorted((HISTORIES / patch).glob("*.json")) for patch in DEPRECATED}
RETIRED_FILES = sorted((HISTORIES / "retired").glob("*.json"))
REPLAYED = CURRENT + [p for files in KEPT_FOR.values() for p in files]
# A history whose hand-over loads the child's playbook by activity: the tampering test renames that activity.
WITH_ACTIVITY = HISTORIES / "ladder-result_disputed.json"


def patches_in(path: Path) -> set[str]:
    """The patch ids a recorded history's markers carry."""
    found = set()
    for event in json.loads(path.read_text(encoding="utf-8"))["events"]:
        marker = event.get("markerRecordedEventAttributes", {})
        if marker.get("markerName") == "core_patch":
            data = marker["details"]["patch-data"]["payloads"][0]["data"]
            found.add(json.loads(base64.b64decode(data))["id"])
    return found


def test_a_current_history_for_every_drill_is_committed():
    from groupdesk.drills.smart_meter import PATHS, RECORDED_ONLY
    from groupdesk.drills.handovers import LADDER_OWN_PATHS, LADDER_PATHS
    from groupdesk.drills.service_attitude import SERVICE_ATTITUDE_PATHS

    names = {p.stem for p in CURRENT}
    wanted = {*PATHS, *RECORDED_ONLY, *LADDER_PATHS, "ladder-result_disputed-child",
              *(f"dispute-ladder-{n}" for n in LADDER_OWN_PATHS), *(f"service-attitude-{n}" for n in SERVICE_ATTITUDE_PATHS),
              "publicity-alert-talk_accepted", "sensitive-period-approved_then_metrology", "periodic-report-weekly"}
    assert wanted <= names, f"record them: make record-histories ({sorted(wanted - names)} missing)"
    for path in CURRENT:
        assert patches_in(path) == set(), f"{path.name}: a current history records no patch marker"


def local_activities_in(path: Path) -> set[str]:
    found = set()
    for event in json.loads(path.read_text())["events"]:
        details = event.get("markerRecordedEventAttributes", {}).get("details", {})
        if "data" in details:
            found.add(json.loads(base64.b64decode(details["data"]["payloads"][0]["data"]))["activity_type"])
    return found


def test_current_histories_count_working_days_in_the_workflow():
    """A start carries its calendar snapshot: a working-day deadline costs no local activity (no marker)."""
    recorded = set().union(*(local_activities_in(path) for path in CURRENT))
    assert "send_batch" in recorded and "working_day_deadline" not in recorded, "record them: make record-histories"


# every playbook in playbooks/ (archive/ holds older versions, whose incidents the histories of their day cover)
PLAYBOOKS = Path(__file__).parent.parent / "playbooks"
LIBRARY = [p.stem for p in sorted(PLAYBOOKS.glob("*.yaml")) if p.name not in NOT_PLAYBOOKS]


def test_the_library_is_found_in_the_directory():
    assert len(LIBRARY) >= 5 and {"smart-meter-group-complaint", "dispute-ladder"} <= set(LIBRARY)


@pytest.mark.parametrize("playbook_id", LIBRARY)
def test_every_path_of_a_library_playbook_has_a_current_history(playbook_id):
    from groupdesk.drills.paths import reopened_route, routes
    from groupdesk.playbooks.loader import find_playbook

    playbook = find_playbook(PLAYBOOKS, playbook_id)
    paths = set(routes(playbook)) | ({reopened_route(playbook)} - {None})  # and two dissatisfied follow-ups
    missing = paths - {p.stem for p in CURRENT}
    assert not missing, f"record them: tests/record_histories.py --playbook {playbook_id} ({missing} missing)"


def test_histories_of_a_deprecated_patch_are_kept_while_it_is():
    for patch, files in KEPT_FOR.items():
        assert len(files) >= 50, f"tests/histories/{patch}/: the previous release's paths"
        for path in files:
            assert patches_in(path) == {patch}, f"{path.name}: recorded under {patch} alone"


def test_retired_histories_are_kept_apart_and_carry_only_retired_branches():
    assert len(RETIRED_FILES) >= 50
    assert not set(RETIRED_FILES) & set(REPLAYED)
    for path in RETIRED_FILES:
        assert patches_in(path) <= set(RETIRED), f"{path.name}: only retired patches (or none, before patches)"


@pytest.mark.parametrize("name", ["before-perf-timers-talk_accepted",  # perf-local-effects
                                  "before-local-effects-talk_accepted",  # a remote activity per message
                                  "before-sms-replies-talk_accepted"])  # before the first patch
async def test_a_retired_branch_no_longer_replays(name):
    """Why its open incidents must end before this release runs: this code cannot continue them."""
    path = HISTORIES / "retired" / f"{name}.json"
    outcome = await replay(history_from_file(path), str(path))
    assert outcome.error and "nondetermin" in outcome.error.lower()


@pytest.mark.parametrize("path", REPLAYED, ids=[str(p.relative_to(HISTORIES)) for p in REPLAYED])
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
    outcome = await replay(history_from_file(HISTORIES / "talk_accepted.json"), "canary",
                           workflows=(ReorderedIncident,))
    assert outcome.error and "nondetermin" in outcome.error.lower()
    # event 5: the first command of the first workflow task (its messages' local activity) meets the timer
    assert outcome.diverged_at.startswith("event 5 (MARKER_RECORDED)")


def test_cli_replays_files_and_fails_on_a_tampered_history(tmp_path):
    """The command over a few files, one of each kind (test_history_replays replays every one of them)."""
    runner = CliRunner()
    files = [WITH_ACTIVITY, CURRENT[0], *(files[0] for files in KEPT_FOR.values())]
    ok = runner.invoke(app, ["replay", *map(str, files)])
    assert ok.exit_code == 0 and f"{len(files)} replayed, 0 failed" in ok.output
    data = json.loads(WITH_ACTIVITY.read_text(encoding="utf-8"))
    scheduled = next(e for e in data["events"] if "activityTaskScheduledEventAttributes" in e)
    scheduled["activityTaskScheduledEventAttributes"]["activityType"]["name"] = "load_playbook_file"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(data), encoding="utf-8")
    bad = runner.invoke(app, ["replay", str(tampered)])
    assert bad.exit_code == 1
    assert f"diverged at event {scheduled['eventId']} (ACTIVITY_TASK_SCHEDULED)" in bad.output
    assert "1 failed" in bad.output
    missing = runner.invoke(app, ["replay", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2

