"""`groupdesk db`: migrate groupdesk's own database (workers and the console also do it when they start)."""

from __future__ import annotations

import typer

from groupdesk.cli.common import fail, print_json, settings

db_app = typer.Typer(no_args_is_help=True, help="groupdesk's database (GROUPDESK_DATABASE_URL): migrations.")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


def _open(migrate_now: bool):
    from sqlalchemy.exc import SQLAlchemyError

    from groupdesk.storage import Database, database_url

    s = settings()
    try:
        db = Database(database_url(s), legacy_dir=s.data_dir, migrate_now=migrate_now)
        db.engine.connect().close()
        return db
    except (SQLAlchemyError, ValueError, OSError, ImportError) as exc:
        fail(f"GROUPDESK_DATABASE_URL: cannot use the database: {str(exc).splitlines()[0]}")


@db_app.command("upgrade")
def upgrade(revision: str = typer.Argument("head")) -> None:
    """Migrate the schema to REVISION (default: the newest) and import SQLite files of earlier versions."""
    from sqlalchemy.exc import SQLAlchemyError

    db = _open(migrate_now=False)
    try:
        before, after = db.upgrade(revision)
    except SQLAlchemyError as exc:
        fail(f"migration failed: {str(exc).splitlines()[0]}", code=1)
    typer.echo(f"{db.describe()}: {before or 'empty'} -> {after}")
    for name, count in db.imported.items():
        typer.echo(f"imported {count} rows from {name} (kept as {name}.imported)")


@db_app.command("current")
def current(as_json: bool = typer.Option(False, "--json")) -> None:
    """The schema revision of the database and the newest this version knows."""
    from groupdesk.storage import migrate

    db = _open(migrate_now=False)
    found, newest = db.revision(), migrate.head()
    if as_json:
        print_json({"database": db.describe(), "backend": db.backend, "revision": found, "head": newest})
        return
    typer.echo(f"{db.describe()}: revision {found or 'none'} (newest {newest})")
    if found != newest:
        raise typer.Exit(1)
