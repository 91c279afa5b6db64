"""Appending to the hash-chained archive, and walking the chain to find what was altered, removed or moved.

Each row's hash is a keyed HMAC (GROUPDESK_HASH_KEY) over the hash of the row before it and its own
content, so nobody without the key can rewrite a row and re-seal the chain after it. Appends are
serialised (SQLite: one writer; PostgreSQL: an advisory lock and the head row FOR UPDATE), and the
previous hash is unique, so two workers can never fork the chain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.engine import Connection

from groupdesk.runtime.keyed import keyed
from groupdesk.storage import Database
from groupdesk.storage.schema import archive_head, archive_records, archive_steps

GENESIS = "0" * 64
LOCK_ID = 0x61726368  # "arch": the PostgreSQL advisory lock held while appending
# What a row's hash covers, fixed: a column added later must not change the hash of rows already sealed.
RECORD_COLUMNS = ("incident_id", "run_id", "hall_id", "playbook", "playbook_version", "drill", "started_at",
                  "closed_at", "started_on", "week", "warning_tier", "deadlines_missed", "escalations",
                  "satisfaction", "follow_up", "complainant_key", "repeat_of", "record", "prev_hash")
STEP_COLUMNS = [c.name for c in archive_steps.columns if c.name not in ("id", "incident_id", "run_id", "position")]


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def row_hash(key: bytes, row: dict[str, Any]) -> str:
    """The keyed hash of a row: the previous row's hash and every column but the sequence number."""
    content = {name: row[name] for name in RECORD_COLUMNS}
    return keyed(key, "archive-chain", canonical(content), 64)


def head_mac(key: bytes, last_seq: int, last_hash: str, count: int) -> str:
    return keyed(key, "archive-head", f"{last_seq}|{last_hash}|{count}", 64)


def columns_of(record: dict[str, Any]) -> dict[str, Any]:
    """The row's columns: what reports filter and sum on, and the whole record as canonical JSON."""
    return {
        "incident_id": record["incident_id"], "run_id": record["run_id"], "hall_id": record["hall_id"],
        "playbook": record["playbook"], "playbook_version": record["playbook_version"],
        "drill": int(record["drill"]), "started_at": record["started_at"], "closed_at": record["closed_at"],
        "started_on": record["started_on"], "week": record["week"], "warning_tier": record["warning_tier"],
        "deadlines_missed": len(record["deadlines_missed"]), "escalations": len(record["escalations"]),
        "satisfaction": record["satisfaction"], "follow_up": record["follow_up"],
        "complainant_key": record["complainant_key"], "repeat_of": record["repeat_of"],
        "record": canonical(record),
        # outside the row's hash (RECORD_COLUMNS), so verify compares them with the sealed record
        "category": record.get("category"), "account_key": record.get("account_key"),
        "community_key": record.get("community_key"),
        **{f"promises_{k}": (record.get("promises") or {}).get(k) for k in PROMISE_FIGURES},
        "dissatisfied_answers": record.get("dissatisfied_answers"),
        "told": record.get("told"),
        "finding_founded": (record.get("finding") or {}).get("founded"),
        "finding_cause": (record.get("finding") or {}).get("cause"),
        "channel": record.get("channel"), "ticket_no": record.get("ticket_no"), "ticket_key": record.get("ticket_key"),
        "kind": record.get("kind") or "incident",
    }


PROMISE_FIGURES = ("made", "kept", "kept_late", "missed", "waived")
UNSEALED_COLUMNS = ("category", "account_key", "community_key", *(f"promises_{k}" for k in PROMISE_FIGURES),
                    "dissatisfied_answers", "told", "finding_founded", "finding_cause",
                    "channel", "ticket_no", "ticket_key", "kind")


def step_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"incident_id": record["incident_id"], "run_id": record["run_id"], "position": i,
             **{name: step[name] for name in STEP_COLUMNS}} for i, step in enumerate(record["steps"])]


# Built once and executed with parameters, so each is compiled once (one built per call, with its values in
# it, cost more CPU than the archive's write itself).
_EXISTING = select(archive_records.c.seq).where(archive_records.c.incident_id == bindparam("incident_id"),
                                                archive_records.c.run_id == bindparam("run_id"))
_HEAD = select(archive_head).where(archive_head.c.id == 1).with_for_update()
_INSERT_RECORD = insert(archive_records).returning(archive_records.c.seq)
_INSERT_STEPS = insert(archive_steps)
_MOVE_HEAD = update(archive_head).where(archive_head.c.id == 1)


