"""Re-seal the archive's chain after a hash-key rotation: every row's hash and the head's seal made again
under the new key, in one transaction, and only from a chain that verifies intact under the old key (a
re-seal must never launder an altered row). Pseudonymous columns (the complainant's, account's and
community's keyed hashes) cannot be re-keyed without the data: rows sealed before keep the old key's."""

from __future__ import annotations

from sqlalchemy import select, text, update

from groupdesk.record.chain import GENESIS, LOCK_ID, head_mac, row_hash, verify
from groupdesk.storage import Database
from groupdesk.storage.schema import archive_head, archive_records


class ResealRefused(ValueError):
    """The chain does not verify under the old key (or the keys are the same): nothing was changed."""


def reseal(db: Database, old_key: bytes, new_key: bytes) -> int:
    """Re-seal every row under `new_key`; the number of rows re-sealed."""
    if old_key == new_key:
        raise ResealRefused("the old key is the key in use; give the key the archive was sealed with")
    verdict = verify(db, old_key)
    if not verdict.intact:
        raise ResealRefused(f"the archive does not verify under the old key ({verdict.problems[0]}"
                            + (f"; and {len(verdict.problems) - 1} more" if len(verdict.problems) > 1 else "")
                            + "); nothing re-sealed")
    with db.write() as c:
        if c.dialect.name == "postgresql":
            c.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})
        head = c.execute(select(archive_head).where(archive_head.c.id == 1).with_for_update()).mappings().one()
        rows = [dict(r) for r in c.execute(select(archive_records).order_by(archive_records.c.seq)).mappings()]
        if len(rows) != verdict.count:
            raise ResealRefused("records were appended while checking; run it again")
        previous = GENESIS
        for row in rows:
            row["prev_hash"] = previous
            row["row_hash"] = previous = row_hash(new_key, row)
            c.execute(update(archive_records).where(archive_records.c.seq == row["seq"]).values(
                prev_hash=row["prev_hash"], row_hash=row["row_hash"]))
        if rows:
            c.execute(update(archive_head).where(archive_head.c.id == 1).values(
                last_hash=previous, mac=head_mac(new_key, head["last_seq"], previous, head["count"])))
    return len(rows)
