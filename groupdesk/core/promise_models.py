"""Promises (合理承诺,有诺必行; 约定反馈时间): what a promise holds, and the one request that changes promises."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from groupdesk.core.durations import Span, parse_duration
from groupdesk.core.times import time_problem
from groupdesk.core.validation import shown

PromiseStatus = Literal["open", "kept", "missed", "waived"]
UNRESOLVED: tuple[str, ...] = ("open", "missed")  # what keeps an incident from closing


class Promise(BaseModel):
    """One promise made to the complainant (or a staff member) during an incident."""

    id: str  # p1, p2, ... in the order made
    what: str
    to: str = "lead_complainant"  # lead_complainant, or a staff id
    owner: str  # the staff member who must keep it
    owner_role: str | None = None  # their role at the hall when promised: where the escalation ladder starts
    step: str | None = None  # the step under way when it was made
    made_by: str
    made_at: datetime
    due: str  # as given: a duration ("30m", "2wd") or an ISO time with its offset
    due_at: datetime | None = None  # None while working days are being counted on the calendar
    remind_at: datetime | None = None
    reminded: bool = False
    status: PromiseStatus = "open"
    missed_at: datetime | None = None  # set when it fell due unkept (kept afterwards: kept late)
    escalation_level: int = 0
    changes: int = 0  # how often its due time was changed (re-promised)
    previous_due_at: datetime | None = None  # re-promised: the due time before the last change (its message names it)
    resolved_by: str | None = None  # who recorded it kept, or waived it
    resolved_at: datetime | None = None
    note: str = ""  # kept: how; waived: why


class PromiseChange(BaseModel):
    """One change to an incident's promises: `add` one, mark one `kept`, `change` its due time, or `waive`
    (the centre director, with a reason; no id waives every unresolved one)."""

    kind: Literal["add", "kept", "change", "waive"]
    actor: str
    promise: str = ""  # kept / change / waive: the promise's id
    what: str = ""  # add
    to: str = "lead_complainant"  # add: to whom
    owner: str = ""  # add
    owner_role: str | None = None  # add: the owner's role at the hall as the directory says now
    due: str = ""  # add / change: a duration (scaled in drills) or an ISO time with an offset
    note: str = ""  # kept: optional note; change and waive: the reason
    roles: list[str] | None = None  # the actor's roles at the hall now (see models.CurrentRoles)


DUE_HELP = "write it as a duration like 30m, 2h or 2wd (working days), or a local time like 2026-11-25 17:00"


def parse_due(text: str) -> Span | datetime:
    """A promise's due as the workflow receives it: a duration, or an ISO time with its offset.
    ValueError (saying what is accepted) for anything else."""
    raw = (text or "").strip()
    if not raw:
        raise ValueError(f"the due time is empty; {DUE_HELP}")
    if raw[:1].isdigit() and len(raw) >= 10 and raw[4:5] == "-":
        try:
            at = datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"{shown(raw)} is not a date and time; {DUE_HELP}") from None
        if at.tzinfo is None:
            raise ValueError(f"{shown(raw)} has no UTC offset; write it like 2026-11-25T17:00+08:00")
        return at
    try:
        return parse_duration(raw)
    except ValueError as exc:
        if "does not parse" not in str(exc):  # a duration, but too long or zero: say so
            raise
        raise ValueError(f"{shown(raw)} is not a due time; {DUE_HELP}") from None


def due_problem(due: str, now: datetime, before: datetime | None = None) -> str | None:
    """Why a due time as the workflow receives it cannot be promised now: it does not parse, or as a time it is
    past, more than 90 days ahead, or the due time it already has (`before`: no change). A duration is at most
    90 days by parse_duration (and shorter in a drill, where it is scaled)."""
    try:
        when = parse_due(due)
    except ValueError as exc:
        return str(exc)
    return time_problem(when, now, before) if isinstance(when, datetime) else None


def figures(promises: list[Promise]) -> dict[str, int]:
    """An incident's promises in numbers, as the archive keeps them: made, kept (on time or late), ever missed
    (kept late or waived afterwards included), waived."""
    return {"made": len(promises), "kept": sum(p.status == "kept" for p in promises),
            "kept_late": sum(p.status == "kept" and p.missed_at is not None for p in promises),
            "missed": sum(p.missed_at is not None for p in promises), "waived": sum(p.status == "waived" for p in promises)}
