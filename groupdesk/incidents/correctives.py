"""Corrective actions (整改) from the client side: opened from an incident, each its own workflow
(workflows/corrective.py), recorded done by its owner, verified (or sent back) by the centre director, listed across
halls. Mixed into `groupdesk.incidents.gateway.Gateway` (needs `client`, `settings`, `incident`, `view`, `_acting`).

A corrective action's workflow id is `<incident>-c<n>`; running ones are found by Temporal's visibility
(`WorkflowType = "CorrectiveAction"`), verified ones in the archive (their own rows, kind `corrective`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from temporalio.client import WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from groupdesk.core import search_attributes as sa
from groupdesk.core import validation as v
from groupdesk.core.corrective import (
    WHAT_MAX, WORKFLOW_TYPE, CorrectiveDone, CorrectiveState, CorrectiveVerify, StartCorrective, cid_problem,
    corrective_id, done_problem, may_open, open_refusal, row, verify_problem,
)
from groupdesk.core.durations import MAX_DAYS
from groupdesk.core.models import IncidentState
from groupdesk.core.playbook import Playbook
from groupdesk.core.promise_models import DUE_HELP, parse_due
from groupdesk.core.validation import InputError
from groupdesk.engine import visibility
from groupdesk.people.permissions import Forbidden, Viewer, require, require_uninvolved

EVIDENCE_HELP = "give the SHA-256 of a file attached to the incident (groupdesk attachments list ID)"


def what_problem(value: str | None) -> str | None:
    return v.text_problem(value, WHAT_MAX, required="say what must be corrected, e.g. 更换表计并复核电量")


def add_problems(what: str, due: str, owner: str) -> dict[str, str]:
    """Every problem of a corrective action as typed, by field, before anything is sent."""
    from groupdesk.incidents.promises import task_problems

    return task_problems(what_problem(what), due, owner)


def resolve_due(due: str, now: datetime, time_scale: float = 1.0) -> datetime:
    """When a corrective action is due, from WHEN as typed for promises (`30m`, `2wd`, `2026-12-20 17:00`): a duration
    is divided by the incident's time scale in a drill. ValueError (one line) for the past or beyond 90 days."""
    from groupdesk.core.workcal import add_working_days
    from groupdesk.incidents.promises import normalise_due

    when = parse_due(normalise_due(due))
    if isinstance(when, datetime):
        at = when
    elif when.working_days:
        at = now + (add_working_days(now, when.working_days) - now) / time_scale
    else:
        at = now + timedelta(seconds=when.seconds / time_scale)
    if at <= now:
        raise ValueError(f"{v.shown(due)} is in the past; give a time still to come ({DUE_HELP})")
    if at - now > timedelta(days=MAX_DAYS):
        raise ValueError(f"{v.shown(due)} is more than {MAX_DAYS} days away; keep a corrective action within"
                         f" {MAX_DAYS} days")
    return at


def verified_rows(db, hall: str | None = None) -> list[dict]:
    """Verified corrective actions from the archive (their own rows in the chain)."""
    from sqlalchemy import select

    from groupdesk.storage.schema import archive_records as t

    query = select(t.c.incident_id, t.c.hall_id, t.c.drill, t.c.started_at, t.c.record).where(t.c.kind == "corrective")
    if hall:
        query = query.where(t.c.hall_id == hall)
    with db.read() as c:
        found = c.execute(query.order_by(t.c.seq)).all()
    out = []
    for r in found:
        rec = json.loads(r.record)
        c = rec.get("corrective") or {}
        out.append({"id": r.incident_id, "incident": rec.get("repeat_of"), "hall": r.hall_id, "what": c.get("what"),
                    "owner": c.get("owner"), "made_by": c.get("made_by"), "made_at": r.started_at,
                    "due_at": c.get("due_at"), "status": "verified", "overdue": False,
                    "missed": bool(c.get("missed_at")), "escalation_level": len(rec.get("escalations") or []),
                    "done_by": c.get("done_by"), "done_at": c.get("done_at"), "note": c.get("note") or "",
                    "evidence": c.get("evidence") or "", "verified_by": c.get("verified_by"),
                    "verified_at": c.get("verified_at"), "rejections": c.get("rejections") or 0,
                    "source": c.get("source") or "incident", "feeder": c.get("feeder") or "", "drill": bool(r.drill)})
    return out


