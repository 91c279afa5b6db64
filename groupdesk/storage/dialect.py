"""The one statement that differs between SQLite and PostgreSQL: insert unless the key exists."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

_built: dict[tuple[str, str, str], object] = {}


def insert_new(connection: Connection, table: Table, key: str, values: dict) -> bool:
    """INSERT … ON CONFLICT (key) DO NOTHING on either backend; True if the row was new.

    The statement is built once per table and backend and executed with parameters, so its
    compiled form is reused (building one per call cost more than SQLite's write).
    """
    name = connection.dialect.name
    statement = _built.get((name, table.name, key))
    if statement is None:
        module = postgresql if name == "postgresql" else sqlite
        statement = module.insert(table).on_conflict_do_nothing(index_elements=[key]).returning(table.c[key])
        _built[(name, table.name, key)] = statement
    return connection.execute(statement, values).first() is not None
