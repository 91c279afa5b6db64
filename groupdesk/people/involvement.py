"""更换当事人 at the start and in the permission checks: the person a complaint is about, read against the
directory now (the pure rules are groupdesk.core.involved)."""

from __future__ import annotations

from groupdesk.core import involved, validation as v
from groupdesk.core.models import IncidentState
from groupdesk.core.playbook import Playbook
from groupdesk.people.directory import Directory


def holders(directory: Directory, hall_id: str) -> dict[str, list[str]]:
    hall = directory.hall(hall_id)
    return {role: list(ids) for role, ids in (hall.roles.items() if hall else [])}


def person_problem(directory: Directory, hall_id: str, person: str, started_by: str | None,
                   playbook: Playbook | None) -> str | None:
    """The person involved: optional unless the playbook requires it; a staff member of the hall, not the starter."""
    person = person.strip()
    if not person:
        if playbook is not None and "person_involved" in playbook.registration_requires:
            return (f"playbook {playbook.id} needs the staff member the complaint is about;"
                    " give their staff id (see `groupdesk directory`)")
        return None
    if problem := v.staff_id_problem(person):
        return problem
    if not directory.roles_of(hall_id, person):
        return f"{v.shown(person)} holds no role at hall {hall_id}; name a staff member of the hall (see `groupdesk directory`)"
    if person == started_by:
        return (f"{v.shown(person)} cannot start a complaint about themselves (更换当事人);"
                " another hall lead or the centre director handles it")
    return None


def owner_for(directory: Directory, hall_id: str, playbook: Playbook, person: str, started_by: str) -> str:
    """Who owns it from the start: the starter, or a more senior person when the complaint is about a peer."""
    if not person:
        return ""
    owner = involved.senior_owner(holders(directory, hall_id), playbook.escalation.chain, person, started_by)
    return "" if owner == started_by else owner


def acting_roles(directory: Directory, state: IncidentState, playbook: Playbook, roles: list[str]) -> list[str]:
    """The roles someone acts in at this incident now: theirs, and those they stand in for (更换当事人)."""
    person = state.registration.person_involved
    if not person:
        return list(roles)
    return involved.acting_roles(roles, holders(directory, state.hall_id), person, playbook.escalation.chain)
