"""Who may do what, on the command line (`--as`) as in the console and API. The workflow's validators check again."""

from __future__ import annotations

from dataclasses import dataclass, field

from groupdesk.people.directory import Directory
from groupdesk.core import involved
from groupdesk.core.models import IncidentState
from groupdesk.core.playbook import Playbook, Step
from groupdesk.core.starting import may_start, start_refusal
from groupdesk.core.amend import amend_refusal, may_amend
from groupdesk.core.tell import may_tell, tell_refusal


class Forbidden(Exception):
    pass


@dataclass
class Viewer:
    id: str
    name: str
    roles: dict[str, set[str]] = field(default_factory=dict)  # role -> halls where the person holds it
    ops: bool = False
    operator: bool = False
    units: dict[str, set[str]] = field(default_factory=dict)  # unit role -> units where the person holds it
    unit_halls: set[str] = field(default_factory=set)  # the halls below those units: seen, not acted on

    def halls(self) -> set[str]:
        """The halls where the person holds a role (and so may act, within the playbook's rules)."""
        return set().union(*self.roles.values()) if self.roles else set()

    def visible_halls(self) -> set[str]:
        """The halls whose incidents, figures and evidence the person sees (ops and operators: every hall)."""
        return self.halls() | self.unit_halls

    def roles_at(self, hall: str | None) -> list[str]:
        """The roles held at `hall` now (ops held everywhere), as the workflow's validators are told them."""
        return sorted({r for r, halls in self.roles.items() if hall in halls} | ({"ops"} if self.ops else set()))

    def holds(self, role: str, hall: str) -> bool:
        return hall in self.roles.get(role, set())

    @property
    def sees_everything(self) -> bool:
        return self.ops or self.operator

    def may_view(self, hall: str) -> bool:
        return self.sees_everything or hall in self.visible_halls()

    def may_start(self, hall: str, playbook: Playbook) -> bool:
        """The playbook's `started_by` roles at the hall (groupdesk.core.starting: the one rule)."""
        return may_start(self.roles_at(hall), playbook.started_by)

    def start_refusal(self, hall: str, playbook: Playbook) -> str:
        return start_refusal(self.id, hall, playbook.id, playbook.started_by, self.roles_at(hall)) or ""

    def may_start_any(self, hall: str, playbooks) -> bool:
        return any(self.may_start(hall, pb) for pb in playbooks)

    def may_record(self, hall: str, step: Step) -> bool:
        return any(self.holds(role, hall) for role in [step.owner, *step.recorded_by])

    def may_decide(self, hall: str) -> bool:
        return self.holds("centre_director", hall)

    def may_follow_up(self, hall: str) -> bool:
        return self.holds("hall_lead", hall) or self.may_decide(hall)

    def may_note(self, hall: str) -> bool:
        return hall in self.halls()

    def may_tell(self, state: IncidentState, roles: list[str] | None = None) -> bool:
        """Speak to the complainant (tell, the status link): the owner, the hall lead or the centre director;
        `roles`: theirs at the hall with those they stand in for (更换当事人), else those they hold."""
        return may_tell(self.id, state.owner, self.roles_at(state.hall_id) if roles is None else roles)

    def tell_refusal(self, state: IncidentState) -> str:
        return tell_refusal(self.id, state.id, state.owner)

    def may_amend(self, state: IncidentState, roles: list[str] | None = None) -> bool:
        """Correct the registration: the owner, the hall lead or the centre director (as `may_tell`)."""
        return may_amend(self.id, state.owner, self.roles_at(state.hall_id) if roles is None else roles)

    def amend_refusal(self, state: IncidentState) -> str:
        return amend_refusal(self.id, state.id, state.owner)

    @property
    def title(self) -> str:
        if self.ops:
            return "ops"
        if self.operator:
            return "operator"
        return ", ".join(sorted(self.roles) + sorted(self.units)) or "staff"


def viewer_for(directory: Directory, person_id: str) -> Viewer | None:
    person = directory.person(person_id)
    if person is None:
        return None
    roles: dict[str, set[str]] = {}
    for hall in directory.halls:
        for role in directory.roles_of(hall.id, person_id):
            roles.setdefault(role, set()).add(hall.id)
    units = directory.unit_roles_of(person_id)
    below = {hall for ids in units.values() for unit in ids for hall in directory.halls_below(unit)}
    return Viewer(id=person.id, name=person.name, roles=roles, ops=person_id in directory.ops,
                  operator=person_id in directory.operators, units=units, unit_halls=below)


def acting_as(directory: Directory, person_id: str) -> Viewer:
    """The viewer a command-line `--as` names; someone not in the directory holds no role and may do nothing."""
    return viewer_for(directory, person_id) or Viewer(id=person_id, name=person_id)


def require(allowed: bool, what: str) -> None:
    if not allowed:
        raise Forbidden(what)


def require_uninvolved(viewer: Viewer, state: IncidentState, doing: str) -> None:
    """更换当事人: the staff member the complaint is about does nothing on it (notes aside), whatever roles they hold."""
    if viewer.id and viewer.id == state.registration.person_involved:
        raise Forbidden(involved.refusal(viewer.id, doing))
