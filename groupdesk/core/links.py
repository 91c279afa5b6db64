"""Links between incidents and what playbooks say about them: hand-overs to another playbook
(a child incident), reopening on a dissatisfied follow-up, and what a child reports back."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


# hand_over.playbook `chosen`: the playbook `start` would choose for the incident's headcount and category as they
# are now (a single complaint that became a group); the client chooses it and gives it as the outcome's data
# `playbook` (the workflow reads no playbook files).
CHOSEN = "chosen"


class HandOverSpec(BaseModel):
    """An outcome that hands the complaint to another playbook, run as a child incident.

    parent: wait  -> this incident waits for the child's result, records it, then goes on to `next`;
    parent: close -> this incident closes at once, noting the hand-over (the child runs on)."""

    playbook: str
    parent: Literal["wait", "close"] = "wait"


class ReopenThen(BaseModel):
    hand_over: HandOverSpec


class Reopen(BaseModel):
    """A follow-up answer at or below `at_or_below` goes back to step `to`; the next such answer does `then`."""

    at_or_below: int = 2
    to: str
    then: ReopenThen | None = None


class ParentLink(BaseModel):
    """Given to a child incident at its start: who handed it over, from which step."""

    id: str
    playbook: str
    step: str | None = None
    mode: Literal["wait", "close"] = "wait"


class LinkedIncident(BaseModel):
    """Another incident this one is linked to, as this incident last knew it."""

    id: str
    relation: Literal["child", "parent"]
    playbook: str
    status: Literal["starting", "open", "closed", "failed"] = "open"
    mode: Literal["wait", "close"] = "wait"
    step: str | None = None  # the step (or "follow_up") whose outcome handed it over
    at: datetime | None = None
    result: str = ""
    next: str | None = None  # a parent that waits: the step it goes on to (None: it closes)


class ChildStart(BaseModel):
    """Activity input: the playbook a child incident runs, loaded as a snapshot when it is handed over."""

    playbook: str


class ChildResult(BaseModel):
    """What a parent records of its child: how it ended."""

    id: str
    status: str
    resolution: str = ""
    last_outcome: str = ""
    score: int | None = None
    error: str = ""
