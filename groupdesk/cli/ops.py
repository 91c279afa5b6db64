"""Ops: failed steps across incidents, retry or skip them; resets, migrations, and the versions drain check."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from temporalio.client import WorkflowUpdateFailedError

from groupdesk.cli.common import acting, connect_or_fail, fail, filters, gateway_or_fail, print_json, run, settings
from groupdesk.core.durations import parse_duration
from groupdesk.playbooks.loader import PlaybookError, find_playbook
from groupdesk.core.workcal import format_local

ops_app = typer.Typer(no_args_is_help=True, help="Failed steps: list, retry, skip; resets, migrations; versions.")


def register(app: typer.Typer) -> None:
    app.add_typer(ops_app, name="ops")


def _since(value: Optional[str]) -> datetime | None:
    if not value:
        return None
    try:
        span = parse_duration(value)
    except ValueError as exc:
        fail(f"--since: {exc}")
    if span.working_days:
        fail("--since: use clock time, e.g. 1h or 2d")
    return datetime.now(timezone.utc) - timedelta(seconds=span.seconds)


def _require_ops(actor: str) -> None:
    """Before connecting: the same rule the gateway applies (ops only), said in the CLI's words."""
    if not acting(settings(), actor).ops:
        fail(f"--as: {actor!r} is not in the ops team of the staff directory (ops: ...)")


