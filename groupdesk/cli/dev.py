"""`groupdesk dev`: the embedded Temporal server, its UI and a worker, in one command."""

from __future__ import annotations

import asyncio

import typer

from groupdesk.cli.common import fail, settings
from groupdesk.devserver import DevServer, DevServerError
from groupdesk.logs import configure_logging


def register(app: typer.Typer) -> None:
    app.command()(dev)


def dev() -> None:
    """Start the Temporal dev server (SQLite in the data dir, web UI) and a worker; Ctrl-C stops all."""
    s = settings()
    configure_logging(s.log_format)
    s.data_dir.mkdir(parents=True, exist_ok=True)
    server = DevServer(s.temporal_address, s.dev_server_db, s.dev_ui_port, s.data_dir / "temporal-server.log")
    try:
        server.start()
    except DevServerError as exc:
        fail(str(exc))
    typer.echo(
        f"\nTemporal dev server  {s.temporal_address}  (data: {s.dev_server_db})\n"
        f"Temporal web UI      {server.ui_url}\n"
        f"Worker               task queue {s.task_queue}, SMS provider {s.sms_provider}\n\n"
        "Start an incident (in another terminal, after `source .venv/bin/activate`):\n"
        "  groupdesk start --hall xicheng --headcount 20 --lead-name 张先生 --lead-phone 13800138000 \\\n"
        "      --summary '智能电表换装后电量异常' --drill --time-scale 60\n"
        "  groupdesk show <id>      groupdesk sms list      groupdesk directory\n"
        "Ctrl-C stops the server and the worker; incidents survive a restart.\n"
    )
    from worker import run_worker

    try:
        asyncio.run(run_worker(s))
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        typer.echo("stopped")
