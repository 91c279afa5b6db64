"""Templates branch on the recipient's role id, so a renamed role label never sends the complainant the staff text."""

from __future__ import annotations

import pytest

from activities.sms import _context
from groupdesk.config import REPO_ROOT
from groupdesk.core.models import SendMessages
from groupdesk.playbook_loader import find_playbook
from groupdesk.templating import TemplateProblem, check_template, render

PLAYBOOK = find_playbook(REPO_ROOT / "playbooks", "smart-meter-group-complaint")


def rendered(step: str, role: str, lang: str, owner: str = "hall_lead", labels: dict | None = None) -> str:
    request = SendMessages(
        incident_id="xicheng-20261122-a1b2c3", hall_id="xicheng", step=step, purpose="step_started",
        key="k", recipients=[role], template=PLAYBOOK.templates[PLAYBOOK.steps[step].template],
        context={"hall_name": "西城营业厅", "summary": "电量异常", "incident_id": "xicheng-20261122-a1b2c3",
                 "deadline": "2026-11-25T10:00:00+08:00"},
        step_title={"zh-CN": "校验", "en": "calibration"}, owner_role=owner)
    context = _context(request, role, "张先生", lang)
    context.update(labels or {})
    return render(request.template[lang], context)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_complainant_gets_the_complainant_text_whatever_the_role_is_called(lang):
    for_lead = rendered("metrology_calibration", "lead_complainant", lang)
    for_staff = rendered("metrology_calibration", "hall_lead", lang)
    assert "xicheng-20261122-a1b2c3" not in for_lead and "xicheng-20261122-a1b2c3" in for_staff
    renamed = rendered("metrology_calibration", "lead_complainant", lang, labels={"recipient_role": "客户代表"})
    assert renamed == for_lead, "a renamed role label changed what the complainant is sent"


def test_owner_and_others_are_told_apart_by_role_id():
    owner = rendered("metering_explanation", "metering_technician", "en", owner="metering_technician")
    other = rendered("metering_explanation", "hall_lead", "en", owner="metering_technician",
                     labels={"recipient_role": "x", "owner_role": "x"})  # equal labels, different roles
    assert owner.startswith("张先生: please come") and "please receive them" in other


def test_the_playbook_validator_knows_the_role_ids():
    check_template('{% if recipient_role_id == "lead_complainant" %}a{% endif %}', "close_notice")
    check_template('{% if recipient_role_id == owner_role_id %}a{% endif %}', "step_started")
    with pytest.raises(TemplateProblem, match="owner_role_id"):
        check_template('{% if recipient_role_id == owner_role_id %}a{% endif %}', "close_notice")
