"""groupdesk's own database (everything outside Temporal), chosen by GROUPDESK_DATABASE_URL.

SQLite in the data dir for one machine; PostgreSQL (`postgresql+psycopg://…`) for a cluster,
where every worker and console shares it. The schema is migrated when a process opens it.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError

from groupdesk.storage import legacy
from groupdesk.storage.engine import make_engine, sqlite_url

DEFAULT_FILE = "groupdesk.sqlite3"


class StorageUnavailable(Exception):
    """The database named by GROUPDESK_DATABASE_URL cannot be opened or migrated (one line, no traceback)."""


class Database:
    """One pooled engine per database; `write()` and `read()` are transactions."""

    def __init__(self, url: str, legacy_dir: Path | None = None, migrate_now: bool = True):
        self.url = url
        self.engine = make_engine(url)
        self.legacy_dir = legacy_dir
        self.imported: dict[str, int] = {}
        # SQLite has one writer at a time: threads of this process queue here instead of in SQLite's
        # busy handler, which sleeps up to 100 ms a try (it made the outbox ten times slower).
        self._writer = threading.Lock() if self.engine.dialect.name == "sqlite" else None
        if migrate_now:
            self.upgrade()

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def describe(self) -> str:
        """The URL with its password hidden, for logs and messages."""
        return _shown(self.url)

    def upgrade(self, revision: str = "head") -> tuple[str | None, str | None]:
        """Migrate the schema and import SQLite files of earlier versions found in the data dir."""
        files = legacy.pending(self.legacy_dir) if self.legacy_dir else []

        def import_files(connection: Connection) -> None:
            for path in files:
                if path.exists():
                    self.imported[path.name] = legacy.import_rows(connection, path)

        from groupdesk.storage import migrate  # alembic loads only where a schema is migrated

        result = migrate.upgrade(self.engine, revision, after=import_files if files else None)
        for path in files:
            if path.exists():
                legacy.retire(path)
        return result

    def revision(self) -> str | None:
        from groupdesk.storage import migrate

        with self.read() as connection:
            return migrate.current(connection)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        if self._writer is None:
            with self.engine.begin() as connection:
                yield connection
            return
        with self._writer, self.engine.begin() as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(readonly=True) as connection:
            with connection.begin():
                yield connection

    def dispose(self) -> None:
        self.engine.dispose()


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not even a URL: show nothing of it
        return "the URL given"


_open: dict[tuple[str, str], Database] = {}
_lock = threading.Lock()


def database_url(settings) -> str:
    return settings.database_url or sqlite_url(Path(settings.data_dir) / DEFAULT_FILE)


def open_database(target) -> Database:
    """The process's Database for settings, a URL or a SQLite file path (opened and migrated once)."""
    if isinstance(target, Database):
        return target
    legacy_dir = None
    if isinstance(target, (str, Path)) and "://" not in str(target):
        url = sqlite_url(Path(target))
    elif isinstance(target, str):
        url = target
    else:
        url, legacy_dir = database_url(target), Path(target.data_dir)
    with _lock:
        key = (url, str(legacy_dir))
        if key not in _open:
            try:
                _open[key] = Database(url, legacy_dir)
            except (SQLAlchemyError, ValueError, OSError, ImportError) as exc:
                shown = _shown(url)
                raise StorageUnavailable(f"GROUPDESK_DATABASE_URL: cannot open {shown}: "
                                         f"{str(exc).strip().splitlines()[0]}") from None
        return _open[key]


__all__ = ["Database", "StorageUnavailable", "open_database", "database_url", "sqlite_url"]
