"""The accountability ledger: per hall and role, what went wrong, with the incidents behind each number."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Collection

from sqlalchemy import and_, or_, select

from groupdesk.record.report import _latest, dissatisfied
from groupdesk.storage import Database
from groupdesk.storage.schema import archive_records as r, archive_steps as s

HALL = "hall"  # what is counted against the hall as a whole, not one role


def build_ledger(db: Database, start: date, end: date, hall: str | None = None, drills: bool = False,
                 halls: Collection[str] | None = None) -> list[dict]:
    """Rows of hall, role: overdue steps, escalations caused, repeat complaints, dissatisfied follow-ups,
    broken promises (counted against the hall: the archive keeps each incident's promise counts)."""
    chosen = _latest(start, end, hall, drills, halls)
    with db.read() as c:
        late = c.execute(select(r.c.hall_id, s.c.owner_role, s.c.incident_id, s.c.step, s.c.deadline_missed,
                                s.c.escalations)
                         .select_from(s.join(r, and_(s.c.incident_id == r.c.incident_id, s.c.run_id == r.c.run_id)))
                         .where(chosen, or_(s.c.deadline_missed > 0, s.c.escalations > 0))
                         .order_by(r.c.hall_id, s.c.owner_role, r.c.seq)).all()
        halls = c.execute(select(r.c.hall_id, r.c.incident_id, r.c.repeat_of, r.c.satisfaction, r.c.promises_missed,
                                 dissatisfied, r.c.record)
                          .where(chosen, or_(r.c.repeat_of.is_not(None), r.c.promises_missed > 0, dissatisfied > 0))
                          .order_by(r.c.hall_id, r.c.seq)).all()
    ledger: dict[tuple[str, str], dict[str, Any]] = {}

    def entry(hall_id: str, role: str) -> dict[str, Any]:
        return ledger.setdefault((hall_id, role), {
            "hall": hall_id, "role": role, "overdue_steps": 0, "escalations_caused": 0, "repeat_complaints": 0,
            "dissatisfied_follow_ups": 0, "broken_promises": 0,
            "incidents": {"overdue_steps": [], "escalations_caused": [], "repeat_complaints": [],
                          "dissatisfied_follow_ups": [], "broken_promises": []}})

    for hall_id, role, incident_id, step, missed, escalations in late:
        row = entry(hall_id, role)
        if missed:
            row["overdue_steps"] += missed
            row["incidents"]["overdue_steps"].append(f"{incident_id}:{step}")
        if escalations:
            row["escalations_caused"] += escalations
            row["incidents"]["escalations_caused"].append(f"{incident_id}:{step}")
    for hall_id, incident_id, repeat_of, score, missed, unhappy, record in halls:
        row = entry(hall_id, HALL)
        if missed:  # promises that fell due unkept (kept late or waived afterwards included)
            row["broken_promises"] += missed
            row["incidents"]["broken_promises"].append(f"{incident_id} ({missed})")
        if repeat_of:
            row["repeat_complaints"] += 1
            row["incidents"]["repeat_complaints"].append(f"{incident_id} (repeat of {repeat_of})")
        if unhappy:  # one an incident, however many of its answers were dissatisfied
            scores = json.loads(record).get("follow_up_scores") or [score]  # older records: the last answer only
            row["dissatisfied_follow_ups"] += 1
            row["incidents"]["dissatisfied_follow_ups"].append(
                f"{incident_id} ({', then '.join(f'{n}/5' for n in scores)})")
    return [ledger[k] for k in sorted(ledger)]


def build_founded(db: Database, start: date, end: date, hall: str | None = None, drills: bool = False,
                  halls: Collection[str] | None = None) -> dict[str, list[dict]]:
    """责任到人: founded (and partly founded) complaints per person and per unit their findings named, with the
    incidents behind each number (the finding's own `responsible_people` and `responsible_unit`, never the
    record's role-based `responsible`)."""
    chosen = _latest(start, end, hall, drills, halls)
    with db.read() as c:
        found = c.execute(select(r.c.incident_id, r.c.finding_founded, r.c.record)
                          .where(chosen, r.c.finding_founded.in_(("yes", "partly")))
                          .order_by(r.c.seq)).all()
    people: dict[str, dict[str, Any]] = {}
    units: dict[str, dict[str, Any]] = {}

    def count(table: dict[str, dict[str, Any]], key_name: str, key: str, founded: str, incident_id: str) -> None:
        row = table.setdefault(key, {key_name: key, "founded": 0, "partly": 0, "incidents": []})
        row["founded" if founded == "yes" else "partly"] += 1
        row["incidents"].append(incident_id + (" (partly)" if founded == "partly" else ""))

    for incident_id, founded, record in found:
        finding = json.loads(record).get("finding") or {}
        for person in finding.get("responsible_people") or []:
            count(people, "person", person, founded, incident_id)
        if unit := finding.get("responsible_unit"):
            count(units, "unit", unit, founded, incident_id)
    return {"people": [people[k] for k in sorted(people)], "units": [units[k] for k in sorted(units)]}
