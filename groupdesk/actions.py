"""What may be recorded now, and who must act: pure functions of an incident's state, its playbook and the directory.

`actions` is the contract every client relies on (the CLI's `show --json`, `GET /api/incidents/{id}`,
the console's buttons): for each current step, one entry per outcome that may be recorded.
`waiting_on` says, for each current step, who must act, since when, until when, and what
happens at the deadline (a reminder, then escalations up the playbook's chain).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from groupdesk.directory import Directory
from groupdesk.core.models import IncidentState
from groupdesk.core.playbook import Playbook, Step
from groupdesk.core.roles import role_label


def _current(state: IncidentState, playbook: Playbook) -> list[tuple[str, Step]]:
    """Steps a person can act on now: active, known to the playbook, not the closing step."""
    if state.status != "open":
        return []
    found = []
    for sid in state.current_steps:
        step = playbook.steps.get(sid)
        st = state.steps.get(sid)
        if step is not None and step.kind != "close" and st is not None and st.status == "active":
            found.append((sid, step))
    return found


def allowed_roles(step: Step) -> list[str]:
    """Roles that may record the step: the owner (alone, for an approval) and `recorded_by`."""
    if step.kind == "approval":
        return [step.owner]
    return list(dict.fromkeys([step.owner, *step.recorded_by]))


def actions(state: IncidentState, playbook: Playbook, directory: Directory | None = None,
            viewer: str | None = None, lang: str = "zh-CN") -> list[dict]:
    """Every outcome that may be recorded now; with `viewer` (a person id), only theirs (by the directory now)."""
    mine = set(directory.roles_of(state.hall_id, viewer)) if directory is not None and viewer else None
    found = []
    for sid, step in _current(state, playbook):
        roles = allowed_roles(step)
        if mine is not None and not mine & set(roles):
            continue
        for name, outcome in step.outcomes.items():
            found.append({
                "step": sid, "outcome": name, "kind": "approval" if step.kind == "approval" else "outcome",
                "label": playbook.outcome_label(sid, name, lang), "data": list(outcome.requires_data),
                "roles": roles, "requires_reason": outcome.requires_reason,
            })
    return found


def _people(directory: Directory | None, hall_id: str, role: str, lang: str) -> dict:
    staff = directory.staff(hall_id, role) if directory is not None else []
    return {"role": role, "role_label": role_label(role, lang), "people": [p.name for p in staff],
            "person_ids": [p.id for p in staff]}


def waiting_on(state: IncidentState, playbook: Playbook, directory: Directory | None = None,
               lang: str = "zh-CN") -> list[dict]:
    """For each current step: who must act (holders now), since, deadline, and the reminder/escalation ladder."""
    found = []
    grace = timedelta(seconds=playbook.escalation.grace.seconds / (state.time_scale or 1.0))
    for sid, step in _current(state, playbook):
        st = state.steps[sid]
        deadline: datetime | None = st.deadline_at
        ladder = []
        if deadline is not None:
            ladder.append({"at": deadline, "kind": "reminder", "done": st.reminded,
                           **_people(directory, state.hall_id, step.owner, lang)})
            for level, role in enumerate(playbook.escalation.above(step.owner), start=1):
                ladder.append({"at": deadline + grace * level, "kind": "escalation", "level": level,
                               "done": st.escalation_level >= level,
                               **_people(directory, state.hall_id, role, lang)})
        found.append({
            "step": sid, "title": playbook.step_title(sid, lang), "kind": step.kind,
            "must_act": [_people(directory, state.hall_id, role, lang) for role in allowed_roles(step)],
            "since": st.started_at, "deadline": deadline, "ladder": ladder,
        })
    return found
