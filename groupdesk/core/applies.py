"""When a playbook applies (95598 category, headcount), and choosing one for a start that names none.

Pure: the loader reads `applies:` from each YAML, the CLI, the console and the API call `choose`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, field_validator, model_validator

from groupdesk.core.validation import CATEGORIES, HEADCOUNT_MAX, HEADCOUNT_MIN, shown

if TYPE_CHECKING:
    from groupdesk.core.playbook import Playbook

GROUP_MIN = 2  # a collective complaint (集体投诉): what a playbook that says nothing applies to


class Headcount(BaseModel):
    min: int = GROUP_MIN
    max: int = HEADCOUNT_MAX

    @model_validator(mode="after")
    def _ordered(self) -> "Headcount":
        if not HEADCOUNT_MIN <= self.min <= self.max <= HEADCOUNT_MAX:
            raise ValueError(f"give {HEADCOUNT_MIN} <= min <= max <= {HEADCOUNT_MAX}, e.g. {{min: 2, max: 10000}}")
        return self

    def __str__(self) -> str:
        return people(self.min) if self.min == self.max else f"{self.min:,} to {self.max:,} people"


def people(n: int) -> str:
    return "1 person" if n == 1 else f"{n:,} people"


class Applies(BaseModel):
    """`applies: {categories: [outage], headcount: {min: 2, max: 10000}, default: false}`."""

    categories: list[str] = Field(default_factory=lambda: list(CATEGORIES))
    headcount: Headcount = Field(default_factory=Headcount)
    default: bool = False  # chosen when several fit and the start names no category
    by_name_only: bool = False  # never chosen by category and headcount: named (--playbook) or handed over to

    @field_validator("categories")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        for category in value:
            if category not in CATEGORIES:
                raise ValueError(f"{shown(category)} is not a 95598 category; use {', '.join(CATEGORIES)}")
        if not value:
            raise ValueError(f"name at least one category of {', '.join(CATEGORIES)}")
        return value

    def fits(self, category: str | None, headcount: int) -> bool:
        return not self.by_name_only and (not category or category in self.categories) \
            and self.headcount.min <= headcount <= self.headcount.max


class NoChoice(ValueError):
    """No playbook, or more than one, fits; the message says which and how to choose."""


def headcount_problem(playbook: "Playbook", headcount: int) -> str | None:
    """The chosen playbook's range, as `--headcount`'s problem."""
    span = playbook.applies.headcount
    if span.min <= headcount <= span.max:
        return None
    return (f"{headcount:,} is outside playbook {playbook.id}'s range of {span}; give a number in it"
            " or choose another playbook")


def choose(playbooks: Iterable["Playbook"], category: str | None, headcount: int,
           given: Iterable[str] = ()) -> "Playbook":
    """The one playbook that fits the category (any, if none given), the headcount and the registration
    fields it requires (`registration_requires`, among `given`). Of several: with no category given, the one
    marked `default`; else the one that requires a field given (the more specific)."""
    every, given = sorted(playbooks, key=lambda p: p.id), set(given)
    fitting = [p for p in every if p.applies.fits(category, headcount) and set(p.registration_requires) <= given]
    if len(fitting) > 1 and not category:
        fitting = [p for p in fitting if p.applies.default] or fitting
    if len(fitting) > 1:
        fitting = [p for p in fitting if p.registration_requires] or fitting
    if len(fitting) == 1:
        return fitting[0]
    what = (f"category {category} and " if category else "") + people(headcount)
    if not fitting:
        sized = [p for p in every if p.applies.fits(None, headcount)]
        raise NoChoice(f"no playbook applies to {what}; " + (f"for {people(headcount)}: " + ", ".join(
            f"{p.id} ({', '.join(p.applies.categories)}" + "".join(f"; needs {f}" for f in p.registration_requires)
            + ")" for p in sized) + "; " if sized else "") + "choose one (--playbook), or correct the category")
    raise NoChoice(f"several playbooks apply to {what} ({', '.join(p.id for p in fitting)});"
                   " choose one with --playbook")
