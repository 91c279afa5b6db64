"""Which playbook a start runs: the one named, or the one whose `applies` fits its category and headcount."""

from __future__ import annotations

from pathlib import Path

from groupdesk.core import validation as v
from groupdesk.core.applies import NoChoice, choose
from groupdesk.core.playbook import Playbook
from groupdesk.playbook_loader import PlaybookError, find_playbook, load_playbook, playbook_files


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
