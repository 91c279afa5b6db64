"""The sensitive-period calendar (GROUPDESK_SENSITIVE_PERIODS): read, checked like a playbook, and asked
which period (if any) an incident starting now at a hall falls in.

A mistake is one line naming the file, the period and the field, with the fix (PeriodError); the
calendar is checked against the staff directory too (halls that exist, responsible people on record).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from groupdesk.playbooks import textfiles
from groupdesk.core.periods import MAX_FACTOR, MIN_FACTOR, SensitivePeriod
from groupdesk.core.validation import NAME_MAX, shown, text_problem
from groupdesk.core.workcal import LOCAL_TZ

MAX_FILE_BYTES = 64 * 1024
MAX_PERIODS = 200
MAX_DAYS = 92  # a period longer than a quarter is a standing rule, not a sensitive period


class _DatesAsText(yaml.SafeLoader):
    """YAML's dates stay text, so a date that does not exist (2027-02-30) is an error naming its field."""


_DatesAsText.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


class PeriodError(ValueError):
    """A calendar that must not be used; the message names the file, the period, the field and the fix."""


class Period(BaseModel):
    """One period of the calendar file, as written."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    first_day: date = Field(alias="from")
    last_day: date = Field(alias="to")
    halls: Literal["all"] | list[str] = "all"
    deadline_factor: float = Field(1.0, ge=MIN_FACTOR, le=MAX_FACTOR)
    responsible: dict[str, str] = Field(default_factory=dict)  # hall id -> staff id

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        problem = text_problem(value, NAME_MAX, required="a name such as 全国两会", one_line=True)
        if problem:
            raise ValueError(problem)
        return value.strip()

    def covers(self, hall_id: str, day: date) -> bool:
        return self.first_day <= day <= self.last_day and (self.halls == "all" or hall_id in self.halls)

    def snapshot(self, hall_id: str) -> SensitivePeriod:
        return SensitivePeriod(name=self.name, first_day=self.first_day, last_day=self.last_day,
                               deadline_factor=self.deadline_factor, responsible=self.responsible.get(hall_id))


class Calendar(BaseModel):
    periods: list[Period] = Field(default_factory=list, max_length=MAX_PERIODS)

    def period_at(self, hall_id: str, moment: datetime) -> SensitivePeriod | None:
        """The period covering the hall on the local date of `moment`, as the incident keeps it."""
        day = moment.astimezone(LOCAL_TZ).date()
        found = next((p for p in self.periods if p.covers(hall_id, day)), None)
        return found.snapshot(hall_id) if found else None


EMPTY = Calendar()
_HINTS = {
    "from": "a date like 2027-03-03", "to": "a date like 2027-03-15",
    "deadline_factor": f"a number from {MIN_FACTOR} to {MAX_FACTOR:g} (0.5 halves every deadline)",
    "halls": "`all` or a list of hall ids, e.g. [xicheng, dongcheng]",
    "responsible": "a mapping of hall id to staff id, e.g. {xicheng: sun.li}",
}


def load_calendar(path: Path | None, directory=None) -> Calendar:
    """The calendar at `path` (none configured: no periods), checked against `directory` when given."""
    if path is None or str(path) == "":
        return EMPTY
    path = Path(path)
    raw = _read_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("periods", []), list):
        raise PeriodError(f"{path}: a calendar is a YAML mapping `periods:` holding a list of periods"
                          " (name, from, to, halls, deadline_factor, responsible)")
    unknown = sorted(set(raw) - {"periods"})
    if unknown:
        raise PeriodError(f"{path}: {shown(unknown[0])}: unknown key; the file holds only `periods:`")
    try:
        calendar = Calendar.model_validate(raw)
    except ValidationError as exc:
        raise PeriodError(f"{path}: {_describe(exc.errors()[0], raw)}") from None
    problems = list(_problems(calendar, directory))
    if problems:
        raise PeriodError(f"{path}: {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    return calendar


def _read_yaml(path: Path) -> object:
    text = textfiles.read_text(path, limit=MAX_FILE_BYTES, error=PeriodError, too_large="a calendar stays within",
                               missing="no such calendar file; fix GROUPDESK_SENSITIVE_PERIODS or unset it")
    return textfiles.parse_yaml(path, text, error=PeriodError, loader=_DatesAsText)


def _describe(error: dict, raw: dict) -> str:
    loc = list(error["loc"])
    where = "periods"
    if len(loc) >= 2 and loc[0] == "periods" and isinstance(loc[1], int):
        entry = raw["periods"][loc[1]]
        name = entry.get("name") if isinstance(entry, dict) else None
        where = f"periods[{loc[1]}]" + (f" ({' '.join(str(name).split())[:40]})" if name else "")
        loc = loc[2:]
    field = str(loc[0]) if loc else ""
    message = " ".join(error["msg"].removeprefix("Value error, ").split())
    if error["type"] == "extra_forbidden":
        message = "unknown field; a period has name, from, to, halls, deadline_factor and responsible"
    elif error["type"] == "missing":
        message = f"required ({_HINTS.get(field, 'see the example in the README')})"
    elif error["type"] == "too_long":
        message = f"at most {MAX_PERIODS} periods in one calendar"
    elif field in _HINTS:
        message = f"{shown(error.get('input'))} is not valid: {message[0].lower() + message[1:]}; write {_HINTS[field]}"
    return f"{where}{'.' + field if field else ''}: {message}"


def _problems(calendar: Calendar, directory) -> list[str]:
    found: list[str] = []
    for n, period in enumerate(calendar.periods):
        where = f"periods[{n}] ({period.name})"
        if period.last_day < period.first_day:
            found.append(f"{where}.to: {period.last_day} is before from {period.first_day}; swap them")
        elif (period.last_day - period.first_day).days + 1 > MAX_DAYS:
            found.append(f"{where}.to: the period runs {(period.last_day - period.first_day).days + 1} days;"
                         f" keep it within {MAX_DAYS}")
        covered = None if period.halls == "all" else set(period.halls)
        outside = [h for h in period.responsible if covered is not None and h not in covered]
        if outside:
            found.append(f"{where}.responsible: hall {shown(outside[0])} is not among the period's halls;"
                         " add it to `halls` or remove it here")
        for other in calendar.periods[:n]:
            both = _shared_halls(period, other, directory)
            if both and period.first_day <= other.last_day and other.first_day <= period.last_day:
                found.append(f"{where}: overlaps {other.name} at hall {sorted(both)[0]}; one period per hall and"
                             " day (end one before the other begins)")
        if directory is not None:
            found += _directory_problems(where, period, directory)
    return found


def _shared_halls(a: Period, b: Period, directory) -> set[str]:
    every = {h.id for h in directory.halls} if directory is not None else {"*"}
    return (every if a.halls == "all" else set(a.halls)) & (every if b.halls == "all" else set(b.halls))


def _directory_problems(where: str, period: Period, directory) -> list[str]:
    found = []
    known = [h.id for h in directory.halls]
    for hall in ([] if period.halls == "all" else period.halls) + list(period.responsible):
        if directory.hall(hall) is None:
            found.append(f"{where}.halls: unknown hall {shown(hall)}; halls in the directory: {', '.join(known)}")
    for hall, person in period.responsible.items():
        if directory.person(person) is None:
            found.append(f"{where}.responsible.{hall}: {shown(person)} is not in the staff directory;"
                         " name a staff id from GROUPDESK_DIRECTORY")
    return found


def calendar_rows(calendar: Calendar, directory=None) -> list[dict]:
    """The calendar as `groupdesk periods list` shows it: one row per period."""
    rows = []
    for period in calendar.periods:
        responsible = {hall: {"id": person, "name": _name(directory, person)}
                       for hall, person in period.responsible.items()}
        rows.append({"name": period.name, "from": period.first_day.isoformat(), "to": period.last_day.isoformat(),
                     "halls": period.halls, "deadline_factor": period.deadline_factor, "responsible": responsible})
    return rows


def _name(directory, person_id: str) -> str:
    person = directory.person(person_id) if directory is not None else None
    return person.name if person else person_id
