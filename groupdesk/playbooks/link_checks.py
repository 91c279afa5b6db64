"""Loader checks for what links playbooks: hand-overs, reopening on a dissatisfied follow-up, adjourning."""

from __future__ import annotations

from collections.abc import Iterator

from groupdesk.core.links import CHOSEN
from groupdesk.core.playbook import Playbook
from groupdesk.core.validation import IDENTIFIER


def link_problems(pb: Playbook) -> Iterator[str]:
    """Problems of one playbook's hand_over, wait_until and follow_up.reopen (targets are checked by `missing_targets`)."""
    for sid, step in pb.steps.items():
        for name, outcome in step.outcomes.items():
            where = f"step {sid!r}, outcome {name!r}"
            if outcome.hand_over:
                yield from _hand_over(where, pb, outcome.hand_over)
                if outcome.stay:
                    yield f"{where}: a hand-over finishes the step; remove stay"
            if outcome.min_headcount is not None and outcome.min_headcount < 1:
                yield f"{where}, min_headcount: give a number of people, 1 or more"
            if outcome.wait_until:
                if not outcome.stay:
                    yield f"{where}, wait_until: only an outcome that stays on its step can wait; add stay: true"
                if outcome.wait_until not in outcome.requires_data:
                    yield f"{where}, wait_until: add {outcome.wait_until!r} to requires_data so the time is always given"
        reopen = step.follow_up.reopen if step.follow_up else None
        if reopen is None:
            continue
        where = f"step {sid!r}, follow_up.reopen"
        if not 1 <= reopen.at_or_below <= 4:
            yield f"{where}.at_or_below: give a score from 1 to 4 (answers are 1 to 5)"
        target = pb.steps.get(reopen.to)
        if target is None:
            yield f"{where}.to: unknown step {reopen.to!r}; steps are {', '.join(pb.steps)}"
        elif target.kind != "task":
            yield f"{where}.to: step {reopen.to!r} is a {target.kind} step; reopen goes back to a task step"
        if reopen.then:
            yield from _hand_over(f"{where}.then", pb, reopen.then.hand_over)


def _hand_over(where: str, pb: Playbook, spec) -> Iterator[str]:
    if not IDENTIFIER.match(spec.playbook.replace("-", "_")):
        yield f"{where}, hand_over.playbook: {spec.playbook[:40]!r} is not a playbook id"
    elif spec.playbook == pb.id:
        yield f"{where}, hand_over.playbook: a playbook cannot hand over to itself; name another playbook"


def hand_over_targets(pb: Playbook) -> set[str]:
    found = {o.hand_over.playbook for s in pb.steps.values() for o in s.outcomes.values() if o.hand_over}
    found |= {s.follow_up.reopen.then.hand_over.playbook for s in pb.steps.values()
              if s.follow_up and s.follow_up.reopen and s.follow_up.reopen.then}
    return found - {CHOSEN}  # chosen when it happens, among the playbooks there are then


def missing_targets(pb: Playbook, known: set[str]) -> list[str]:
    """Hand-over targets that are not among the playbooks loaded beside this one."""
    return sorted(hand_over_targets(pb) - known)
