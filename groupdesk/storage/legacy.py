"""Bring the SQLite files of earlier versions (outbox, inbox, console forms) into the database, once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from groupdesk.runtime.datafiles import tighten
from groupdesk.storage import schema
from groupdesk.storage.dialect import insert_new

# file in the data dir -> [(table there, table here, key column or None)]
LEGACY = {
    "outbox.sqlite3": [("messages", schema.messages, "key")],
    "inbox.sqlite3": [("inbound", schema.inbound, "message_sid")],
    "web.sqlite3": [("submissions", schema.submissions, "token"), ("sign_in_failures", schema.sign_in_failures, None),
                    ("sign_in_sessions", schema.sign_in_sessions, "id_hash")],
    "approval_codes.sqlite3": [("issued_codes", schema.approval_codes, "request_key"),
                               ("wrong_tries", schema.approval_wrong_tries, None),
                               ("locks", schema.approval_locks, "sender")],
}
IMPORTED = ".imported"


def pending(data_dir: Path) -> list[Path]:
    return [data_dir / name for name in LEGACY if (data_dir / name).exists()]


def import_rows(connection: Connection, path: Path) -> int:
    """Copy one legacy file's rows (keys already here are left alone); return how many were new."""
    added = 0
    with sqlite3.connect(path, timeout=30) as db:
        db.row_factory = sqlite3.Row
        for source, table, key in LEGACY[path.name]:
            if not db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (source,)).fetchone():
                continue
            columns = {c.name for c in table.columns} - {"id"}
            for r in db.execute(f"SELECT * FROM {source} ORDER BY rowid"):
                row = {k: r[k] for k in r.keys() if k in columns}
                if "drill" in row:
                    row["drill"] = bool(row["drill"])
                if key:
                    added += insert_new(connection, table, key, row)
                else:
                    connection.execute(insert(table).values(**row))
                    added += 1
    return added


def retire(path: Path) -> None:
    """Rename the imported file (and WAL leftovers), so it is kept for reference but never imported again."""
    for suffix in ("", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            part.rename(part.with_name(part.name + IMPORTED))
            tighten(part.with_name(part.name + IMPORTED))  # it still holds phones and SMS text