def append(db: Database, key: bytes, record: dict[str, Any]) -> tuple[int, bool]:
    """Write the record once (keyed by incident and run): (its sequence number, whether it was new)."""
    with db.write() as c:
        if c.dialect.name == "postgresql":
            c.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})
        seq = _existing(c, record)
        if seq is not None:
            return seq, False
        head = c.execute(_HEAD).mappings().one()
        row = columns_of(record) | {"prev_hash": head["last_hash"]}
        row["row_hash"] = row_hash(key, row)
        seq = c.execute(_INSERT_RECORD, row).scalar_one()
        steps = step_rows(record)
        if steps:
            c.execute(_INSERT_STEPS, steps)
        count = head["count"] + 1
        c.execute(_MOVE_HEAD, {"last_seq": seq, "last_hash": row["row_hash"], "count": count,
                               "mac": head_mac(key, seq, row["row_hash"], count)})
        return seq, True


def _existing(c: Connection, record: dict[str, Any]) -> int | None:
    return c.execute(_EXISTING, {"incident_id": record["incident_id"], "run_id": record["run_id"]}).scalar()


@dataclass
class Verdict:
    count: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(db: Database, key: bytes) -> Verdict:
    """Walk the chain: every altered, removed or reordered row named, oldest first."""
    with db.read() as c:
        rows = [dict(r) for r in c.execute(select(archive_records).order_by(archive_records.c.seq)).mappings()]
        steps: dict[tuple[str, str], list[dict]] = {}
        for s in c.execute(select(archive_steps).order_by(archive_steps.c.position)).mappings():
            steps.setdefault((s["incident_id"], s["run_id"]), []).append(
                {"incident_id": s["incident_id"], "run_id": s["run_id"], "position": s["position"],
                 **{n: s[n] for n in STEP_COLUMNS}})
        head = c.execute(select(archive_head).where(archive_head.c.id == 1)).mappings().first()
    verdict = Verdict(count=len(rows), head=rows[-1]["row_hash"] if rows else GENESIS)
    problems = verdict.problems
    by_hash = {r["row_hash"]: r for r in rows}
    by_prev = {r["prev_hash"]: r for r in rows}

    def name(r: dict) -> str:
        return f"seq {r['seq']} ({r['incident_id']})"

    for r in rows:
        if row_hash(key, r) != r["row_hash"]:
            problems.append(f"{name(r)}: altered: its content does not match its hash")
        elif steps.get((r["incident_id"], r["run_id"]), []) != step_rows(json.loads(r["record"])):
            problems.append(f"{name(r)}: altered: its step rows differ from the sealed record")
        elif any(r[c] != columns_of(json.loads(r["record"]))[c] for c in UNSEALED_COLUMNS):
            problems.append(f"{name(r)}: altered: its category, match keys, promise or follow-up counts, finding or kind"
                            " differ from the sealed record")
    for r in rows:
        before = by_hash.get(r["prev_hash"])
        if r["prev_hash"] != GENESIS and before is None:
            problems.append(f"{name(r)}: removed before it: the record it follows is no longer in the archive")
        elif before is not None and before["seq"] > r["seq"]:
            problems.append(f"{name(r)}: reordered: in the chain it follows {name(before)}")
        after = by_prev.get(r["row_hash"])
        if after is not None and after["seq"] < r["seq"]:
            problems.append(f"{name(r)}: reordered: in the chain {name(after)} follows it")
    _check_head(key, head, rows, problems)
    return verdict


def _check_head(key: bytes, head: dict | None, rows: list[dict], problems: list[str]) -> None:
    """The head names the last row and the count: a removed tail (or a head put back) shows here."""
    if head is None:
        problems.append("archive head removed: the last record and the count cannot be checked")
        return
    if head["count"] == 0 and head["last_hash"] == GENESIS and not head["mac"]:
        if rows:
            problems.append(f"archive head reset to empty while {len(rows)} records remain")
        return
    if head_mac(key, head["last_seq"], head["last_hash"], head["count"]) != head["mac"]:
        problems.append("archive head altered: its seal does not match")
        return
    if head["count"] != len(rows):
        problems.append(f"removed: the head counts {head['count']} records, the archive has {len(rows)}")
    if not any(r["row_hash"] == head["last_hash"] for r in rows):
        problems.append(f"removed: the last record (seq {head['last_seq']}) is no longer in the archive")
