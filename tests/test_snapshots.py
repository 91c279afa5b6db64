"""Incidents that carry the same playbook snapshot share one parsed copy (groupdesk.core.snapshots),
and running the workflow code never changes that copy, so sharing it cannot leak between incidents."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter

from groupdesk.core import snapshots
from groupdesk.core.models import StartIncident
from groupdesk.core.playbook import Playbook
from groupdesk.engine.replay import history_from_file, replay
from tests.machine_helpers import PLAYBOOK, new_machine

HISTORIES = Path(__file__).parent / "histories"
# a few long paths of different playbooks: a hand-over, promises, the warning plan, a period, the ladder
DRILLS = ["approved_then_metrology", "handed_over", "promises_kept_and_missed",
          "plan_raised_then_ended",
          "sensitive-period-approved_then_metrology", "ladder-reopened_then_handed_over",
          "outage-group-complaint-escalate-approved-dispatched_rural", "service-attitude-director_apology"]


def decoded(start: StartIncident) -> StartIncident:
    """The start as the worker receives it: through the data converter's JSON."""
    converter = pydantic_data_converter.payload_converter
    return converter.from_payloads(converter.to_payloads([start]), [StartIncident])[0]


def test_starts_with_the_same_snapshot_share_one_parsed_playbook():
    first, second = decoded(new_machine().start), decoded(new_machine().start)
    assert first is not second and first.playbook is second.playbook
    assert first.playbook == PLAYBOOK and first.playbook is not PLAYBOOK  # parsed from the JSON, equal to it
    edited = PLAYBOOK.model_copy(update={"title": {"zh-CN": "改过的标题", "en": "edited"}})
    other = decoded(new_machine(playbook=edited).start)
    assert other.playbook is not first.playbook and other.playbook.title["en"] == "edited"
    built = StartIncident.model_validate({**new_machine().start.__dict__, "playbook": PLAYBOOK})
    assert built.playbook is PLAYBOOK  # a Playbook object given in this process is kept as it is


def started_playbook(path: Path) -> dict:
    first = json.loads(path.read_text(encoding="utf-8"))["events"][0]
    payload = first["workflowExecutionStartedEventAttributes"]["input"]["payloads"][0]
    return json.loads(base64.b64decode(payload["data"]))["playbook"]


async def test_replaying_long_drills_leaves_each_shared_snapshot_as_parsed():
    for name in DRILLS:
        path = HISTORIES / f"{name}.json"
        outcome = await replay(history_from_file(path), str(path))
        assert outcome.error is None, outcome.error
        raw = started_playbook(path)
        key = snapshots.key_of(raw)  # the cached copy the replay used, found by its JSON
        assert key in snapshots._parsed, f"{name}: its snapshot was not shared"
        assert snapshots._parsed[key].model_dump() == Playbook.model_validate(raw).model_dump(), \
            f"{name}: the workflow changed its shared playbook"


def test_a_snapshots_key_is_its_content_in_order_however_the_parser_shared_its_strings():
    shared = "talk_with_lead"
    one = {"id": "p", "steps": {"a": {"next": shared}, "b": {"next": shared}}}
    other = {"id": "p", "steps": {"a": {"next": "talk_with_" + "lead"}, "b": {"next": "".join(["talk", "_with_lead"])}}}
    assert snapshots.key_of(one) == snapshots.key_of(other)
    reordered = {"id": "p", "steps": {"b": {"next": shared}, "a": {"next": shared}}}
    assert snapshots.key_of(reordered) != snapshots.key_of(one)  # an edit, however small: its own entry
    assert snapshots.key_of({"id": "p", "at": object()}) is None  # not plain JSON: parsed on its own
