"""The one statement that differs between SQLite and PostgreSQL: insert unless the key exists."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert_new(connection: Connection, table: Table, key: str, values: dict) -> bool:
    """INSERT … ON CONFLICT (key) DO NOTHING on either backend; True if the row was new."""
    module = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = module.insert(table).values(**values).on_conflict_do_nothing(index_elements=[key])
    return connection.execute(statement.returning(table.c[key])).first() is not None
