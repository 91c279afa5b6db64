"""Dissatisfied follow-ups in the ledger and the report (issue 16): an incident answered 2, handled again and
then answered 5 counts once in the ledger, with both scores, and its 2 counts among the dissatisfied answers."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import update

from conftest import utc
from groupdesk.record.chain import append, verify
from groupdesk.record.ledger import build_ledger
from groupdesk.record.archive_record import build_record
from groupdesk.record.report import build_report
from groupdesk.core.models import RecordFollowUp, RecordOutcome
from groupdesk.storage import Database
from groupdesk.storage.schema import archive_records
from machine_helpers import resolve
from workflows.machine.incident import IncidentMachine

KEY = b"k" * 40
MIN = timedelta(minutes=1)
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def answered(make_start, n: int, *scores: int) -> dict:
    """An incident at 西城 handled and followed up once per score (a dissatisfied one reopens it)."""
    start = make_start(hall_id="xicheng", started_by="sun.li", lead_phone=f"1390013900{n}", incident_id=f"fu-{n}")
    t0 = utc(2026, 11, 16 + n, 2, 0)
    m = IncidentMachine.new(start, t0)
    m.finish("move_to_vip_room", "done", "sun.li", "", t0 + 10 * MIN)
    m.finish("keep_order", "done", "sun.li", "", t0 + 10 * MIN)
    for score in scores:
        m.record_outcome(RecordOutcome(step="talk_with_lead", outcome="accepted", actor="sun.li"),
                         m.state.timeline[-1].at + MIN)
        resolve(m, m.take_effects())  # the follow-up's working day, as the calendar activity answers it
        sent = m.state.follow_up.send_at
        m.fire_due(sent)
        m.answer_follow_up(RecordFollowUp(score=score, actor="lead_complainant"), sent + MIN)
    m.take_effects()
    assert m.state.status == "closed" and m.state.reopened == sum(1 for n in scores if n <= 2)
    return build_record(start, m.state, "run", KEY)


def test_an_incident_reopened_once_then_answered_satisfied_counts_once_in_the_ledger(database_url, make_start):
    db = Database(database_url)
    try:
        again = answered(make_start, 1, 2, 5)  # dissatisfied, handled again, then satisfied
        happy = answered(make_start, 2, 4)
        unhappy = answered(make_start, 3, 2, 1)  # dissatisfied twice: handed over to the dispute ladder
        assert (again["follow_up_scores"], again["dissatisfied_answers"], again["satisfaction"]) == ([2, 5], 1, 5)
        assert (happy["dissatisfied_answers"], unhappy["follow_up_scores"]) == (0, [2, 1])
        for record in (again, happy, unhappy):
            append(db, KEY, record)
        assert verify(db, KEY).intact

        (row,) = [r for r in build_ledger(db, *NOVEMBER, drills=True) if r["role"] == "hall"]
        assert row["dissatisfied_follow_ups"] == 2
        assert row["incidents"]["dissatisfied_follow_ups"] == ["fu-1 (2/5, then 5/5)", "fu-3 (2/5, then 1/5)"]
        report = build_report(db, *NOVEMBER, drills=True)
        assert report["satisfaction"]["5"] == 1 and report["satisfaction"]["1"] == 1  # the last answers
        assert report["dissatisfied"] == {"answers": 3, "incidents": 2}

        # the column is compared with the sealed record; a row archived before it (NULL) reads its last answer
        with db.write() as c:
            c.execute(update(archive_records).where(archive_records.c.incident_id == "fu-1")
                      .values(dissatisfied_answers=0))
        assert any("fu-1" in p and "follow-up counts" in p for p in verify(db, KEY).problems)
        with db.write() as c:
            c.execute(update(archive_records).values(dissatisfied_answers=None))
        assert build_report(db, *NOVEMBER, drills=True)["dissatisfied"] == {"answers": 1, "incidents": 1}
        (row,) = [r for r in build_ledger(db, *NOVEMBER, drills=True) if r["role"] == "hall"]
        assert row["incidents"]["dissatisfied_follow_ups"] == ["fu-3 (2/5, then 1/5)"]  # fu-1 ended satisfied
    finally:
        db.dispose()
