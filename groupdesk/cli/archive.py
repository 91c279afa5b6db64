"""`groupdesk archive`: check the hash chain of the archive, export a period as CSV."""

from __future__ import annotations

import csv
import sys
from typing import Optional

import typer

from groupdesk.cli.common import fail, settings

archive_app = typer.Typer(no_args_is_help=True, help="The archive of closed incidents: verify, export.")


def register(app: typer.Typer) -> None:
    app.add_typer(archive_app, name="archive")


def open_archive():
    """The database and the hash key, or one line and exit 2."""
    from groupdesk.storage import StorageUnavailable, open_database

    s = settings()
    try:
        return open_database(s), s.hash_key()
    except StorageUnavailable as exc:
        fail(str(exc))


def period(start: str, end: str):
    from groupdesk.archive.query import parse_day

    try:
        first, last = parse_day("--from", start), parse_day("--to", end)
    except ValueError as exc:
        fail(str(exc))
    if last < first:
        fail(f"--to: {last} is before --from {first}; give the first day, then the last")
    return first, last


@archive_app.command("verify")
def verify() -> None:
    """Walk the chain; name every altered, removed or reordered record (exit 1 if any)."""
    from groupdesk.archive.chain import verify as walk

    db, key = open_archive()
    verdict = walk(db, key)
    for problem in verdict.problems:
        typer.echo(problem)
    if not verdict.intact:
        typer.echo(f"archive NOT intact: {len(verdict.problems)} problem(s) in {verdict.count} records", err=True)
        raise typer.Exit(1)
    typer.echo(f"archive intact: {verdict.count} records, chain head {verdict.head[:16]}")


@archive_app.command("export")
def export(start: str = typer.Option(..., "--from", help="first local date, YYYY-MM-DD"),
           end: str = typer.Option(..., "--to", help="last local date, YYYY-MM-DD (included)"),
           hall: Optional[str] = typer.Option(None, "--hall"),
           out: Optional[str] = typer.Option(None, "--out", help="a CSV file (default: standard output)")) -> None:
    """Archived incidents that started in the period, as CSV (no phone, no complainant name)."""
    from groupdesk.archive.query import EXPORT_COLUMNS, records

    first, last = period(start, end)
    db, _ = open_archive()
    rows = records(db, first, last, hall)
    try:
        target = open(out, "w", newline="", encoding="utf-8") if out else sys.stdout
    except OSError as exc:
        fail(f"--out: cannot write {out}: {exc.strerror}; give a writable file")
    try:
        writer = csv.DictWriter(target, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    finally:
        if out:
            target.close()