def running_query(hall: str | None = None) -> str:
    clauses = [f'WorkflowType = "{WORKFLOW_TYPE}"', visibility.RUNNING]
    if hall:
        clauses.append(visibility.equals(sa.HALL, hall, "hall"))
    return " AND ".join(clauses)


class CorrectiveGateway:
    """The gateway's corrective-action operations."""

    async def corrective_state(self, viewer: Viewer, cid: str) -> CorrectiveState:
        """A running corrective action the viewer may see; LookupError when there is none running by that id."""
        if problem := cid_problem(cid):
            raise InputError("cid", problem)
        handle = self.corrective(cid)
        try:
            described = await handle.describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise LookupError(f"no corrective action {cid}; see groupdesk corrective list") from None
            raise
        if described.workflow_type != WORKFLOW_TYPE:  # an incident's id, or any other workflow's
            raise LookupError(f"no corrective action {cid}; see groupdesk corrective list")
        if described.status != WorkflowExecutionStatus.RUNNING:
            raise LookupError(f"{cid} is verified and archived; nothing more is recorded on it")
        state = await handle.state()
        require(viewer.may_view(state.hall_id), f"{viewer.id} may not see corrective actions of hall {state.hall_id}")
        return state

    async def add_corrective(self, viewer: Viewer, incident_id: str, what: str, owner: str, due: str) -> str:
        """Open a corrective action from an incident (open or closed): its owner, the hall lead or the centre
        director; the action's owner must hold a role at the hall now. Returns its id."""
        for field, problem in add_problems(what, due, owner).items():
            raise InputError(field, problem)
        state, playbook = await self.view(viewer, incident_id)
        require_uninvolved(viewer, state, f"open a corrective action of {incident_id}")
        roles = self._acting(viewer, state, playbook) if state.status == "open" else viewer.roles_at(state.hall_id)
        require(may_open(viewer.id, state.owner, roles), open_refusal(viewer.id, incident_id, state.owner))
        return await self.open_corrective(state, playbook, what, owner, due, made_by=viewer.id)

    async def open_corrective(self, state: IncidentState, playbook: Playbook, what: str, owner: str, due: str,
                              made_by: str) -> str:
        return await self.open_corrective_for(
            incident_id=state.id, hall_id=state.hall_id, hall_name=state.hall_name, drill=state.drill,
            time_scale=state.time_scale, person_involved=state.registration.person_involved, playbook=playbook,
            what=what, owner=owner, due=due, made_by=made_by)

    async def open_corrective_for(self, *, incident_id: str, hall_id: str, hall_name: str, drill: bool,
                                  time_scale: float, person_involved: str, playbook: Playbook, what: str, owner: str,
                                  due: str, made_by: str, source: str = "incident", feeder: str = "") -> str:
        """Start the corrective action's workflow (the permission checked by the caller): `<incident>-c<n>`."""
        from groupdesk.people.directory import current_directory

        directory = current_directory(self.settings.directory)
        hall = directory.hall(hall_id)
        owner_roles = directory.roles_of(hall_id, owner)
        if not owner_roles:
            raise InputError("owner", f"{owner!r} holds no role at hall {hall_id}; name a staff member of the"
                                      " hall (see `groupdesk directory`)")
        if owner and owner == person_involved:
            raise InputError("owner", f"{owner!r} is the staff member this complaint is about (更换当事人); name"
                                      " someone else")
        scale = time_scale if drill else 1.0
        now = datetime.now(timezone.utc)
        try:
            due_at = resolve_due(due, now, scale)
        except ValueError as exc:
            raise InputError("due", str(exc)) from None
        chained = [r for r in owner_roles if r in playbook.escalation.chain]
        owner_role = (chained or owner_roles)[0]
        # the incident's escalation chain snapshot above the owner's role; a role outside it (grid operations)
        # answers to the centre director and up
        chain = playbook.escalation.above(owner_role) if chained else \
            ["centre_director", *playbook.escalation.above("centre_director")]
        person = directory.person(owner)
        for number in range(1, 1000):
            cid = corrective_id(incident_id, number)
            start = StartCorrective(
                id=cid, incident_id=incident_id, hall_id=hall_id, hall_name=hall_name,
                hall_name_en=hall.name_en if hall else "", what=what.strip(), owner=owner,
                owner_name=person.name if person else owner, owner_role=owner_role, made_by=made_by, made_at=now,
                due_at=due_at, due=due.strip(), chain=chain, grace_seconds=playbook.escalation.grace.seconds / scale,
                drill=drill, time_scale=scale, source=source, feeder=feeder,
                directors=[p.id for p in directory.staff(hall_id, "centre_director")])
            try:
                await self.start_corrective(start, TypedSearchAttributes([
                    SearchAttributePair(sa.HALL, hall_id), SearchAttributePair(sa.DRILL, drill),
                    SearchAttributePair(sa.STATUS, "open"), SearchAttributePair(sa.NEXT_DEADLINE, due_at),
                    SearchAttributePair(sa.OVERDUE, False)]))
            except WorkflowAlreadyStartedError:  # the id is taken (an earlier action of this incident): the next
                continue
            return cid
        raise InputError("incident", f"{incident_id} has too many corrective actions")

    async def corrective_done(self, viewer: Viewer, cid: str, note: str, evidence: str = "") -> CorrectiveState:
        if problem := v.note_problem(note, "say what was done"):
            raise InputError("note", problem)
        evidence = (evidence or "").strip().lower()
        state = await self.corrective_state(viewer, cid)
        if problem := done_problem(state, viewer.id):
            if viewer.id != state.owner:
                raise Forbidden(problem)
            raise InputError("cid", problem)
        if evidence:
            evidence = await self._evidence_of(viewer, state.incident_id, evidence)
        return await self.corrective(cid).done(CorrectiveDone(actor=viewer.id, note=note, evidence=evidence,
                                                   roles=viewer.roles_at(state.hall_id)))

    async def _evidence_of(self, viewer: Viewer, incident_id: str, sha: str) -> str:
        """The whole SHA-256 of the incident's attachment `sha` names (its first 8+ characters will do)."""
        if not (8 <= len(sha) <= 64 and all(ch in "0123456789abcdef" for ch in sha)):
            raise InputError("evidence", f"{v.shown(sha)} is not a SHA-256; {EVIDENCE_HELP}")
        rows = await self.evidence(viewer, incident_id)
        found = {r["stored_sha256"] for r in rows if r["stored_sha256"].startswith(sha)
                 or r["original_sha256"].startswith(sha)}
        if len(found) != 1:
            raise InputError("evidence", f"{sha[:12]} is not a file attached to {incident_id}; {EVIDENCE_HELP}")
        return found.pop()

    async def corrective_verify(self, viewer: Viewer, cid: str, reject: bool = False,
                                reason: str = "") -> CorrectiveState:
        if reason and (problem := v.note_problem(reason)):
            raise InputError("reason", problem)
        state = await self.corrective_state(viewer, cid)
        roles = viewer.roles_at(state.hall_id)
        decision = "reject" if reject else "verify"
        if problem := verify_problem(state, roles, decision, reason):
            if "centre_director" not in roles:
                raise Forbidden(problem)
            field, _, text = problem.partition(": ") if problem.startswith("reason: ") else ("cid", "", problem)
            raise InputError(field, text)
        return await self.corrective(cid).verify(CorrectiveVerify(actor=viewer.id, decision=decision, reason=reason, roles=roles))

    async def correctives(self, viewer: Viewer | None = None, hall: str | None = None,
                          overdue: bool = False) -> list[dict]:
        """Corrective actions the viewer may see: running ones (Temporal) and verified ones (the archive)."""
        import asyncio

        from groupdesk.storage import open_database

        now = datetime.now(timezone.utc)
        found = []
        async for wf in self.client.list_workflows(running_query(hall), page_size=1000):
            try:
                state = await self.corrective(wf.id).state()
            except RPCError:
                continue  # completed between the list and the query: it is in the archive now
            found.append(row(state, now))
        seen = {r["id"] for r in found}
        archived = await asyncio.to_thread(verified_rows, open_database(self.settings), hall)
        found += [r for r in archived if r["id"] not in seen]
        if viewer is not None:
            found = [r for r in found if viewer.may_view(r["hall"])]
        if overdue:
            found = [r for r in found if r["overdue"]]
        return sorted(found, key=lambda r: (r["status"] == "verified", r["due_at"] or "", r["id"]))
