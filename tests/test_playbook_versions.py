"""A running incident keeps its snapshot; ops can move it to a newer version, where that makes sense."""

from __future__ import annotations

import re
import shutil

import pytest
from temporalio.client import WorkflowUpdateFailedError
from typer.testing import CliRunner

from groupdesk.cli import app
from groupdesk.runtime.config import REPO_ROOT
from groupdesk.core.models import MigratePlaybook
from groupdesk.playbooks.loader import find_playbook, load_playbook
from helpers import WF, messages, outcome, running_worker, settle, start, through_talk


async def refused(call, expected: str) -> None:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await call
    assert expected in str(info.value.cause)


@pytest.fixture
def versions(tmp_path):
    """v1 in archive/, v2 (shorter talk deadline, new talk template) current, v3 without talk_with_lead."""
    root = tmp_path / "playbooks"
    shutil.copytree(REPO_ROOT / "playbooks", root)
    shutil.rmtree(root / "archive", ignore_errors=True)  # the repo's own older versions: not these
    (root / "archive").mkdir()
    shutil.copytree(root / "templates", root / "archive" / "templates")
    current = root / "smart-meter-group-complaint.yaml"
    current.write_text(re.sub(r"(?m)^version: \d+$", "version: 1", current.read_text(encoding="utf-8")), encoding="utf-8")
    shutil.move(current, root / "archive" / "smart-meter-group-complaint-v1.yaml")
    text = (root / "archive" / "smart-meter-group-complaint-v1.yaml").read_text(encoding="utf-8")
    v2 = text.replace("version: 1", "version: 2").replace(
        "    owner: hall_lead\n    deadline: 30m", "    owner: hall_lead\n    deadline: 20m")
    current.write_text(v2, encoding="utf-8")
    for name in ("talk_with_lead", "director_review"):
        template = root / "templates" / "smart-meter-group-complaint" / f"{name}.zh-CN.j2"
        template.write_text("【v2】" + template.read_text(encoding="utf-8"), encoding="utf-8")
    v3 = v2.replace("version: 2", "version: 3").replace("next: talk_with_lead", "next: director_review") \
        .replace("to: talk_with_lead", "to: metering_explanation")
    start_talk, end_talk = v3.index("  talk_with_lead:\n"), v3.index("  director_review:\n")
    (tmp_path / "v3.yaml").write_text(v3[:start_talk] + v3[end_talk:], encoding="utf-8")
    shutil.copytree(root / "templates", tmp_path / "templates")
    return root, load_playbook(root / "archive" / "smart-meter-group-complaint-v1.yaml"), \
        find_playbook(root, "smart-meter-group-complaint"), load_playbook(tmp_path / "v3.yaml")


def test_find_and_diff_versions(versions, monkeypatch):
    root, v1, v2, _ = versions
    assert (v1.version, v2.version) == (1, 2)
    assert find_playbook(root, "smart-meter-group-complaint", version=1).version == 1
    result = CliRunner().invoke(app, ["playbooks", "diff", str(root / "archive" / "smart-meter-group-complaint-v1.yaml"),
                                      str(root / "smart-meter-group-complaint.yaml")])
    assert result.exit_code == 0
    assert "step talk_with_lead: deadline: 30m -> 20m" in result.output
    assert "template talk_with_lead.zh-CN:" in result.output and "+【v2】" in result.output


def test_the_library_keeps_the_smart_meter_v1_beside_its_v2():
    """v2 (this session's remedies, hand-overs, adjourn and 信访) is current; v1 stays findable for its incidents."""
    root = REPO_ROOT / "playbooks"
    v1, current = find_playbook(root, "smart-meter-group-complaint", version=1), \
        find_playbook(root, "smart-meter-group-complaint")
    assert (v1.version, current.version) == (1, 2)
    assert "meter_replacement_and_refund" in current.steps and "meter_replacement_and_refund" not in v1.steps
    result = CliRunner().invoke(app, ["playbooks", "diff", str(root / "archive" / "smart-meter-group-complaint-v1.yaml"),
                                      str(root / "smart-meter-group-complaint.yaml")])
    assert result.exit_code == 0 and "step added: meter_replacement_and_refund" in result.output


async def test_migrate_a_running_incident(skipping_env, settings, make_start, versions):
    env = skipping_env
    _, v1, v2, v3 = versions
    async with running_worker(env, settings):
        handle = await start(env, settings, make_start(playbook=v1))
        await through_talk(handle)
        def migrate(playbook, actor="ma.ning", reason=""):
            return handle.execute_update(WF.migrate_playbook,
                                         MigratePlaybook(playbook=playbook, actor=actor, reason=reason))

        await refused(migrate(v2, actor="sun.li"), "may not move an incident")
        await refused(migrate(v3), "has no step talk_with_lead")
        ack = await migrate(v2, reason="shorter talk deadline")
        assert ack.current_steps == ["talk_with_lead"]
        await refused(migrate(v2), "not newer")
        await outcome(handle, "talk_with_lead", "not_accepted", "sun.li")
        st = await settle(env, handle)
    assert st.playbook_version == 2
    (entry,) = [e for e in st.timeline if e.kind == "playbook_migrated"]
    assert entry.actor == "ma.ning" and entry.detail == "v1 -> v2: shorter talk deadline"
    talk = [m for m in messages(settings, st.id) if m.step == "talk_with_lead"]
    assert talk and not talk[0].body.startswith("【v2】"), "a message sent before the move keeps the old text"
    approval = [m for m in messages(settings, st.id) if m.purpose == "approval_request"]
    assert approval and approval[0].body.startswith("【v2】"), "what comes after the move follows v2"
