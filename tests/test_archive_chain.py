"""The archive's hash chain: every altered, removed or reordered row is named by `groupdesk archive verify`.

The records come from the playbook interpreter itself (the workflow's machine, driven without a
server), on SQLite and PostgreSQL; tampering is plain SQL, as someone with database access would do.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from conftest import utc
from groupdesk.record.chain import append, verify
from groupdesk.record.archive_record import build_record
from groupdesk.cli import app
from groupdesk.storage import Database
from workflows.machine.incident import IncidentMachine

KEY = b"k" * 40


def closed_incident(make_start, n: int):
    """One incident taken to close by the interpreter: talk accepted, the follow-up answered with n."""
    start = make_start(incident_id=f"xicheng-2026112{n}-00000{n}", lead_phone=f"1380013800{n}")
    t0 = utc(2026, 11, 20 + n, 2, 0)
    m = IncidentMachine.new(start, t0)
    m.finish("move_to_vip_room", "done", "zhao.min", "", t0 + timedelta(minutes=3))
    m.finish("keep_order", "done", "qian.lei", "", t0 + timedelta(minutes=4))
    m.finish("talk_with_lead", "accepted", "sun.li", "", t0 + timedelta(minutes=20 + n))
    m.state.follow_up.score, m.state.follow_up.outcome = n, "answered"
    m.close_incident(t0 + timedelta(days=1), "answered")
    return start, m.state


@pytest.fixture
def archive(database_url, make_start):
    db = Database(database_url)
    for n in range(1, 6):
        start, state = closed_incident(make_start, n)
        assert append(db, KEY, build_record(start, state, f"run-{n}", KEY)) == (n, True)
    yield db
    db.dispose()


def run_verify(db: Database, tmp_path):
    env = {"GROUPDESK_DATABASE_URL": db.url, "GROUPDESK_DATA_DIR": str(tmp_path / "data"),
           "GROUPDESK_HASH_KEY": KEY.decode()}
    result = CliRunner().invoke(app, ["archive", "verify"], env=env)
    return result.exit_code, result.output


def sql(db: Database, *statements: str) -> None:
    with db.write() as c:
        for statement in statements:
            c.execute(text(statement))


def test_an_intact_chain_verifies_and_a_retry_writes_nothing(archive, make_start, tmp_path):
    start, state = closed_incident(make_start, 2)
    assert append(archive, KEY, build_record(start, state, "run-2", KEY)) == (2, False)
    code, out = run_verify(archive, tmp_path)
    assert code == 0 and "archive intact: 5 records" in out
    assert verify(archive, b"another key that is long enough....").problems  # a forger without the key fails


def test_an_altered_row_is_named(archive, tmp_path):
    sql(archive, "UPDATE archive_records SET satisfaction = 5 WHERE seq = 2")
    code, out = run_verify(archive, tmp_path)
    assert code == 1
    assert "seq 2 (xicheng-20261122-000002): altered" in out
    assert "seq 1 " not in out and "seq 3 " not in out


def test_an_altered_step_row_is_named(archive, tmp_path):
    sql(archive, "UPDATE archive_steps SET seconds = 60 WHERE incident_id = 'xicheng-20261124-000004'"
                 " AND step = 'talk_with_lead'")
    code, out = run_verify(archive, tmp_path)
    assert code == 1 and "seq 4 (xicheng-20261124-000004): altered: its step rows" in out


def test_a_removed_row_is_named(archive, tmp_path):
    sql(archive, "DELETE FROM archive_records WHERE seq = 3")
    code, out = run_verify(archive, tmp_path)
    assert code == 1
    assert "seq 4 (xicheng-20261124-000004): removed before it" in out
    assert "the head counts 5 records, the archive has 4" in out


def test_a_removed_last_row_is_named(archive, tmp_path):
    sql(archive, "DELETE FROM archive_records WHERE seq = 5")
    code, out = run_verify(archive, tmp_path)
    assert code == 1 and "the last record (seq 5) is no longer in the archive" in out


def test_reordered_rows_are_named(archive, tmp_path):
    sql(archive, "UPDATE archive_records SET seq = 100 WHERE seq = 2",
        "UPDATE archive_records SET seq = 2 WHERE seq = 3",
        "UPDATE archive_records SET seq = 3 WHERE seq = 100")
    code, out = run_verify(archive, tmp_path)
    assert code == 1
    assert "seq 2 (xicheng-20261123-000003): reordered" in out
    assert "seq 3 (xicheng-20261122-000002): reordered" in out
    assert "seq 1 " not in out and "seq 4 " not in out and "altered" not in out


def test_a_reset_head_is_named(archive, tmp_path):
    sql(archive, "UPDATE archive_head SET count = 0, last_seq = 0, mac = '', "
                 "last_hash = '0000000000000000000000000000000000000000000000000000000000000000'")
    code, out = run_verify(archive, tmp_path)
    assert code == 1 and "archive head reset to empty while 5 records remain" in out


def test_workers_appending_at_once_never_fork_the_chain(database_url, make_start, tmp_path):
    """Eight writers (separate engines, as separate workers) append at once: one chain, every record once."""
    from concurrent.futures import ThreadPoolExecutor

    Database(database_url).dispose()  # migrated once, as the first worker does
    made = [closed_incident(make_start, 1 + n % 8) for n in range(32)]

    def writer(w: int) -> list[bool]:
        db = Database(database_url, migrate_now=False)
        try:
            return [append(db, KEY, build_record(start, state, f"run-{w}-{i}", KEY))[1]
                    for i, (start, state) in enumerate(made[w::8])]
        finally:
            db.dispose()

    with ThreadPoolExecutor(8) as pool:
        written = [new for batch in pool.map(writer, range(8)) for new in batch]
    assert written == [True] * 32
    db = Database(database_url, migrate_now=False)
    verdict = verify(db, KEY)
    db.dispose()
    assert verdict.intact and verdict.count == 32, verdict.problems
