"""Templates branch on the recipient's role id, so a renamed role label never sends the complainant the staff text."""

from __future__ import annotations

import pytest

from activities.sms import _context, source_for
from groupdesk.runtime.config import REPO_ROOT
from groupdesk.core.models import SendMessages
from groupdesk.playbooks.loader import find_playbook
from groupdesk.playbooks.templating import TemplateProblem, check_template, render

PLAYBOOK = find_playbook(REPO_ROOT / "playbooks", "smart-meter-group-complaint")


def rendered(step: str, role: str, lang: str, owner: str = "hall_lead", labels: dict | None = None) -> str:
    request = SendMessages(
        incident_id="xicheng-20261122-a1b2c3", hall_id="xicheng", step=step, purpose="step_started",
        key="k", recipients=[role], template=PLAYBOOK.templates[PLAYBOOK.steps[step].template],
        audience_templates={r: PLAYBOOK.templates[n] for r, n in PLAYBOOK.steps[step].audiences.items()},
        context={"hall_name": "西城营业厅", "summary": "电量异常", "incident_id": "xicheng-20261122-a1b2c3",
                 "deadline": "2026-11-25T10:00:00+08:00", "rejection_reason": ""},
        step_title={"zh-CN": "校验", "en": "calibration"}, owner_role=owner)
    context = _context(request, role, "张先生", lang)
    context.update(labels or {})
    return render(source_for(request, role, lang), context)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_complainant_gets_the_complainant_text_whatever_the_role_is_called(lang):
    for_lead = rendered("metrology_calibration", "lead_complainant", lang)
    for_staff = rendered("metrology_calibration", "hall_lead", lang)
    assert "xicheng-20261122-a1b2c3" not in for_lead and "xicheng-20261122-a1b2c3" in for_staff
    renamed = rendered("metrology_calibration", "lead_complainant", lang, labels={"recipient_role": "客户代表"})
    assert renamed == for_lead, "a renamed role label changed what the complainant is sent"


def test_owner_and_others_are_told_apart_by_role_id():
    """A playbook for Twilio may still branch on the role id (the shipped ones give each audience its own
    template instead, which Aliyun and Tencent Cloud can send)."""
    branching = {"zh-CN": "x", "en": "{% if recipient_role_id == owner_role_id %}{{ recipient_name }}: please come"
                                    "{% else %}{{ recipient_name }}: please receive them{% endif %}"}
    request = SendMessages(incident_id="i", hall_id="xicheng", step="s", purpose="step_started", key="k",
                           recipients=["metering_technician", "hall_lead"], template=branching,
                           context={}, step_title={"zh-CN": "s", "en": "s"}, owner_role="metering_technician")
    owner = render(branching["en"], _context(request, "metering_technician", "张先生", "en"))
    other = render(branching["en"], {**_context(request, "hall_lead", "张先生", "en"), "recipient_role": "x",
                                     "owner_role": "x"})  # equal labels, different roles
    assert owner.startswith("张先生: please come") and "please receive them" in other


def test_the_playbook_validator_knows_the_role_ids():
    check_template('{% if recipient_role_id == "lead_complainant" %}a{% endif %}', "close_notice")
    check_template('{% if recipient_role_id == owner_role_id %}a{% endif %}', "step_started")
    with pytest.raises(TemplateProblem, match="owner_role_id"):
        check_template('{% if recipient_role_id == owner_role_id %}a{% endif %}', "close_notice")


def test_a_step_template_defaults_to_the_step_id():
    assert PLAYBOOK.steps["move_to_vip_room"].template == "move_to_vip_room"
    assert PLAYBOOK.steps["director_review"].template == "director_review"


def test_the_complainant_gets_its_own_template_through_the_message_builder(make_start):
    from datetime import datetime, timezone

    from workflows.machine.messages import MessageBuilder
    from workflows.machine.incident import IncidentMachine

    machine = IncidentMachine.new(make_start(), datetime(2026, 11, 23, 2, tzinfo=timezone.utc))
    request = MessageBuilder(machine.start, machine.state).for_step(
        "metrology_calibration", "step_started", ["metrology_bureau", "hall_lead", "lead_complainant"],
        "metrology_calibration", "start")
    assert set(request.audience_templates) == {"lead_complainant"}
    assert source_for(request, "lead_complainant", "zh-CN") == PLAYBOOK.templates[
        "metrology_calibration_complainant"]["zh-CN"]
    assert source_for(request, "hall_lead", "en") == PLAYBOOK.templates["metrology_calibration"]["en"]


def _variant(tmp_path, old: str, new: str):
    import shutil

    from groupdesk.playbooks.loader import PlaybookError, load_playbook

    source = REPO_ROOT / "playbooks"
    shutil.copytree(source / "templates", tmp_path / "templates", dirs_exist_ok=True)
    text = (source / "smart-meter-group-complaint.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "variant.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(PlaybookError) as refused:
        load_playbook(path)
    return str(refused.value)


def test_an_audience_must_be_notified_and_its_template_must_exist(tmp_path):
    line = "audiences: {lead_complainant: metrology_calibration_complainant}"
    assert "'metering_technician' is not notified here" in _variant(
        tmp_path, line, "audiences: {metering_technician: metrology_calibration_complainant}")
    assert "unknown template 'no_such'" in _variant(tmp_path, line, "audiences: {lead_complainant: no_such}")
