"""`groupdesk attach` and `groupdesk attachments list|get`: evidence of an incident from the command line."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Optional

import typer

from groupdesk.cli.common import acting, fail, gateway_or_fail, print_json, run, settings

attachments_app = typer.Typer(no_args_is_help=True, help="Evidence attached to incidents: list, get (logged).")


def register(app: typer.Typer) -> None:
    app.command("attach")(attach)
    app.add_typer(attachments_app, name="attachments")


def _shown(row: dict) -> dict:
    return {k: row[k] for k in ("id", "incident_id", "step", "added_by", "name", "media_type", "size",
                                "original_size", "original_sha256", "stored_sha256", "created_at")}


def _guarded(coro):
    """run(), with the evidence store's failures as one line too (and warnings, not info, logged to stderr: stdout
    is the command's answer)."""
    import logging

    from groupdesk.runtime.logs import configure_logging
    from groupdesk.record.evidence_store import StoreUnavailable

    configure_logging(settings().log_format, logging.WARNING)
    try:
        return run(coro)
    except StoreUnavailable as exc:
        fail(str(exc))


def attach(incident_id: str = typer.Argument(..., help="the incident"),
           file: Path = typer.Argument(..., help="a JPEG, PNG or WebP photo or a PDF, at most 10 MB"),
           step: Optional[str] = typer.Option(None, "--step", help="the step the evidence belongs to"),
           actor: str = typer.Option(..., "--as", help="staff of the incident's hall"),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """Attach evidence (a meter photo, a calibration certificate, a signed agreement) while the incident runs."""
    from groupdesk.record.evidence_check import megabytes, size_problem

    try:
        size = file.stat().st_size if file.is_file() else None
    except OSError:
        size = None
    if size is None:
        fail(f"FILE: {file} is not a readable file; give the photo's or the scan's path")
    if problem := size_problem(size):
        fail(f"FILE: {problem}")
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"FILE: cannot read {file} ({exc.strerror}); give a readable file")
    s = settings()

    async def go():
        gateway = await gateway_or_fail(s)
        return await gateway.attach(acting(s, actor), incident_id, data, file.name, step)

    row, created = _guarded(go())
    if as_json:
        print_json({**_shown(row), "created": created})
        return
    kept = "attached" if created else "already attached"
    typer.echo(f"{kept}: {row['stored_sha256']} ({row['media_type']}, {megabytes(row['size'])})")
    if row["original_sha256"] != row["stored_sha256"]:
        typer.echo(f"  stored without its metadata; the file as sent: {row['original_sha256']}")


@attachments_app.command("list")
def list_command(incident_id: str = typer.Argument(...),
                 actor: str = typer.Option(..., "--as", help="staff who may see the incident"),
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """The incident's attachments: who added them, when, at which step, both hashes."""
    s = settings()

    async def go():
        return await (await gateway_or_fail(s)).evidence(acting(s, actor), incident_id)

    rows = _guarded(go())
    if as_json:
        print_json([_shown(r) for r in rows])
        return
    if not rows:
        typer.echo(f"{incident_id}: no attachments")
    for r in rows:
        typer.echo(f"{r['stored_sha256']}  {r['media_type']:<15} {r['size']:>9}  {r['created_at'][:19]}"
                   f"  {r['added_by']}  {r['step'] or '-'}  {r['name']}")


@attachments_app.command("get")
def get(incident_id: str = typer.Argument(...),
        sha: str = typer.Argument(..., metavar="SHA256", help="the stored copy's hash (or its first 8+ characters)"),
        out: Path = typer.Option(..., "--out", help="the file to write"),
        actor: str = typer.Option(..., "--as", help="staff who may see the incident")) -> None:
    """Write an attachment to a file; the download is logged (who, when, how)."""
    if out.exists() and not out.is_file():
        fail(f"--out: {out} is not a file; give a file name")
    if not out.parent.is_dir():
        fail(f"--out: the folder {out.parent} does not exist; give a file in an existing folder")
    s = settings()

    async def go():
        return await (await gateway_or_fail(s)).evidence_file(acting(s, actor), incident_id, sha, "cli")

    row, content = _guarded(go())
    draft = out.with_name(f".{out.name}.{secrets.token_hex(4)}")
    try:
        draft.write_bytes(content)
        os.replace(draft, out)  # whole or not at all
    except OSError as exc:
        draft.unlink(missing_ok=True)
        fail(f"--out: cannot write {out} ({exc.strerror}); give a writable file")
    typer.echo(f"{out}: {row['media_type']}, {len(content)} bytes, sha256 {row['stored_sha256']}")
