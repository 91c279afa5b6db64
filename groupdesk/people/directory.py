"""The staff directory: who holds each role at each hall, loaded from YAML."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from groupdesk.playbooks import textfiles
from groupdesk.core import validation as v
from groupdesk.core.models import StaffRef
from groupdesk.core.phones import Phone
from groupdesk.core.roles import LANGUAGES, ROLE_IDS
from groupdesk.people.units import Unit, check_units, halls_below


WECOM_USERID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-@.]{0,63}")  # WeCom's 账号 of a member


def userid_problem(userid: str) -> str | None:
    """Whether `userid` can be a WeCom member's userid (the directory's `wecom_userid`)."""
    if not WECOM_USERID.fullmatch(userid or ""):
        return (f"{userid[:70]!r} is not a WeCom userid: 1 to 64 letters, digits and _-@. starting with a letter"
                " or digit (the member's 账号 in the WeCom admin console)")
    return None


class DirectoryError(ValueError):
    pass


MAX_FILE_BYTES = 1024 * 1024  # a directory of a few thousand people
HALL_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}\Z")
HALL_PHONE = re.compile(r"^\+?[0-9][0-9 -]{1,30}\Z")


def _name(value: str, what: str) -> str:
    """A name people read: the one text rule (one line, nothing hidden), at most 64 characters."""
    if problem := v.name_problem(value, what):
        raise ValueError(problem)
    return v.normal_text(value).strip()


class Person(BaseModel):
    id: str
    name: str
    mobile: str = Field(max_length=v.PHONE_MAX)
    lang: str = "zh-CN"
    wecom_userid: str | None = None  # their WeCom (企业微信) member account, if staff messages may go there

    @field_validator("id")
    @classmethod
    def _staff_id(cls, value: str) -> str:
        if problem := v.staff_id_problem(value):
            raise ValueError(problem)
        return value

    @field_validator("name")
    @classmethod
    def _person_name(cls, value: str) -> str:
        return _name(value, "the person's name")

    @field_validator("lang")
    @classmethod
    def _known_lang(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"unknown language {value!r}; use one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("wecom_userid")
    @classmethod
    def _wecom_userid(cls, value: str | None) -> str | None:
        if value is not None and (problem := userid_problem(value)):
            raise ValueError(f"wecom_userid {problem}")
        return value


class Hall(BaseModel):
    id: str
    name: str
    name_en: str = ""
    centre: str
    unit: str = ""  # the id of its customer service centre among the directory's `units` (reports up the hierarchy)
    phone: str = ""  # the hall's public number, on the complainant's status page
    duty_lead: str = ""  # 值班负责人: owns group incidents others register; "" = the first hall lead listed
    roles: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        if value and not HALL_PHONE.match(value):
            raise ValueError(f"phone {v.shown(value)} is not a phone number (digits, spaces, '-', '+', at most 32)")
        return value

    @field_validator("id")
    @classmethod
    def _hall_id(cls, value: str) -> str:
        if not HALL_ID.match(value):
            raise ValueError(f"{v.shown(value)} is not a hall id (lower-case letters, digits, '-' and '_', at most 64)")
        return value

    @field_validator("name", "centre")
    @classmethod
    def _hall_name(cls, value: str) -> str:
        return _name(value, "a name")

    @field_validator("name_en")
    @classmethod
    def _hall_name_en(cls, value: str) -> str:
        return _name(value, "a name") if value else value

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, roles: dict[str, list[str]]) -> dict[str, list[str]]:
        for role in roles:
            if role not in ROLE_IDS:
                raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLE_IDS)}")
        return roles


class Directory(BaseModel):
    people: list[Person]
    halls: list[Hall]
    ops: list[str] = Field(default_factory=list)  # who may retry, skip and replay: not tied to a hall
    operators: list[str] = Field(default_factory=list)  # the command centre: sees everything, changes nothing
    units: list[Unit] = Field(default_factory=list)  # province > city > county > centre, above the halls

    @model_validator(mode="after")
    def _check(self) -> "Directory":
        seen: set[str] = set()
        for person in self.people:
            if person.id in seen:
                raise ValueError(f"person id {person.id!r} is listed twice")
            seen.add(person.id)
            try:
                person.mobile = Phone.parse(person.mobile)
            except ValueError as exc:
                raise ValueError(f"person {person.id!r} ({person.name}): mobile {exc}") from None
        userids: dict[str, str] = {}
        for person in self.people:  # WeCom ignores case when it checks a userid is unique
            if person.wecom_userid and (twin := userids.setdefault(person.wecom_userid.lower(), person.id)) != person.id:
                raise ValueError(f"person {person.id!r}: wecom_userid {person.wecom_userid!r} is also {twin!r}'s;"
                                 " each member has their own")
        hall_ids: set[str] = set()
        for hall in self.halls:
            if hall.id in hall_ids:
                raise ValueError(f"hall id {hall.id!r} is listed twice")
            hall_ids.add(hall.id)
            if hall.duty_lead and hall.duty_lead not in hall.roles.get("hall_lead", []):
                raise ValueError(f"hall {hall.id!r}, duty_lead: {hall.duty_lead!r} is not a hall lead of the hall;"
                                 " name one of its hall_lead or leave it out (the first hall lead)")
            for role, ids in hall.roles.items():
                for pid in ids:
                    if pid not in seen:
                        raise ValueError(
                            f"hall {hall.id!r}, role {role!r}: no person with id {pid!r} in people; add them or fix the id"
                        )
        for group in ("ops", "operators"):
            for pid in getattr(self, group):
                if pid not in seen:
                    raise ValueError(f"{group}: no person with id {pid!r} in people; add them or fix the id")
        check_units(self.units, self.hall_units(), seen)
        return self

    def hall_units(self) -> dict[str, str]:
        """hall id -> the id of its centre unit ("" when it names none)."""
        return {hall.id: hall.unit for hall in self.halls}

    def unit(self, unit_id: str) -> Unit | None:
        return next((u for u in self.units if u.id == unit_id), None)

    def halls_below(self, unit_id: str) -> list[str]:
        """The halls under a unit (its centres' halls), in the directory's order."""
        return halls_below(self.units, self.hall_units(), unit_id)

    def unit_roles_of(self, person_id: str) -> dict[str, set[str]]:
        """role -> the units where the person holds it (city_service_manager, province_service_manager)."""
        held: dict[str, set[str]] = {}
        for unit in self.units:
            for role, ids in unit.roles.items():
                if person_id in ids:
                    held.setdefault(role, set()).add(unit.id)
        return held

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.people if p.id == person_id), None)

    def by_wecom_userid(self, userid: str) -> Person | None:
        """The person whose WeCom account this is (WeCom compares userids without case)."""
        wanted = (userid or "").lower()
        return next((p for p in self.people if p.wecom_userid and p.wecom_userid.lower() == wanted), None)

    def hall(self, hall_id: str) -> Hall | None:
        return next((h for h in self.halls if h.id == hall_id), None)

    def staff(self, hall_id: str, role: str) -> list[Person]:
        hall = self.hall(hall_id)
        if hall is None:
            return []
        return [p for pid in hall.roles.get(role, []) if (p := self.person(pid))]

    def roster(self, hall_id: str) -> dict[str, list[StaffRef]]:
        hall = self.hall(hall_id)
        if hall is None:
            raise DirectoryError(f"unknown hall {hall_id!r}")
        roster = {role: [StaffRef(id=p.id, name=p.name) for p in self.staff(hall_id, role)] for role in hall.roles}
        roster["ops"] = [StaffRef(id=p.id, name=p.name) for pid in self.ops if (p := self.person(pid))]
        return roster

    def duty_lead(self, hall_id: str) -> str:
        """The hall's duty lead (值班负责人): as named, else the first hall lead listed ("" when it has none)."""
        hall = self.hall(hall_id)
        leads = hall.roles.get("hall_lead", []) if hall else []
        return (hall.duty_lead if hall and hall.duty_lead else "") or (leads[0] if leads else "")

    def roles_of(self, hall_id: str, person_id: str) -> list[str]:
        hall = self.hall(hall_id)
        return [r for r, ids in (hall.roles.items() if hall else []) if person_id in ids]


_cache: dict[Path | str, tuple[tuple[int, int, int, int], Directory]] = {}


def current_directory(path: Path) -> Directory:
    """The directory as the file says now; parsed again only when the file changes.

    Called for every SMS and every console request, so it costs one stat: the path is not resolved (that was one lstat per
    component), and the stamp carries the inode, so a file swapped in under the same name (a
    Kubernetes ConfigMap, a rename over it) or the same relative path from another directory is read anew.
    """
    stamp = textfiles.stamp(path)
    if stamp is None:
        return load_directory(path)  # it names what is wrong in one line
    cached = _cache.get(path)
    if cached and cached[0] == stamp:
        return cached[1]
    directory = load_directory(path)
    _cache[path] = (stamp, directory)
    return directory


def load_directory(path: Path) -> Directory:
    """The directory in a YAML file, or DirectoryError: one line naming the file, where in it, and the fix."""
    path = Path(path)
    text = textfiles.read_text(path, limit=MAX_FILE_BYTES, error=DirectoryError, too_large="keep a directory within",
                               missing="staff directory not found; set GROUPDESK_DIRECTORY to a YAML file")
    raw = textfiles.parse_yaml(path, text, error=DirectoryError)
    if not isinstance(raw, dict):
        raise DirectoryError(f"{path}: a directory is a YAML mapping with people and halls")
    try:
        return Directory.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p)[:40] for p in first["loc"])
        message = " ".join(first["msg"].removeprefix("Value error, ").split())
        raise DirectoryError(f"{path}: {where + ': ' if where else ''}{message}") from None
