"""Every path of every shipped playbook, walked by the machine alone (no server, `now` passed in).

A path is a choice of one leaving outcome per step; every appointment a step offers is made
once on the way. Each walk must end closed, with the messages every transition calls for and
no message key twice; a playbook added to playbooks/ is walked too.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from groupdesk.runtime.config import REPO_ROOT
from groupdesk.core.models import DecideApproval, RecordFollowUp, RecordOutcome, SendMessages
from groupdesk.core.playbook import Playbook
from groupdesk.playbooks.loader import load_playbooks
from machine_helpers import (  # noqa: F401  (autouse)
    T0, chosen_data, new_machine, no_temporal_server, resolve, settle_children,
)

PLAYBOOKS = load_playbooks(REPO_ROOT / "playbooks")


def choices(pb: Playbook) -> list[dict[str, str]]:
    """Every combination of leaving outcomes (one per step that has a choice)."""
    options = {sid: [name for name, o in step.outcomes.items() if not o.stay]
               for sid, step in pb.steps.items() if step.kind != "close"}
    ids = list(options)
    return [dict(zip(ids, combo)) for combo in itertools.product(*(options[sid] for sid in ids))]


def walk(pb: Playbook, choice: dict[str, str]) -> tuple[tuple[str, ...], list[SendMessages], object]:
    """Drive one incident down `choice`; the route it took, every message it asked for, the machine."""
    m = new_machine(playbook=pb)
    now = T0
    sent = resolve(m, m.take_effects())
    route: list[str] = []
    for _ in range(100):
        active = [sid for sid in m.active_steps() if pb.steps[sid].kind != "close"]
        if not active:
            break
        sid = active[0]
        now += timedelta(minutes=1)
        step = pb.steps[sid]
        for name, o in step.outcomes.items():  # make each appointment once before leaving
            if o.appointment and not any(a.step == sid for a in m.state.appointments):
                at = now + timedelta(days=2)
                m.record_outcome(RecordOutcome(step=sid, outcome=name, actor="sun.li",
                                               data={f: at.isoformat() for f in o.requires_data}), now)
                now = m.state.appointments[-1].remind_at
                m.fire_due(now)
                sent += resolve(m, m.take_effects())
        name = choice[sid]
        route.append(f"{sid}:{name}")
        if step.kind == "approval":
            approve = name == "approved"
            m.decide(DecideApproval(decision="approve" if approve else "reject", actor="director",
                                    reason="" if approve else "现场可控"), now)
        else:
            m.record_outcome(RecordOutcome(step=sid, outcome=name, actor="staff", data=chosen_data(step.outcomes[name]),
                                           note="原因" if step.outcomes[name].requires_reason else ""), now)
        sent += settle_children(m, resolve(m, m.take_effects()), now)  # a hand-over's child ends at once
    follow = m.state.follow_up
    if follow is not None and m.state.status == "open":
        m.fire_due(follow.send_at)
        sent += resolve(m, m.take_effects())
        m.answer_follow_up(RecordFollowUp(score=5, actor="sun.li"), follow.send_at + timedelta(minutes=5))
    return tuple(route), [r for r in sent if isinstance(r, SendMessages)], m


@pytest.mark.parametrize("pb", PLAYBOOKS.values(), ids=list(PLAYBOOKS))
def test_every_path_of_every_playbook_closes_with_its_messages(pb):
    routes = set()
    for choice in choices(pb):
        route, sent, m = walk(pb, choice)
        routes.add(route)
        s = m.state
        assert s.status == "closed" and s.warning_tier == 0, route
        keys = [r.key for r in sent if isinstance(r, SendMessages)]
        assert len(keys) == len(set(keys)), f"{route}: a message key twice"
        for sid, st in s.steps.items():  # every step entered announced itself to its notify list
            step = pb.steps[sid]
            if step.notify and st.started_at is not None:
                prefix = f"{s.id}/{sid}#{st.visit}/"
                msg = next((r for r in sent if r.key.startswith(prefix)
                            and r.key.endswith(("/start", "/closed"))), None)
                owner = f"person:{s.owner}"  # `incident_owner`: the one person who owns it
                assert msg is not None and msg.recipients == [owner if r == "incident_owner" else r
                                                               for r in step.notify], f"{route}: {sid} was not announced"
        for entry in (e for e in s.timeline if e.kind == "outcome"):
            name = entry.detail and next(n for n in pb.steps[entry.step].outcomes
                                         if entry.detail.startswith(pb.outcome_label(entry.step, n)))
            o = pb.steps[entry.step].outcomes[name]
            if o.notify:
                assert any(r.key.endswith(f"/outcome-{name}") and r.recipients == o.notify for r in sent), route
        for appt in s.appointments:
            assert appt.reminded, f"{route}: appointment at {appt.step} never reminded"
    assert len(routes) >= 1


def test_the_smart_meter_playbook_has_exactly_the_seven_drill_paths():
    from groupdesk.drills.smart_meter import PATHS

    pb = PLAYBOOKS["smart-meter-group-complaint"]
    routes = {walk(pb, choice)[0] for choice in choices(pb)}
    handed_over = {r for r in routes if "metrology_calibration:result_disputed" in r}  # recorded apart
    assert len(routes - handed_over) == len(PATHS) == 7 and len(handed_over) == 2
    talks = {r[2] for r in routes}
    assert talks == {"talk_with_lead:accepted", "talk_with_lead:not_accepted"}
