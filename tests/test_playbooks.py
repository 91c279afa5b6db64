"""Playbooks are data: the shipped one is valid, and every mistake in the corpus is named with its fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from groupdesk.cli import app
from groupdesk.playbooks.loader import PlaybookError, load_playbook
from groupdesk.core.roles import ROLE_IDS

CORPUS = Path(__file__).parent / "bad_playbooks"
BAD = sorted(p for p in CORPUS.glob("*.yaml") if not p.name.startswith("_"))


def expected(path: Path) -> str:
    return path.read_text(encoding="utf-8").splitlines()[0].removeprefix("# expect: ").strip()


def test_the_corpus_base_is_valid():
    pb = load_playbook(CORPUS / "_valid_mini.yaml")
    assert list(pb.steps) == ["greet", "close"]


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_each_mistake_is_rejected_with_file_step_and_fix(path):
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    message = str(info.value)
    assert expected(path) in message
    assert message.startswith(str(path)), "the message names the file"


def test_corpus_covers_the_mistakes_the_issue_names():
    names = {p.stem for p in BAD}
    assert {"unknown_next_step", "unknown_role", "unknown_template", "outcome_without_next",
            "template_unknown_variable", "bad_duration"} <= names


def test_shipped_playbook_encodes_the_procedure(playbook):
    steps = playbook.steps
    assert playbook.start == ["move_to_vip_room", "keep_order"]
    assert {k: v.next for k, v in steps["talk_with_lead"].outcomes.items() if not v.stay} == {
        "accepted": "close", "not_accepted": "director_review"}
    assert {k for k, v in steps["talk_with_lead"].outcomes.items() if v.stay} == {"adjourned", "went_to_government"}
    assert steps["director_review"].kind == "approval"
    assert steps["director_review"].outcomes["approved"].set_warning_tier == 3
    assert steps["director_review"].outcomes["rejected"].requires_reason
    assert {k: v.next for k, v in steps["metering_explanation"].outcomes.items()} == {
        "accepted": "close", "not_accepted": "metrology_calibration"}
    assert steps["metrology_calibration"].deadline.working_days == 5
    assert [str(steps[s].deadline) for s in ("move_to_vip_room", "keep_order", "talk_with_lead",
                                             "director_review", "metering_explanation")] == \
        ["5m", "5m", "30m", "15m", "45m"]
    assert str(steps["close"].follow_up.after) == "1wd"
    for step in steps.values():
        assert step.owner in ROLE_IDS


def test_cli_validate_reports_each_bad_file_and_fails():
    runner = CliRunner()
    ok = runner.invoke(app, ["playbooks", "validate"])
    assert ok.exit_code == 0 and "ok:" in ok.output
    bad = runner.invoke(app, ["playbooks", "validate", str(CORPUS / "unknown_role.yaml"),
                              str(CORPUS / "_valid_mini.yaml")])
    assert bad.exit_code == 1
    assert "unknown role 'janitor'" in bad.output and "ok:" in bad.output
