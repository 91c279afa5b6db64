"""Driving the pure incident machine in tests: no Temporal server, `now` passed in by hand."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from groupdesk.runtime.config import EXAMPLE_DIRECTORY, REPO_ROOT
from groupdesk.people.directory import load_directory
from groupdesk.incidents.registration import prepare_start
from groupdesk.core.models import DecideApproval, Delivery, RecordOutcome, SendMessages, SendResult
from groupdesk.playbooks.loader import load_playbook
from groupdesk.core.workcal import add_working_days
from workflows.machine.incident import IncidentMachine, ResolveWorkingDays

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # a Monday, 10:00 in Shanghai
PLAYBOOK = load_playbook(REPO_ROOT / "playbooks" / "smart-meter-group-complaint.yaml")
DIRECTORY = load_directory(EXAMPLE_DIRECTORY)
STAFF = {"guide": "zhao.min", "security_guard": "qian.lei", "hall_lead": "sun.li", "centre_director": "wang.jun",
         "metering_technician": "feng.tao", "metrology_bureau": "metrology.duty"}


def new_machine(now: datetime = T0, time_scale: float | None = None, playbook=PLAYBOOK) -> IncidentMachine:
    span = playbook.applies.headcount  # 20 people, or as near as the playbook allows
    request = prepare_start(
        directory=DIRECTORY, playbook=playbook, hall_id="xicheng", headcount=min(max(20, span.min), span.max), lead_name="张建国",
        lead_phone="13800138000", summary="智能电表换装后电量异常增长", started_by="sun.li",
        incident_id="inc-1", drill=time_scale is not None, time_scale=time_scale,
        # a playbook that requires it names the person complained about: the guide (更换当事人)
        registration={"person_involved": "zhao.min"} if "person_involved" in playbook.registration_requires else None,
    )
    return IncidentMachine.new(request, now)


def chosen_data(outcome) -> dict[str, str]:
    """became_group hands over to the playbook the client chose (the gateway gives it as data `playbook`)."""
    return {"playbook": "outage-group-complaint"} if outcome.hand_over and outcome.hand_over.playbook == "chosen" \
        else {}


def drain(m: IncidentMachine) -> list:
    """The effects recorded so far (as the workflow takes them to carry out)."""
    return m.take_effects()


def sends(effects: list) -> list[SendMessages]:
    return [e for e in effects if isinstance(e, SendMessages)]


def by_purpose(effects: list) -> dict[str, list[list[str]]]:
    """purpose -> the recipient roles of each message of that purpose."""
    found: dict[str, list[list[str]]] = {}
    for msg in sends(effects):
        found.setdefault(msg.purpose, []).append(msg.recipients)
    return found


def resolve(m: IncidentMachine, effects: list) -> list:
    """Answer every working-day request as the calendar activity would; the other effects back,
    plus whatever the answers announced."""
    rest = []
    for effect in effects:
        if isinstance(effect, ResolveWorkingDays):
            m.apply_working_days(effect, add_working_days(effect.start, effect.working_days))
        else:
            rest.append(effect)
    return rest + drain(m)


def settle_children(m: IncidentMachine, effects: list, now: datetime, resolution: str = "已签下处理协议") -> list:
    """Every child incident those effects start is started and ends with `resolution`, as the workflow
    would report it; the effects back, plus whatever the parent did then."""
    from groupdesk.core.links import ChildResult
    from workflows.machine.record import StartChild

    found = list(effects)
    for effect in effects:
        if isinstance(effect, StartChild):
            m.child_started(effect.child_id, now)
            m.child_finished(ChildResult(id=effect.child_id, status="closed", resolution=resolution), now)
            found += resolve(m, drain(m))
    return found


def outcome(m: IncidentMachine, step: str, name: str, now: datetime, note: str = "", actor: str | None = None,
            **data: str) -> list:
    """Record an outcome as the step's owner and return (resolved) the effects it made."""
    owner = m.pb.steps[step].owner
    m.record_outcome(RecordOutcome(step=step, outcome=name, actor=actor or STAFF.get(owner, "sun.li"),
                                   note=note, data=data), now)
    return resolve(m, drain(m))


def unfounded(m: IncidentMachine, now: datetime = T0, actor: str | None = None) -> None:
    """Record an unfounded finding as the incident's owner: a real incident's close requires one."""
    from groupdesk.core.finding import RecordFinding

    m.record_finding(RecordFinding(actor=actor or m.state.owner or "sun.li", founded="no", cause="other",
                                   reason="经核实投诉不属实"), now)
    drain(m)


def decide(m: IncidentMachine, now: datetime, approve: bool = True, reason: str = "") -> list:
    m.decide(DecideApproval(decision="approve" if approve else "reject", actor="wang.jun",
                            reason=reason or ("" if approve else "现场可控")), now)
    return resolve(m, drain(m))


def to_director(m: IncidentMachine, now: datetime = T0) -> list:
    drain(m)
    outcome(m, "move_to_vip_room", "done", now)
    outcome(m, "keep_order", "done", now)
    return outcome(m, "talk_with_lead", "not_accepted", now)


def delivered(request: SendMessages, status: str = "sent", error: str = "", key: str | None = None) -> SendResult:
    """What the send activity reports: one delivery per recipient role."""
    return SendResult(deliveries=[
        Delivery(key=f"{request.key}/{role}", recipient=role, role=role, to_masked="139****0101", status=status,
                 error=error) for role in request.recipients], approval_key=key)


def told_once(effects: list, hall: str = "xicheng") -> None:
    """No person gets two messages for one event: the recipients of one moment's messages, as the example
    directory names the people holding each role (the complainant is one person too)."""
    def holders(role: str) -> list[str]:
        if role == "lead_complainant":
            return [role]
        if role.startswith("person:"):  # one named staff member
            return [role.removeprefix("person:")]
        return [p.id for p in DIRECTORY.staff(hall, role)]

    # within one request the send activity reaches each person once, whatever roles name them (the owner who is
    # also the hall lead); across a moment's requests a person must not appear twice
    people = [person for request in sends(effects)
              for person in {p for role in request.recipients for p in holders(role)}]
    twice = sorted({p for p in people if people.count(p) > 1})
    assert not twice, f"told twice at one moment: {twice} ({[(r.key, r.recipients) for r in sends(effects)]})"


def text(request: SendMessages, role: str, lang: str = "zh-CN", name: str = "收件人") -> str:
    """What `role` reads: the request rendered as the send activity renders it."""
    from activities.sms import _context, source_for
    from groupdesk.playbooks.templating import render

    return render(source_for(request, role, lang), _context(request, role, name, lang))


def kinds(m: IncidentMachine, since: int = 0) -> list[str]:
    return [e.kind for e in m.state.timeline[since:]]


@pytest.fixture(autouse=True)
def no_temporal_server(monkeypatch):
    """The machine tests must never start a Temporal server: any attempt fails the test."""
    from temporalio.testing import WorkflowEnvironment

    def refuse(*args, **kwargs):
        raise AssertionError("a machine test tried to start a Temporal server")

    monkeypatch.setattr(WorkflowEnvironment, "start_local", refuse)
    monkeypatch.setattr(WorkflowEnvironment, "start_time_skipping", refuse)
    monkeypatch.setattr("groupdesk.engine.binaries.temporal_cli", refuse)
    monkeypatch.setattr("groupdesk.engine.binaries.temporal_test_server", refuse)


__all__ = ["T0", "timedelta"]
