"""The service-attitude playbook (issue 14, item 3): the staff member complained about is recorded and never acts
on it, a more senior person owns it, the apology and the accountability entry (what was found, the measure) are
recorded and archived. Every path on the pure machine; its recorded histories exist."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError

from groupdesk.record.archive_record import build_record
from groupdesk.runtime.config import REPO_ROOT
from groupdesk.core.models import HandOver, RecordFollowUp, RecordOutcome
from groupdesk.drills.service_attitude import PERSON_INVOLVED, SERVICE_ATTITUDE, SERVICE_ATTITUDE_ACTS
from groupdesk.core.validation import InputError
from groupdesk.incidents.registration import prepare_start
from groupdesk.playbooks.loader import load_playbook
from machine_helpers import DIRECTORY, T0, drain, unfounded
from workflows import checks
from workflows.machine.incident import IncidentMachine

PLAYBOOK = load_playbook(REPO_ROOT / "playbooks" / f"{SERVICE_ATTITUDE}.yaml")
HISTORIES = Path(__file__).parent / "histories"
MIN = timedelta(minutes=1)


def start(person: str = PERSON_INVOLVED, hall: str = "xicheng", starter: str = "sun.li"):
    return prepare_start(
        directory=DIRECTORY, playbook=PLAYBOOK, hall_id=hall, headcount=2, lead_name="李秀英",
        lead_phone="13900139000", summary="营业员态度生硬", started_by=starter, incident_id="sa-1",
        registration={"person_involved": person, "category": "service"},
    )


@pytest.mark.parametrize("path", SERVICE_ATTITUDE_ACTS)
def test_every_path_closes_with_the_accountability_entry_and_never_lets_the_person_act(path):
    request = start()
    m = IncidentMachine.new(request, T0)
    assert m.state.owner == "sun.li" and m.state.registration.person_involved == PERSON_INVOLVED
    unfounded(m, T0)  # the close's finding (its review by the director is tests/test_machine_findings.py's)
    now = T0
    for act in SERVICE_ATTITUDE_ACTS[path]:
        now += MIN
        with pytest.raises(ApplicationError, match="更换当事人"):  # whatever role they claim
            checks.check_outcome(m, act.request().model_copy(update={"actor": PERSON_INVOLVED,
                                                                      "roles": ["hall_lead", "centre_director"]}), T0)
        checks.check_outcome(m, act.request(), T0)  # from the roster at start, as a request straight to Temporal
        m.record_outcome(act.request(), now)
        assert all(e.excluded == [PERSON_INVOLVED] for e in drain(m) if hasattr(e, "excluded"))
    assert m.state.stage == "follow_up"
    accountability = m.state.steps["accountability"]
    assert set(accountability.data) == {"finding", "measure"} and accountability.outcome == "recorded"
    visited = [sid for sid in PLAYBOOK.steps if sid in m.state.steps]
    assert ("apology" in visited) == (path != "not_founded")
    assert ("director_apology" in visited) == (path == "director_apology")
    with pytest.raises(ApplicationError, match="更换当事人"):
        checks.check_follow_up(m, RecordFollowUp(score=5, actor=PERSON_INVOLVED, roles=["hall_lead"]))
    m.state.follow_up.sent = True
    m.answer_follow_up(RecordFollowUp(score=4, actor="sun.li"), now + MIN)
    assert m.state.status == "closed"
    record = build_record(request, m.state, "run-1", b"k" * 32)
    assert record["person_involved"] == PERSON_INVOLVED
    assert record["outcome_data"]["accountability"] == dict(SERVICE_ATTITUDE_ACTS[path][-1].data)
    assert (HISTORIES / f"service-attitude-{path}.json").exists(), "record it: tests/record_histories.py"


def test_the_accountability_entry_needs_what_was_found_and_the_measure():
    m = IncidentMachine.new(start(), T0)
    for act in SERVICE_ATTITUDE_ACTS["not_founded"][:2]:
        m.record_outcome(act.request(), T0 + MIN)
    with pytest.raises(ApplicationError, match="needs measure"):
        checks.check_outcome(m, RecordOutcome(step="accountability", outcome="recorded", actor="sun.li",
                                              data={"finding": "属实"}), T0)
    fresh = IncidentMachine.new(start(), T0)
    fresh.record_outcome(RecordOutcome(step="take_over", outcome="received", actor="sun.li"), T0)
    with pytest.raises(ApplicationError, match="needs a reason"):  # 'not founded' says why
        checks.check_outcome(fresh, RecordOutcome(step="investigate", outcome="not_confirmed", actor="sun.li"), T0)


def test_a_complaint_about_a_hall_lead_is_owned_by_the_director_and_cannot_be_handed_back():
    m = IncidentMachine.new(start("anna.lee", "dongcheng", "wu.fang"), T0)
    assert m.state.owner == "wang.jun", "a peer of the person is not senior enough"
    with pytest.raises(ApplicationError, match="更换当事人"):
        checks.check_handover(m, HandOver(actor="wang.jun", to="anna.lee", reason="由她处理", roles=["centre_director"]))
    checks.check_outcome(m, RecordOutcome(step="take_over", outcome="received", actor="wu.fang"), T0)


def test_the_playbook_requires_the_person_involved():
    with pytest.raises(InputError, match="needs the staff member the complaint is about") as caught:
        start(person="")
    assert caught.value.field == "--person-involved"
