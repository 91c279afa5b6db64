"""`groupdesk dev`: the embedded Temporal server, its UI and a worker, in one command."""

from __future__ import annotations

import asyncio
import signal

import typer

from groupdesk.cli.common import fail, settings
from groupdesk.devserver import DevServer, DevServerError
from groupdesk.logs import configure_logging


def register(app: typer.Typer) -> None:
    app.command()(dev)
    app.command()(console)


def console(host: str = typer.Option(None, "--host"), port: int = typer.Option(None, "--port")) -> None:
    """Run the web console and webhooks alone, against whatever TEMPORAL_ADDRESS points at."""
    import uvicorn

    from groupdesk.web.app import create_app

    s = settings()
    configure_logging(s.log_format)
    host, port = host or s.web_host, port or s.web_port
    typer.echo(f"groupdesk console  http://{host}:{port}  (Temporal at {s.temporal_address})")
    uvicorn.run(create_app(s), host=host, port=port, log_level="warning")


def dev() -> None:
    """Start the Temporal dev server (SQLite in the data dir, web UI) and a worker; Ctrl-C stops all."""
    s = settings()
    configure_logging(s.log_format)
    # Ctrl-C or `kill` stop everything, even when started from a shell that ignores SIGINT.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    s.data_dir.mkdir(parents=True, exist_ok=True)
    from groupdesk.devserver import port_open

    if port_open(s.web_host, s.web_port):
        fail(f"port {s.web_port} on {s.web_host} is already in use; set GROUPDESK_WEB_PORT to a free port")
    codec = f"http://{s.web_host}:{s.web_port}/codec" if s.codec_keys else ""
    server = DevServer(s.temporal_address, s.dev_server_db, s.dev_ui_port, s.data_dir / "temporal-server.log",
                       codec_endpoint=codec)
    try:
        server.start()
    except DevServerError as exc:
        fail(str(exc))
    typer.echo(
        f"\nTemporal dev server  {s.temporal_address}  (data: {s.dev_server_db})\n"
        f"Temporal web UI      {server.ui_url}\n"
        f"Worker               task queue {s.task_queue}, SMS provider {s.sms_provider}\n"
        f"groupdesk console    http://{s.web_host}:{s.web_port}  (sign in as sun.li / wang.jun / lin.yue,"
        " password groupdesk-demo)\n\n"
        "Start an incident (in another terminal, after `source .venv/bin/activate`):\n"
        "  groupdesk start --hall xicheng --headcount 20 --lead-name 张先生 --lead-phone 13800138000 \\\n"
        "      --summary '智能电表换装后电量异常' --drill --time-scale 60\n"
        "  groupdesk show <id>      groupdesk sms list      groupdesk directory\n"
        "Ctrl-C stops the server and the worker; incidents survive a restart.\n"
    )
    try:
        asyncio.run(_serve(s))
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass
    finally:
        server.stop()
        typer.echo("stopped")


async def _serve(s) -> None:
    import uvicorn

    from groupdesk.web.app import create_app
    from worker import run_worker

    main = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, main.cancel)  # the worker shuts down cleanly, then the server stops
    s = s.model_copy(update={"dev_mode": True})  # the phone simulator is for demos on this machine only
    web = uvicorn.Server(uvicorn.Config(create_app(s), host=s.web_host, port=s.web_port, log_level="warning"))
    web.install_signal_handlers = lambda: None  # ours above stop everything together
    serving = asyncio.create_task(web.serve())
    try:
        await run_worker(s)
    finally:
        web.should_exit = True
        await asyncio.wait_for(serving, timeout=10)
