"""Units up the hierarchy (province > city > county > centre) above the halls, and the roles held at a unit:
who sees the halls below it. Pure functions over the directory's lists, so the directory module stays one model."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

UnitKind = Literal["province", "city", "county", "centre"]
# What a unit of each kind may sit under (a province sits under nothing).
PARENT_KINDS: dict[str, tuple[str, ...]] = {"province": (), "city": ("province",), "county": ("city",),
                                            "centre": ("province", "city", "county")}
# Roles held at a unit, and the kind of unit each is held at.
UNIT_ROLES: dict[str, str] = {"city_service_manager": "city", "province_service_manager": "province"}


class Unit(BaseModel):
    id: str
    name: str
    name_en: str = ""
    kind: UnitKind
    parent: str | None = None
    roles: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("roles")
    @classmethod
    def _unit_roles(cls, roles: dict[str, list[str]]) -> dict[str, list[str]]:
        for role in roles:
            if role not in UNIT_ROLES:
                raise ValueError(f"unknown unit role {role!r}; roles at a unit are {', '.join(UNIT_ROLES)}")
        return roles


def check_units(units: list[Unit], hall_units: dict[str, str], people: set[str]) -> None:
    """ValueError naming the unit (or hall) and the fix: ids unique, parents that exist and fit the kind, roles at
    the kind of unit they belong to held by known people, and each hall's `unit` a centre."""
    by_id: dict[str, Unit] = {}
    for unit in units:
        if unit.id in by_id:
            raise ValueError(f"unit id {unit.id!r} is listed twice")
        by_id[unit.id] = unit
    for unit in units:
        if unit.parent:  # a unit without a parent is a top of the hierarchy
            allowed, parent = PARENT_KINDS[unit.kind], by_id.get(unit.parent)
            if parent is None:
                raise ValueError(f"unit {unit.id!r}: parent {unit.parent!r} is not a unit; add it or fix the id")
            if parent.kind not in allowed:
                under = f"sits under a {' or '.join(allowed)}" if allowed else "sits under nothing"
                raise ValueError(f"unit {unit.id!r}: a {unit.kind} {under}, not under a {parent.kind}")
        for role, ids in unit.roles.items():
            if UNIT_ROLES[role] != unit.kind:
                raise ValueError(f"unit {unit.id!r}: {role} is held at a {UNIT_ROLES[role]}, not at a {unit.kind}")
            for pid in ids:
                if pid not in people:
                    raise ValueError(f"unit {unit.id!r}, role {role!r}: no person with id {pid!r} in people;"
                                     " add them or fix the id")
    for hall_id, unit_id in hall_units.items():
        if unit_id and (unit_id not in by_id or by_id[unit_id].kind != "centre"):
            raise ValueError(f"hall {hall_id!r}: unit {unit_id!r} is not a centre among the units;"
                             " name the customer service centre the hall belongs to")


def below(units: list[Unit], unit_id: str) -> list[str]:
    """The unit and every unit under it, top first."""
    children: dict[str | None, list[str]] = {}
    for unit in units:
        children.setdefault(unit.parent, []).append(unit.id)
    found, queue = [], [unit_id]
    while queue:
        current = queue.pop(0)
        found.append(current)
        queue += children.get(current, [])
    return found


def halls_below(units: list[Unit], hall_units: dict[str, str], unit_id: str) -> list[str]:
    """The halls whose centre is `unit_id` or under it, in the directory's order."""
    inside = set(below(units, unit_id))
    return [hall for hall, unit in hall_units.items() if unit in inside]


def path_to(units: list[Unit], unit_id: str) -> list[str]:
    """The unit's ancestors and itself, top first."""
    by_id = {u.id: u for u in units}
    path: list[str] = []
    current = by_id.get(unit_id)
    while current is not None and current.id not in path:
        path.insert(0, current.id)
        current = by_id.get(current.parent) if current.parent else None
    return path
