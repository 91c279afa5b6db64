"""Archive upkeep: `archive reseal` after a hash-key rotation (only from a chain intact under the old key), and
`archive backfill` of incidents that closed before the archive existed, from what Temporal still shows."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from groupdesk.record.chain import verify
from groupdesk.cli import app
from groupdesk.storage import Database
from groupdesk.storage.schema import archive_records
from test_archive_chain import KEY, archive  # noqa: F401  (fixture: five records sealed under KEY)

NEW_KEY = b"n" * 40


def reseal_cli(db: Database, tmp_path, old: bytes):
    (tmp_path / "old-key").write_bytes(old)
    env = {"GROUPDESK_DATABASE_URL": db.url, "GROUPDESK_DATA_DIR": str(tmp_path / "data"),
           "GROUPDESK_HASH_KEY": NEW_KEY.decode()}
    done = CliRunner().invoke(app, ["archive", "reseal", "--old-key-file", str(tmp_path / "old-key")], env=env)
    return done.exit_code, done.output


def hashes(db: Database) -> list[tuple]:
    with db.read() as c:
        return list(c.execute(select(archive_records.c.seq, archive_records.c.prev_hash, archive_records.c.row_hash)
                              .order_by(archive_records.c.seq)))


def test_a_rotated_key_reseals_an_intact_chain(archive, tmp_path):  # noqa: F811
    before = hashes(archive)
    code, out = reseal_cli(archive, tmp_path, KEY)
    assert code == 0 and "re-sealed under the current key: 5 records" in out, out
    assert verify(archive, NEW_KEY).intact and not verify(archive, KEY).intact
    after = hashes(archive)
    assert [r[0] for r in after] == [r[0] for r in before] and all(a[2] != b[2] for a, b in zip(after, before))
    with archive.write() as c:  # tampering after the re-seal is still found, under the new key
        c.execute(text("UPDATE archive_records SET escalations = 9 WHERE seq = 3"))
    assert verify(archive, NEW_KEY).problems[0].startswith("seq 3 ")


def test_a_tampered_chain_is_not_resealed(archive, tmp_path):  # noqa: F811
    with archive.write() as c:
        c.execute(text("UPDATE archive_records SET satisfaction = 5 WHERE seq = 2"))
    before = hashes(archive)
    code, out = reseal_cli(archive, tmp_path, KEY)
    assert code == 1 and "does not verify under the old key (seq 2 " in out and "nothing re-sealed" in out, out
    assert hashes(archive) == before
    code, out = reseal_cli(archive, tmp_path, NEW_KEY)
    assert code == 1 and "the old key is the key in use" in out
    code, out = reseal_cli(archive, tmp_path, b"short")
    assert code == 2 and "--old-key-file" in out


@pytest.mark.devserver
async def test_backfill_archives_what_closed_before_the_archive(dev_env, dev_setup, tmp_path, make_start):
    from groupdesk.drills.smart_meter import answer_follow_up, talk_accepted
    from groupdesk.storage import open_database
    from helpers import patient_playbook, run_cli, start
    from worker import build_worker

    shared = dev_setup.but(GROUPDESK_HASH_KEY="h" * 40)
    worker_settings = shared.but(GROUPDESK_DATA_DIR=tmp_path / "worker").settings
    async with build_worker(dev_env.client, worker_settings):
        handle = await start(dev_env, worker_settings, make_start(
            incident_id=f"backfill-{uuid.uuid4().hex[:8]}", drill=True, time_scale=20_000.0,
            registration={"category": "business", "account_no": "1234-5678"},
            playbook=patient_playbook(tmp_path)))  # its survey waits for the answer
        await talk_accepted(handle)
        await answer_follow_up(handle, 4)
        await handle.result()
    with open_database(worker_settings).read() as c:  # what the archive activity wrote at close
        written = json.loads(c.execute(select(archive_records.c.record)).scalar_one())

    # an archive that did not exist when it closed: backfilled from Temporal, the very same record
    later = shared.but(GROUPDESK_DATA_DIR=tmp_path / "later")
    env = later.env
    dry = await run_cli(env, "archive", "backfill", "--dry-run")
    assert dry.returncode == 0 and f"would add {handle.id}" in dry.stdout, dry.stderr
    done = await run_cli(env, "archive", "backfill")
    assert done.returncode == 0 and f"added {handle.id}" in done.stdout, done.stderr
    with open_database(later.settings).read() as c:
        filled = [json.loads(r) for r in c.execute(select(archive_records.c.record)).scalars()]
    assert filled == [written] and written["category"] == "business" and written["account_key"]
    again = await run_cli(env, "archive", "backfill")
    assert again.returncode == 0 and "0 added, 1 already archived" in again.stdout
    assert (await run_cli(env, "archive", "verify")).returncode == 0
