"""Corrective actions (整改): what one holds, and the requests that move it (pure: no I/O, no clock).

A corrective action outlives the incident it comes from, so each runs as its own workflow
(workflows/corrective.py, the machine in workflows/machine/corrective.py). Its owner is reminded at 80 % of the
time, a miss climbs the incident's escalation chain (snapshot), the owner records it done, the centre director
verifies it or sends it back.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from groupdesk.core.models import TimelineEntry

CorrectiveStatus = Literal["open", "done", "verified"]
WORKFLOW_TYPE = "CorrectiveAction"
REMIND_AT = 0.8  # the owner is reminded when this share of the time from the start to the due time has passed
WHAT_MAX = 500
CID = re.compile(r"^(?P<incident>[A-Za-z0-9_.:-]{1,190})-c(?P<n>[1-9][0-9]{0,3})\Z")


def corrective_id(incident_id: str, number: int) -> str:
    """The n-th corrective action of an incident: `<incident>-c<n>` (its workflow id)."""
    return f"{incident_id}-c{number}"


def cid_problem(value: str) -> str | None:
    if not CID.match(value or ""):
        return f"{(value or '')[:40]!r} is not a corrective action id; they look like xicheng-20261123-ec61f3-c1"
    return None


class StartCorrective(BaseModel):
    """The corrective action's start: everything it needs, resolved by the client (the due time included)."""

    id: str
    incident_id: str
    hall_id: str
    hall_name: str
    hall_name_en: str = ""
    what: str
    owner: str
    owner_name: str = ""
    owner_role: str | None = None  # where the escalation ladder starts
    made_by: str
    made_at: datetime
    due_at: datetime
    due: str = ""  # as typed (`2wd`, `2026-12-20 17:00`)
    chain: list[str] = Field(default_factory=list)  # roles above the owner's, from the incident's playbook snapshot
    grace_seconds: float = 600.0  # between rungs (already divided by the time scale in a drill)
    drill: bool = False
    time_scale: float = 1.0
    source: Literal["incident", "line_study"] = "incident"
    feeder: str = ""  # a frequent-outage line's special study: the line
    directors: list[str] = Field(default_factory=list)  # the hall's centre directors at the start (a request
    # sent straight to Temporal, without the roles the gateway read, is checked against these)

    def directors_fallback(self, actor: str) -> list[str]:
        return ["centre_director"] if actor in self.directors else []


class CorrectiveDone(BaseModel):
    actor: str
    note: str
    evidence: str = ""  # the SHA-256 of an attachment of the incident (its proof)
    roles: list[str] | None = None


class CorrectiveVerify(BaseModel):
    actor: str
    decision: Literal["verify", "reject"] = "verify"
    reason: str = ""
    roles: list[str] | None = None


class CorrectiveState(BaseModel):
    id: str
    incident_id: str
    hall_id: str
    what: str
    owner: str
    made_by: str
    made_at: datetime
    due_at: datetime
    remind_at: datetime
    drill: bool = False
    source: str = "incident"
    feeder: str = ""
    status: CorrectiveStatus = "open"
    reminded: bool = False
    missed_at: datetime | None = None
    escalation_level: int = 0
    done_by: str | None = None
    done_at: datetime | None = None
    note: str = ""
    evidence: str = ""
    verified_by: str | None = None
    verified_at: datetime | None = None
    rejections: int = 0
    timeline: list[TimelineEntry] = Field(default_factory=list)

    def overdue(self, now: datetime) -> bool:
        """Not done by its due time (a done one waiting for verification is not overdue)."""
        return self.status == "open" and now >= self.due_at


def row(state: CorrectiveState, now: datetime) -> dict:
    """One corrective action as `corrective list`, the API and the board show it."""
    return {"id": state.id, "incident": state.incident_id, "hall": state.hall_id, "what": state.what,
            "owner": state.owner, "made_by": state.made_by, "made_at": state.made_at.isoformat(),
            "due_at": state.due_at.isoformat(), "status": state.status, "overdue": state.overdue(now),
            "missed": state.missed_at is not None, "escalation_level": state.escalation_level,
            "done_by": state.done_by, "done_at": state.done_at.isoformat() if state.done_at else None,
            "note": state.note, "evidence": state.evidence, "verified_by": state.verified_by,
            "verified_at": state.verified_at.isoformat() if state.verified_at else None,
            "rejections": state.rejections, "source": state.source, "feeder": state.feeder, "drill": state.drill}


# ---- who may (one rule each: the gateway and the workflow's validators both ask these) -------------------------

OPENERS: tuple[str, ...] = ("hall_lead", "centre_director")


def may_open(actor: str, incident_owner: str | None, roles) -> bool:
    """Open a corrective action from an incident: its owner (首问负责人), the hall lead or the centre director."""
    return bool(actor) and (actor == incident_owner or bool(set(OPENERS) & set(roles)))


def open_refusal(actor: str, incident_id: str, owner: str | None) -> str:
    return (f"{actor} may not open a corrective action of {incident_id}: only its owner ({owner or '-'}), the hall"
            f" lead or the centre director may")


def done_problem(state: CorrectiveState, actor: str) -> str | None:
    """Why `actor` may not record the corrective action done now (None: they may)."""
    if actor != state.owner:
        return f"{actor} may not record {state.id} done: only its owner ({state.owner}) does"
    if state.status != "open":
        return f"{state.id} is {state.status}; only an open corrective action is recorded done"
    return None


def verify_problem(state: CorrectiveState, roles, decision: str, reason: str) -> str | None:
    """Why the request may not verify (or send back) the corrective action now (None: it may)."""
    if "centre_director" not in set(roles or ()):
        return f"only the centre director of {state.hall_id} verifies corrective actions"
    if state.status != "done":
        return (f"{state.id} is {state.status}; its owner records it done first (groupdesk corrective done)"
                if state.status == "open" else f"{state.id} is already verified")
    if decision == "reject" and not reason.strip():
        return "reason: sending it back needs a reason; pass --reason TEXT"
    return None


class ArchiveCorrective(BaseModel):
    """What the archive activity needs once the corrective action is verified."""

    start: StartCorrective
    state: CorrectiveState
    run_id: str
