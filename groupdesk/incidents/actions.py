"""What may be recorded now, and who must act: pure functions of an incident's state, its playbook and the directory.

`actions` is the contract every client relies on (the CLI's `show --json`, `GET /api/incidents/{id}`,
the console's buttons): for each current step, one entry per outcome that may be recorded.
`waiting_on` says, for each current step, who must act, since when, until when, and what
happens at the deadline (a reminder, then escalations up the playbook's chain).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from groupdesk.core import involved
from groupdesk.people.directory import Directory
from groupdesk.people.involvement import holders
from groupdesk.core.models import IncidentState
from groupdesk.core.playbook import Playbook, Step
from groupdesk.core.roles import INCIDENT_OWNER, role_label, with_ownership
from groupdesk.core.warning_plan import PLAN_STEP, RAISE, plan_actions


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
    person = state.registration.person_involved
    subs = involved.stand_ins(holders(directory, state.hall_id), person, playbook.escalation.chain) \
        if directory is not None and person else {}
    mine = set(directory.roles_of(state.hall_id, viewer)) if directory is not None and viewer else None
    if mine is not None and person:
        mine = set() if viewer == person else mine | {role for role, up in subs.items() if up in mine}
    if mine is not None and viewer != person:
        mine = with_ownership(mine, viewer or "", state.owner)
    found = []
    for sid, step in _current(state, playbook):
        roles = allowed_roles(step)
        roles += [up for role in roles if (up := subs.get(role)) and up not in roles]  # who stands in (更换当事人)
        if mine is not None and not mine & set(roles):
            continue
        for name, outcome in step.outcomes.items():
            if not outcome.offered_at(state.headcount):  # became_group: only while 2 or more came
                continue
            found.append({
                "step": sid, "outcome": name, "kind": "approval" if step.kind == "approval" else "outcome",
                "label": playbook.outcome_label(sid, name, lang), "data": list(outcome.requires_data),
                "roles": roles, "requires_reason": outcome.requires_reason,
            })
    return found + _plan_actions(state, playbook, mine, lang)


def _plan_actions(state: IncidentState, playbook: Playbook, mine: set[str] | None, lang: str) -> list[dict]:
    """The running warning plan's manager may raise it (三级 -> 二级) or end it: the step `warning_plan`."""
    plan = playbook.warning_plan
    if plan is None or PLAN_STEP in playbook.steps or mine is not None and plan.managed_by not in mine:
        return []
    tier = state.warning_tier
    return [{"step": PLAN_STEP, "outcome": name, "kind": "outcome", "data": [], "roles": [plan.managed_by],
             "label": plan.action_label(name, lang, tier - 1 if name == RAISE else tier), "requires_reason": False}
            for name in plan_actions(plan, state.status, tier)]


def _people(directory: Directory | None, hall_id: str, role: str, lang: str, person: str = "",
            chain: dict[str, str] | None = None, owner: str = "") -> dict:
    """A role's holders now; with a person involved, those who act for it instead (never that person);
    `incident_owner`: the one person who owns the incident now."""
    if role == INCIDENT_OWNER:
        staff = [p for p in [directory.person(owner) if directory is not None and owner else None] if p]
    elif directory is not None and person:
        ids = involved.recipients(role, holders(directory, hall_id), person, chain or {})
        staff = [p for pid in ids if (p := directory.person(pid))]
    else:
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
        who = {"person": state.registration.person_involved, "chain": playbook.escalation.chain,
               "owner": state.owner or ""}
        if deadline is not None:
            owner = directory.person(state.owner) if directory is not None and state.owner else None
            ladder.append({"at": deadline, "kind": "reminder", "done": st.reminded,
                           "owner": owner.name if owner else "",  # 首问负责人: reminded too
                           **_people(directory, state.hall_id, step.owner, lang, **who)})
            for level, role in enumerate(playbook.escalation.above(step.owner), start=1):
                ladder.append({"at": deadline + grace * level, "kind": "escalation", "level": level,
                               "done": st.escalation_level >= level,
                               **_people(directory, state.hall_id, role, lang, **who)})
        found.append({
            "step": sid, "title": playbook.step_title(sid, lang), "kind": step.kind,
            "must_act": [_people(directory, state.hall_id, role, lang, **who) for role in allowed_roles(step)],
            "since": st.started_at, "deadline": deadline, "ladder": ladder,
        })
    return found


def step_scripts(state: IncidentState, playbook: Playbook, lang: str = "zh-CN") -> list[dict]:
    """The 话术 of each current step, with the extra lines for this kind of complainant (seed 003)."""
    kind = state.registration.complainant_type
    return [{"step": sid, "lines": list(step.scripts.get(lang) or step.scripts.get("zh-CN", [])),
             "complainant_type": kind, "for_complainant_type": involved.type_scripts(step, kind, lang)}
            for sid, step in _current(state, playbook)]
