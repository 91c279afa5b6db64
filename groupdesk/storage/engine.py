"""Engines for groupdesk's database: pooled connections, WAL and a busy timeout on SQLite."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, create_engine, make_url

from groupdesk.runtime.datafiles import private_file


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def make_engine(url: str) -> Engine:
    """An engine with a pool (a connection per statement cost a third of the worker's time)."""
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError("only sqlite:///<file> and postgresql+psycopg://user:password@host:port/db are supported")
    if parsed.get_backend_name() == "postgresql" and parsed.drivername not in ("postgresql", "postgresql+psycopg"):
        raise ValueError("for PostgreSQL use the psycopg 3 driver: postgresql+psycopg://user:password@host:port/db")
    if parsed.get_backend_name() == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg")
        return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, pool_recycle=1800)
    if parsed.database and parsed.database != ":memory:":
        private_file(Path(parsed.database))  # 0600 in a 0700 dir: SMS text and phones (-wal/-shm inherit it)
    engine = create_engine(url, pool_size=10, max_overflow=10, connect_args={"check_same_thread": False,
                                                                               "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we say BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        # WAL with synchronous=NORMAL survives a killed worker (what the outbox guards against);
        # only a power cut could lose the last marks, and a lost "sent" is reconciled, not resent.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        # A writing transaction takes SQLite's write lock at once, so a read-then-write never
        # fails to upgrade its lock; readers (execution option readonly) do not wait for writers.
        readonly = connection.get_execution_options().get("readonly", False)
        # Straight to the DBAPI connection: through exec_driver_sql it cost a sixth of the outbox's time.
        connection.connection.dbapi_connection.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine
