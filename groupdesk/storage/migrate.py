"""Schema migrations (Alembic, shipped in the package) run under a lock, so workers may start together."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LOCK_ID = 0x67726F7570  # "group": the PostgreSQL advisory lock every starting process takes


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def lock(connection: Connection) -> None:
    """Hold the migration lock until the transaction ends (SQLite: BEGIN IMMEDIATE already holds it)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})


def upgrade(engine: Engine, revision: str = "head", after=None) -> tuple[str | None, str | None]:
    """Bring the schema to `revision`; `after(connection)` runs in the same locked transaction."""
    with engine.begin() as connection:
        lock(connection)
        before = current(connection)
        if before != head() or revision != "head":
            command.upgrade(alembic_config(connection), revision)
        if after is not None:
            after(connection)
        return before, current(connection)
