"""Histories: export one, and replay exported files or live incidents against the current code."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from groupdesk.cli.common import fail, gateway_or_fail, run, settings
from groupdesk.engine.replay import history_from_file, replay

history_app = typer.Typer(no_args_is_help=True, help="Export incident histories.")


def register(app: typer.Typer) -> None:
    app.add_typer(history_app, name="history")
    app.command("replay")(replay_command)


@history_app.command("export")
def export(incident_id: str, output: Optional[Path] = typer.Option(None, "-o", "--output")) -> None:
    """Write an incident's Temporal history as JSON (to a file, or standard output)."""
    s = settings()

    async def go() -> str:
        return await (await gateway_or_fail(s)).history_json(incident_id)

    text = run(go())
    if output:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"{incident_id}: history written to {output}")
    else:
        typer.echo(text)


def replay_command(files: Optional[list[Path]] = typer.Argument(None, help="exported history files"),
                   workflow_id: list[str] = typer.Option([], "--workflow-id", help="replay a live incident's history")
                   ) -> None:
    """Replay histories against the current workflow code; exit 1 if any diverges."""
    if not files and not workflow_id:
        fail("give history FILEs or --workflow-id ID")
    s = settings()

    from groupdesk.engine.codec import CodecSettingsError, data_converter

    try:
        converter = data_converter(s)
    except CodecSettingsError as exc:
        fail(str(exc))

    async def go():
        outcomes = []
        for path in files or []:
            try:
                history = history_from_file(path)
            except (OSError, ValueError) as exc:
                fail(str(exc))
            outcomes.append(await replay(history, str(path), converter=converter))
        if workflow_id:
            gateway = await gateway_or_fail(s)
            for wid in workflow_id:
                history = await gateway.incident(wid).history()
                outcomes.append(await replay(history, f"workflow {wid}", converter=converter))
        return outcomes

    began = time.monotonic()
    outcomes = run(go())
    bad = [o for o in outcomes if o.error]
    for o in outcomes:
        if o.error:
            where = f" at {o.diverged_at}" if o.diverged_at else ""
            typer.echo(f"FAIL {o.workflow_id} ({o.source}, {o.events} events): diverged{where}: {o.error}", err=True)
        else:
            typer.echo(f"ok   {o.workflow_id} ({o.source}, {o.events} events)")
    typer.echo(f"{len(outcomes) - len(bad)} replayed, {len(bad)} failed in {time.monotonic() - began:.2f}s")
    if bad:
        raise typer.Exit(1)
