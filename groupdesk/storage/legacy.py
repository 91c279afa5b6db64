"""Bring the SQLite files of earlier versions (outbox, inbox, console forms) into the database, once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import Connection

from groupdesk.storage import schema
from groupdesk.storage.dialect import insert_new

# file in the data dir -> (table there, table here, key column)
LEGACY = {
    "outbox.sqlite3": ("messages", schema.messages, "key"),
    "inbox.sqlite3": ("inbound", schema.inbound, "message_sid"),
    "web.sqlite3": ("submissions", schema.submissions, "token"),
}
IMPORTED = ".imported"


def pending(data_dir: Path) -> list[Path]:
    return [data_dir / name for name in LEGACY if (data_dir / name).exists()]


def import_rows(connection: Connection, path: Path) -> int:
    """Copy one legacy file's rows (keys already here are left alone); return how many were new."""
    source, table, key = LEGACY[path.name]
    columns = {c.name for c in table.columns} - {"id"}
    with sqlite3.connect(path, timeout=30) as db:
        db.row_factory = sqlite3.Row
        if not db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (source,)).fetchone():
            return 0
        order = " ORDER BY rowid" if source == "messages" else ""
        rows = [{k: r[k] for k in r.keys() if k in columns} for r in db.execute(f"SELECT * FROM {source}{order}")]
    added = 0
    for row in rows:
        if "drill" in row:
            row["drill"] = bool(row["drill"])
        added += insert_new(connection, table, key, row)
    return added


def retire(path: Path) -> None:
    """Rename the imported file (and WAL leftovers), so it is kept for reference but never imported again."""
    for suffix in ("", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            part.rename(part.with_name(part.name + IMPORTED))