@ops_app.command("failed")
def failed(hall: Optional[str] = typer.Option(None, "--hall"),
           since: Optional[str] = typer.Option(None, "--since", help="e.g. 1h, 30m, 2d"),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """Actions parked as failed across open incidents, and incidents whose workflow died."""
    s = settings()
    cutoff = _since(since)
    filters(s, hall=hall)

    async def go():
        return await (await gateway_or_fail(s)).failures(hall, cutoff)

    rows = run(go())
    if as_json:
        print_json(rows)
        return
    table = Table("incident", "step", "purpose", "to", "attempts", "when", "error")
    for r in rows:
        error = f"[red]{r['error']}[/red]" if r["purpose"] == "incident" else r["error"]
        table.add_row(r["incident_id"], r["step"], r["purpose"], ", ".join(r["recipients"]), str(r["attempts"]),
                      format_local(datetime.fromisoformat(r["at"])), error)
    Console().print(table if rows else "no failed actions")


@ops_app.command("retry")
def retry(incident_id: Optional[str] = typer.Argument(None), step: Optional[str] = typer.Argument(None),
          actor: str = typer.Option(..., "--as", help="staff id of the ops member"),
          all_failed: bool = typer.Option(False, "--all-failed", help="every parked action (after an outage)"),
          since: Optional[str] = typer.Option(None, "--since", help="with --all-failed: parked within, e.g. 1h"),
          hall: Optional[str] = typer.Option(None, "--hall")) -> None:
    """Run a parked action again (to the numbers the directory has now)."""
    _require_ops(actor)
    s = settings()
    if all_failed:
        if incident_id or step:
            fail("--all-failed takes no ID or STEP")
        filters(s, hall=hall)
        _retry_all(s, actor, hall, _since(since))
        return
    if not (incident_id and step):
        fail("give ID and STEP, or --all-failed")

    async def go():
        return await (await gateway_or_fail(s)).retry(acting(s, actor), incident_id, step)

    ack = run(go())
    typer.echo(f"{incident_id}: retrying {step}; now at {ack.stage}")


def _retry_all(s, actor: str, hall: str | None, cutoff: datetime | None) -> None:
    async def go():
        gateway = await gateway_or_fail(s)
        rows = await gateway.parked(hall, cutoff)
        targets = sorted({(r["incident_id"], r["step"]) for r in rows})
        done, refused = 0, []
        with Progress(transient=True) as progress:
            task = progress.add_task("retrying", total=len(targets))
            for incident, step in targets:
                try:
                    await gateway.retry(acting(s, actor), incident, step)
                    done += 1
                except WorkflowUpdateFailedError as exc:
                    refused.append(f"{incident} {step}: {getattr(exc.cause, 'message', exc.cause)}")
                progress.advance(task)
        return len(targets), done, refused, len({i for i, _ in targets})

    total, done, refused, incidents = run(go())
    typer.echo(f"retried {done} of {total} parked step(s) in {incidents} incident(s)")
    for line in refused:
        typer.echo(f"  refused: {line}", err=True)
    if refused:
        raise typer.Exit(1)


@ops_app.command("skip")
def skip(incident_id: str, step: str, reason: str = typer.Option(..., "--reason"),
         actor: str = typer.Option(..., "--as")) -> None:
    """Give up a parked action, with a reason recorded on the incident."""
    _require_ops(actor)
    if not reason.strip():
        fail("--reason: say why the action is skipped")
    s = settings()

    async def go():
        return await (await gateway_or_fail(s)).skip(acting(s, actor), incident_id, step, reason)

    run(go())
    typer.echo(f"{incident_id}: skipped the failed action at {step}")


@ops_app.command("migrate")
def migrate(incident_id: str, to_version: int = typer.Option(..., "--to-version"),
            actor: str = typer.Option(..., "--as"), reason: str = typer.Option("", "--reason")) -> None:
    """Move one running incident to a newer version of its playbook (only where its current step exists)."""
    _require_ops(actor)
    s = settings()

    async def go():
        gateway = await gateway_or_fail(s)
        state = await gateway.state(incident_id)
        try:
            playbook = find_playbook(s.playbooks_dir, state.playbook, version=to_version)
        except PlaybookError as exc:
            fail(f"--to-version: {exc}")
        return await gateway.migrate(acting(s, actor), incident_id, playbook, reason)

    run(go())
    typer.echo(f"{incident_id}: now runs version {to_version} of its playbook")


@ops_app.command("reset")
def reset(incident_id: str, to_step: str = typer.Option(..., "--to-step"),
          reason: str = typer.Option(..., "--reason"), actor: str = typer.Option(..., "--as"),
          resend: bool = typer.Option(False, "--resend", help="send again messages already sent after that point")
          ) -> None:
    """Reset an incident to just before a step began (Temporal reset); recorded on the incident."""
    from groupdesk.incidents.reset import ResetError

    _require_ops(actor)
    if not reason.strip():
        fail("--reason: say why the incident is reset")
    s = settings()

    async def go() -> str:
        gateway = await gateway_or_fail(s)
        try:
            return await gateway.reset(acting(s, actor), incident_id, to_step, reason, resend)
        except ResetError as exc:
            fail(f"--to-step: {exc}")

    run_id = run(go())
    typer.echo(f"{incident_id}: reset to before {to_step} (new run {run_id})"
               + ("; messages will be sent again" if resend else "; messages already sent are not sent again"))


@ops_app.command("versions")
def versions(as_json: bool = typer.Option(False, "--json"),
             check: bool = typer.Option(False, "--check", help="exit 1 while an open incident needs a branch "
                                                               "this release does not run (the drain check)")) -> None:
    """Open incidents by the branch of workflow code they need; those on a retired branch must end first."""
    from groupdesk.engine.versions import as_json as rows_as_json, open_by_branch

    s = settings()

    async def go():
        return await open_by_branch(await connect_or_fail(s))

    rows = run(go())
    waiting = sum(r.open for r in rows if not r.runs_here)
    if as_json:
        print_json(rows_as_json(rows))
    else:
        table = Table("branch", "open", "this release runs them", "what")
        for r in rows:
            table.add_row(r.branch, str(r.open), "yes" if r.runs_here else "[red]no[/red]" if r.open else "no",
                          r.meaning)
        Console().print(table)
        typer.echo(f"{waiting} open incident(s) need a branch this release does not run: let them end before"
                   " deploying it" if waiting else "every open incident runs on this release's workflow code")
    if check and waiting:
        raise typer.Exit(1)
