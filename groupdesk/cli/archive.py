"""`groupdesk archive`: check the hash chain, export a period as CSV, backfill incidents closed before the
archive, re-seal the chain after a hash-key rotation."""

from __future__ import annotations

import csv
import sys
from typing import Optional

import typer

from groupdesk.cli.common import fail, filters, settings

archive_app = typer.Typer(no_args_is_help=True, help="The archive of closed incidents: verify, export, backfill, reseal.")


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
    from groupdesk.record.query import parse_day, period_problem

    try:
        first, last = parse_day("--from", start), parse_day("--to", end)
    except ValueError as exc:
        fail(str(exc))
    if problem := period_problem(first, last):
        fail(problem)
    return first, last


@archive_app.command("verify")
def verify() -> None:
    """Walk the chain; name every altered, removed or reordered record and every evidence file missing or altered
    (exit 1 if any)."""
    from groupdesk.record.chain import verify as walk
    from groupdesk.record.attachments import Attachments
    from groupdesk.record.evidence_store import StoreUnavailable, store_for

    db, key = open_archive()
    verdict = walk(db, key)
    for problem in verdict.problems:
        typer.echo(problem)
    try:  # every evidence file against the hash its row keeps
        files, missing = Attachments(db, store_for(settings())).verify()
    except StoreUnavailable as exc:
        fail(str(exc), code=1)
    for problem in missing:
        typer.echo(problem)
    if not verdict.intact or missing:
        evidence = f"; {len(missing)} evidence file(s) missing or altered" if missing else ""
        typer.echo(f"archive NOT intact: {len(verdict.problems)} problem(s) in {verdict.count} records{evidence}",
                   err=True)
        raise typer.Exit(1)
    typer.echo(f"archive intact: {verdict.count} records, chain head {verdict.head[:16]}; {files} evidence files")


@archive_app.command("export")
def export(start: str = typer.Option(..., "--from", help="first local date, YYYY-MM-DD"),
           end: str = typer.Option(..., "--to", help="last local date, YYYY-MM-DD (included)"),
           hall: Optional[str] = typer.Option(None, "--hall"),
           out: Optional[str] = typer.Option(None, "--out", help="a CSV file (default: standard output)")) -> None:
    """Archived incidents that started in the period, as CSV (no phone, no complainant name)."""
    from groupdesk.record.query import EXPORT_COLUMNS, records

    first, last = period(start, end)
    filters(settings(), hall=hall)
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


@archive_app.command("backfill")
def backfill(dry_run: bool = typer.Option(False, "--dry-run", help="name what would be added, add nothing")) -> None:
    """Archive the incidents that closed before the archive existed, from the closed workflows Temporal shows."""
    from groupdesk.record.backfill import backfill as fill
    from groupdesk.cli.common import gateway_or_fail, run

    db, key = open_archive()

    async def go():
        return await fill(await gateway_or_fail(settings()), db, key, dry_run)

    done = run(go())
    for incident_id in done.added:
        typer.echo(f"{'would add' if dry_run else 'added'} {incident_id}")
    for line in done.failed:
        typer.echo(f"not added: {line}", err=True)
    typer.echo(f"{len(done.added)} {'to add' if dry_run else 'added'}, {done.present} already archived,"
               f" {len(done.failed)} unreadable")
    if done.failed:
        raise typer.Exit(1)


@archive_app.command("reseal")
def reseal(old_key_file: str = typer.Option(..., "--old-key-file",
                                            help="a file holding the previous GROUPDESK_HASH_KEY (never on the"
                                                 " command line, where other users could read it)")) -> None:
    """After rotating GROUPDESK_HASH_KEY: re-seal the chain under the new key, if it verifies under the old one."""
    from pathlib import Path

    from groupdesk.record.reseal import ResealRefused, reseal as seal

    try:
        old = Path(old_key_file).read_text(encoding="utf-8").strip().encode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"--old-key-file: cannot read {old_key_file} ({type(exc).__name__}); give the file holding the old key")
    if len(old) < 32:
        fail("--old-key-file: the key in it is shorter than 32 characters; give the previous GROUPDESK_HASH_KEY")
    db, key = open_archive()
    try:
        count = seal(db, old, key)
    except ResealRefused as exc:
        fail(str(exc), code=1)
    typer.echo(f"archive re-sealed under the current key: {count} records")
