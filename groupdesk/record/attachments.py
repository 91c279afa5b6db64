"""The attachments table: which evidence belongs to which incident, who added it, both hashes, and every download.

The file is stored before its row is written, so a row always names a stored file (an interrupted attach leaves
at most an unreferenced file, which a second attach of the same content reuses). `verify` compares each stored
file with the hash its row keeps.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, insert, select, text

from groupdesk.record.evidence_check import MAX_PER_INCIDENT, Evidence, EvidenceRefused, sha256
from groupdesk.record.evidence_store import EvidenceStore
from groupdesk.storage import Database
from groupdesk.storage.schema import attachment_downloads as d, attachments as a

COLUMNS = ("id", "incident_id", "hall_id", "step", "added_by", "name", "media_type", "size", "original_size",
           "original_sha256", "stored_sha256", "created_at")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class Attachments:
    def __init__(self, db: Database, store: EvidenceStore):
        self.db = db
        self.store = store

    def add(self, incident_id: str, hall_id: str, step: str | None, added_by: str, evidence: Evidence,
            name: str = "") -> tuple[dict, bool]:
        """Store the file and its row; (row, True), or (the row already there, False) when the incident holds the
        same file. EvidenceRefused when the incident already holds MAX_PER_INCIDENT."""
        existing = self.find(incident_id, evidence.stored_sha256)
        if existing:
            return existing, False
        self._refuse_when_full(incident_id, self.count(incident_id))
        self.store.put(evidence.stored_sha256, evidence.content, evidence.media_type)
        row = {"incident_id": incident_id, "hall_id": hall_id, "step": step, "added_by": added_by, "name": name,
               "media_type": evidence.media_type, "size": evidence.size, "original_size": evidence.original_size,
               "original_sha256": evidence.original_sha256, "stored_sha256": evidence.stored_sha256,
               "created_at": _now()}
        with self.db.write() as c:
            if self.db.backend == "postgresql":  # two uploads at once to one incident: counted one after the other
                c.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"attachments/{incident_id}"})
            already = c.execute(select(a).where(a.c.incident_id == incident_id,
                                                a.c.stored_sha256 == evidence.stored_sha256)).mappings().first()
            if already:
                return dict(already), False
            self._refuse_when_full(incident_id, c.execute(
                select(func.count()).select_from(a).where(a.c.incident_id == incident_id)).scalar_one())
            row["id"] = c.execute(insert(a).values(**row).returning(a.c.id)).scalar_one()
        return row, True

    @staticmethod
    def _refuse_when_full(incident_id: str, count: int) -> None:
        if count >= MAX_PER_INCIDENT:
            raise EvidenceRefused("file", f"incident {incident_id} already holds {count} files, the most one incident"
                                          " keeps; attach the most telling ones, or a PDF gathering several pages",
                                  409)

    def count(self, incident_id: str) -> int:
        with self.db.read() as c:
            return c.execute(select(func.count()).select_from(a).where(a.c.incident_id == incident_id)).scalar_one()

    def list(self, incident_id: str) -> list[dict]:
        with self.db.read() as c:
            return [dict(r) for r in c.execute(select(a).where(a.c.incident_id == incident_id).order_by(a.c.id))
                    .mappings()]

    def find(self, incident_id: str, sha: str) -> dict | None:
        """The incident's attachment whose stored hash is `sha` (the whole hash, or a prefix of 8 or more hex
        characters that names one)."""
        sha = sha.strip().lower()
        if len(sha) < 8 or len(sha) > 64 or any(ch not in "0123456789abcdef" for ch in sha):
            return None
        with self.db.read() as c:
            found = c.execute(select(a).where(a.c.incident_id == incident_id, a.c.stored_sha256.startswith(sha))
                              .limit(2)).mappings().all()
        return dict(found[0]) if len(found) == 1 else None

    def content(self, row: dict, by: str, via: str) -> bytes:
        """The stored file, checked against its hash, and the download logged; EvidenceRefused (410) when the stored
        file is missing or altered (`groupdesk archive verify` names every such file)."""
        content = self.store.get(row["stored_sha256"])
        if content is None or sha256(content) != row["stored_sha256"]:
            state = "missing" if content is None else "altered"
            raise EvidenceRefused("sha256", f"the stored file of {row['stored_sha256'][:12]} is {state}; ops: run"
                                            " `groupdesk archive verify` and restore it from backup", 410)
        with self.db.write() as c:
            c.execute(insert(d).values(attachment_id=row["id"], incident_id=row["incident_id"],
                                       stored_sha256=row["stored_sha256"], by=by, via=via, at=_now()))
        return content

    def downloads(self, incident_id: str) -> list[dict]:
        with self.db.read() as c:
            return [dict(r) for r in c.execute(select(d).where(d.c.incident_id == incident_id).order_by(d.c.id))
                    .mappings()]

    def verify(self) -> tuple[int, list[str]]:
        """(files checked, one line per attachment whose stored file is missing or does not hash to its row)."""
        with self.db.read() as c:
            rows = c.execute(select(a.c.id, a.c.incident_id, a.c.stored_sha256).order_by(a.c.id)).all()
        problems, seen = [], {}
        for row_id, incident_id, sha in rows:
            if sha not in seen:
                seen[sha] = self.store.digest(sha)
            found = seen[sha]
            if found is None:
                problems.append(f"attachment {row_id} of {incident_id}: stored file missing ({self.store.where(sha)})")
            elif found != sha:
                problems.append(f"attachment {row_id} of {incident_id}: stored file altered ({self.store.where(sha)}"
                                f" hashes to {found[:16]}…, its record says {sha[:16]}…)")
        return len(seen), problems
