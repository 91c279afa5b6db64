"""When a playbook applies (95598 category, headcount): the `applies:` section the loader reads from each YAML."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator, model_validator

from groupdesk.core.validation import CATEGORIES, HEADCOUNT_MAX, HEADCOUNT_MIN, shown

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
