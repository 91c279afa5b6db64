"""Which playbook a start runs: the one named, or the one whose `applies` fits its category and headcount."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from groupdesk.core import validation as v
from groupdesk.core.applies import people
from groupdesk.core.models import IncidentState
from groupdesk.core.playbook import Playbook
from groupdesk.playbooks.loader import PlaybookError, find_playbook, load_playbook, playbook_files


class ChoiceError(ValueError):
    """The playbook named is unknown, or none (or several) fit: the message is for the `playbook` field."""


def valid_playbooks(directory: Path) -> list[Playbook]:
    """Every current playbook that loads (an invalid file is shown by `playbooks list`, never chosen)."""
    found = []
    for path in playbook_files(directory):
        try:
            found.append(load_playbook(path))
        except PlaybookError:
            continue
    return found


def pick_playbook(directory: Path, playbook_id: str | None, category: str | None,
                  headcount: int | None, registration: dict | None = None) -> Playbook | None:
    """The playbook to start, or ChoiceError. None when it cannot be chosen yet because the category or
    headcount is itself wrong (those fields report their own problem)."""
    if playbook_id:
        if problem := v.playbook_id_problem(playbook_id):
            raise ChoiceError(problem)
        try:
            return find_playbook(directory, playbook_id)
        except PlaybookError as exc:
            raise ChoiceError(str(exc)) from None
    if v.headcount_problem(headcount) or v.choice_problem(category, v.CATEGORIES, "category"):
        return None
    try:
        given = [name for name, value in (registration or {}).items() if value]
        return choose(valid_playbooks(directory), category or None, headcount, given)
    except NoChoice as exc:
        raise ChoiceError(str(exc)) from None


def chosen_now(directory: Path, state: IncidentState) -> Playbook:
    """became_group: the playbook `start` would choose for the incident's category and headcount as they are now
    (and the registration fields it has), other than the one it runs; ChoiceError naming what fits instead."""
    reg = state.registration
    given = [name for name, value in reg.model_dump().items() if value]
    others = [p for p in valid_playbooks(directory) if p.id != state.playbook]
    try:
        return choose(others, reg.category, state.headcount, given)
    except NoChoice as exc:
        raise ChoiceError(str(exc)) from None


class NoChoice(ValueError):
    """No playbook, or more than one, fits; the message says which and how to choose."""


def headcount_problem(playbook: Playbook, headcount: int) -> str | None:
    """The chosen playbook's range, as `--headcount`'s problem."""
    span = playbook.applies.headcount
    if span.min <= headcount <= span.max:
        return None
    return (f"{headcount:,} is outside playbook {playbook.id}'s range of {span}; give a number in it"
            " or choose another playbook")


def choose(playbooks: Iterable[Playbook], category: str | None, headcount: int,
           given: Iterable[str] = ()) -> Playbook:
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
