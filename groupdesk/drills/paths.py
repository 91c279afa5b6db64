"""Every path of any playbook, and scripted staff that drive an incident down one, for drills and recordings.

A path is a choice of one leaving outcome per branching step it reaches; steps with one way out take it.
On the way, every appointment a step offers is made once, every outcome that tells the group without leaving
(an update) is recorded once, and each step is recorded by the first person the directory names for its owner;
a hand-over the incident waits for has its child driven down the child playbook's first path.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

from groupdesk.core.links import CHOSEN
from groupdesk.core.models import DecideApproval, RecordOutcome
from groupdesk.core.playbook import Playbook
from groupdesk.core.roles import INCIDENT_OWNER
from groupdesk.drills.smart_meter import Target, wait_for
from groupdesk.incidents.gateway import Incident


def leaving(pb: Playbook, step_id: str) -> list[str]:
    """The outcomes that leave the step; not a standing hand-over to the playbook chosen when more people came
    (became_group: offered only after an amendment, a path of its own in tests/test_amend.py)."""
    return [name for name, o in pb.steps[step_id].outcomes.items()
            if not o.stay and not (o.hand_over and o.hand_over.playbook == CHOSEN)]


def routes(pb: Playbook) -> dict[str, dict[str, str]]:
    """name -> {branching step: outcome} for every distinct path from start to close."""
    branching = [sid for sid in pb.steps if len(leaving(pb, sid)) > 1]
    found: dict[str, dict[str, str]] = {}
    for combo in itertools.product(*(leaving(pb, sid) for sid in branching)):
        choice = dict(zip(branching, combo))
        reached, todo, order = set(), list(pb.start), []
        while todo:
            sid = todo.pop(0)
            if sid in reached:
                continue
            reached.add(sid)
            if sid in choice:
                order.append(sid)
            todo += [pb.steps[sid].outcomes[name].next for name in ([choice[sid]] if sid in choice else leaving(pb, sid))]
        taken = {sid: choice[sid] for sid in order}
        found.setdefault("-".join([pb.id, *taken.values()]), taken)
    return found


def reopened_route(pb: Playbook) -> str | None:
    """The name of the path where two dissatisfied follow-ups reopen, then hand over (if the playbook says so)."""
    rule = next((s.follow_up.reopen for s in pb.steps.values() if s.kind == "close" and s.follow_up), None)
    return f"{pb.id}-reopened_then_handed_over" if rule is not None and rule.then is not None else None


def sample_data(field: str) -> str:
    """A value for an outcome's required data: times two days ahead (appointments), else a word."""
    if field.endswith("_at"):
        return (datetime.now(timezone.utc) + timedelta(days=2)).replace(microsecond=0).isoformat()
    return "已记录"


async def drive(handle: Target, pb: Playbook, choice: dict[str, str], staff: dict[str, str]) -> None:
    """Record the path `choice` through the workflow's Updates, as `staff` (role -> person id), until close."""
    incident = Incident.of(handle)
    done: set[tuple[str, str]] = set()

    def ready(s, sid: str) -> bool:  # an approval once its request (and code) has gone out
        return pb.steps[sid].kind != "approval" or any(f"/{sid}#" in d.key and "/approval_request/" in d.key
                                                      for d in s.deliveries)

    for _ in range(100):
        state = await wait_for(handle, lambda s: s.status == "closed" or s.follow_up is not None
                               or any(ready(s, sid) for sid in s.current_steps))
        if state.status == "closed" or state.follow_up is not None:
            return
        sid = next(sid for sid in state.current_steps if ready(state, sid))
        step = pb.steps[sid]
        actor = state.owner if step.owner == INCIDENT_OWNER else staff[step.owner]
        if step.kind == "approval":
            approve = choice.get(sid, "approved") == "approved"
            await incident.decide(DecideApproval(decision="approve" if approve else "reject", actor=actor,
                                                 reason="" if approve else "现场可控"))
            continue
        for name, o in step.outcomes.items():  # every stay once (an appointment, an update), then leave
            if o.stay and (sid, name) not in done:
                done.add((sid, name))
                await incident.record_outcome(RecordOutcome(
                    step=sid, outcome=name, actor=actor, note="进展顺利" if o.requires_reason else "",
                    data={f: sample_data(f) for f in o.requires_data}))
        name = choice.get(sid) or leaving(pb, sid)[0]
        o = step.outcomes[name]
        await incident.record_outcome(RecordOutcome(step=sid, outcome=name, actor=actor,
                                                    note="原因已说明" if o.requires_reason else "",
                                                    data={f: sample_data(f) for f in o.requires_data}))
        if o.hand_over is not None and o.hand_over.parent == "wait":  # the child must finish for this to go on
            await drive_child(handle, o.hand_over.playbook, staff)
        await wait_for(handle, lambda s: s.steps[sid].status != "active" or s.steps[sid].visit > state.steps[sid].visit)
    raise AssertionError(f"{pb.id}: no close after 100 steps")


async def drive_child(handle: Target, playbook_id: str, staff: dict[str, str]) -> None:
    """A waiting hand-over's child incident, driven down its playbook's first path and answered satisfied."""
    from groupdesk.runtime.config import REPO_ROOT
    from groupdesk.drills.smart_meter import answer_follow_up
    from groupdesk.playbooks.loader import find_playbook

    state = await wait_for(handle, lambda s: any(link.status == "open" for link in s.linked))
    child_pb = find_playbook(REPO_ROOT / "playbooks", playbook_id)
    link = next(link for link in state.linked if link.status == "open")
    child = Incident.of(handle).linked(link.id)
    await drive(child, child_pb, next(iter(routes(child_pb).values())), staff)
    await answer_follow_up(child)
