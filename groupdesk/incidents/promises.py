"""Promises from the client side: what staff type turned into a `PromiseChange`, who may send it, and the list of
promises across incidents.

The list reads only incidents that have promises: the workflow publishes `GroupdeskPromises` (the statuses its
promises have) and `GroupdeskPromiseDue` (the earliest due time of those not kept yet), so `groupdesk promises`
and the board ask Temporal's visibility for those incidents and query just them, never every incident.
"""

from __future__ import annotations

from datetime import datetime, timezone

from groupdesk.core import search_attributes as sa
from groupdesk.core import validation as v
from groupdesk.core.models import IncidentState, PromiseAck, PromiseChange
from groupdesk.core.promise_models import DUE_HELP, UNRESOLVED, parse_due
from groupdesk.core.roles import LEAD_COMPLAINANT
from groupdesk.core.validation import InputError
from groupdesk.incidents.registration import parse_local_time
from groupdesk.incidents.times import check_promise_due
from groupdesk.people.permissions import Viewer, require
from groupdesk.engine import visibility

WHEN_HELP = "write it like 2026-11-25 17:00 (local time)"


def normalise_due(raw: str) -> str:
    """A due time as typed (`30m`, `2wd`, `2026-11-25 17:00` local, or ISO with an offset) as the workflow takes it:
    the duration, or the time with its offset. ValueError saying what is accepted."""
    text = (raw or "").strip()
    if len(text) > v.NAME_MAX:
        raise ValueError(f"{len(text):,} characters is not a due time; {DUE_HELP}")
    if text[:1].isdigit() and text[4:5] == "-":
        try:
            return parse_local_time(text).isoformat()
        except ValueError:
            raise ValueError(f"{v.shown(text)} is not a date and time; {DUE_HELP}") from None
    when = parse_due(text)
    return text if isinstance(when, datetime) else str(when)


def parse_when(raw: str) -> datetime:
    """`--due-before`: a local date and time (or a date: its midnight)."""
    try:
        return parse_local_time(raw if len(raw.strip()) > 10 else raw.strip() + " 00:00")
    except ValueError:
        raise ValueError(f"{v.shown(raw)} is not a date and time; {WHEN_HELP}") from None


def task_problems(what_problem: str | None, due: str, owner: str) -> dict[str, str]:
    """The problems of what staff commit to as typed (a promise, a corrective action): what, due, owner, by field."""
    problems = {}
    if what_problem:
        problems["what"] = what_problem
    try:
        normalise_due(due)
    except ValueError as exc:
        problems["due"] = str(exc)
    if problem := v.staff_id_problem(owner):
        problems["owner"] = problem
    return problems


def add_problems(what: str, due: str, owner: str, to: str = LEAD_COMPLAINANT) -> dict[str, str]:
    """Every problem of a promise as typed, by field, before anything is sent."""
    problems = task_problems(v.promise_what_problem(what), due, owner)
    if to != LEAD_COMPLAINANT and (problem := v.staff_id_problem(to)):
        problems["to"] = problem
    return problems


def rows(state: IncidentState) -> list[dict]:
    """One incident's promises as `groupdesk promises`, the API and the board show them."""
    return [{"id": p.id, "incident": state.id, "hall": state.hall_id, "what": p.what, "to": p.to, "owner": p.owner,
             "step": p.step, "made_by": p.made_by, "made_at": p.made_at.isoformat(),
             "due_at": p.due_at.isoformat() if p.due_at else None, "status": p.status,
             "missed_at": p.missed_at.isoformat() if p.missed_at else None, "resolved_by": p.resolved_by,
             "resolved_at": p.resolved_at.isoformat() if p.resolved_at else None, "note": p.note}
            for p in state.promises]


def query(hall: str | None = None, due_before: datetime | None = None) -> str:
    """Running incidents with promises; with `due_before`, only those with one not kept yet due before it."""
    clauses = [f"{sa.PROMISES.name} IS NOT NULL"]
    if hall:
        clauses.append(visibility.equals(sa.HALL, hall, "hall"))
    if due_before is not None:
        clauses.append(f'{sa.PROMISE_DUE.name} < "{due_before.astimezone(timezone.utc).isoformat(timespec="seconds")}"')
    return visibility.incidents(*clauses)


class PromiseGateway:
    """The gateway's promise operations (mixed into `groupdesk.incidents.gateway.Gateway`, which holds the handles)."""

    async def promise(self, viewer: Viewer, incident_id: str, change: PromiseChange) -> PromiseAck:
        """Make, keep, re-promise or waive, checked by the permission rules; the owner must hold a role at the
        hall in the directory now (their role starts the escalation ladder)."""
        from groupdesk.people.directory import current_directory

        state, playbook = await self.view(viewer, incident_id)
        hall = state.hall_id
        change = change.model_copy(update={"actor": viewer.id, "roles": viewer.roles_at(hall)})
        if change.kind == "add":
            require(viewer.may_note(hall), f"{viewer.id} holds no role at hall {hall}")
            if change.owner == state.registration.person_involved:
                raise InputError("owner", f"{change.owner!r} is the staff member this complaint is about (更换当事人);"
                                          " name someone else")
            directory = current_directory(self.settings.directory)
            roles = directory.roles_of(hall, change.owner)
            if not roles:
                raise InputError("owner", f"{change.owner!r} holds no role at hall {hall}; name a staff member of"
                                          " the hall (see `groupdesk directory`)")
            if change.to != LEAD_COMPLAINANT and not directory.roles_of(hall, change.to):
                raise InputError("to", f"{change.to!r} holds no role at hall {hall}; leave --to out for the lead"
                                       " complainant")
            chained = [r for r in roles if r in playbook.escalation.chain]
            change = change.model_copy(update={"owner_role": (chained or roles)[0]})
        elif change.kind == "waive":
            require(viewer.may_decide(hall), f"{viewer.id} is not the centre director for {hall}; only they waive"
                                             " promises")
        else:
            owner = next((p.owner for p in state.promises if p.id == change.promise), None)
            require(viewer.id == owner or viewer.holds("hall_lead", hall) or viewer.may_decide(hall),
                    f"{viewer.id} may not record promise {change.promise} of {incident_id}"
                    + (f": its owner is {owner}" if owner else ""))
        check_promise_due(state, change)
        return await self.incident(incident_id).promise(change)

    async def promises(self, viewer: Viewer | None = None, hall: str | None = None,
                       due_before: datetime | None = None) -> list[dict]:
        """Promises across running incidents (those the viewer may see); with `due_before`, only those not kept
        yet and due before it, soonest first."""
        found = []
        for row in await self.list(query(hall, due_before)):
            state = await self.incident(row["id"]).live_state()
            if viewer is not None and not viewer.may_view(state.hall_id):
                continue
            for promise in rows(state):
                if due_before is None or (promise["status"] in UNRESOLVED and promise["due_at"]
                                          and datetime.fromisoformat(promise["due_at"]) < due_before):
                    found.append(promise)
        return sorted(found, key=lambda r: (r["due_at"] or "9", r["incident"], r["id"]))
