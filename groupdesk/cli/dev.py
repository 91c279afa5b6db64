"""`groupdesk dev`: the embedded Temporal server, its UI and a worker, in one command."""

from __future__ import annotations

import asyncio
import signal

import typer

from groupdesk.cli.common import fail
from groupdesk.runtime.datafiles import private_dir
from groupdesk.engine.devserver import DevServer, DevServerError
from groupdesk.runtime.logs import configure_logging
from groupdesk.startup import refuse, settings_or_exit

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def register(app: typer.Typer) -> None:
    app.command()(dev)
    app.command()(console)


def console(host: str = typer.Option(None, "--host"), port: int = typer.Option(None, "--port")) -> None:
    """Run the web console and webhooks alone, against whatever TEMPORAL_ADDRESS points at: always production."""
    import uvicorn

    from groupdesk.storage import StorageUnavailable
    from groupdesk.web.app import create_app

    # production: accounts of your own, secret key, codec keys, https public URL, or exit 2
    s = settings_or_exit("console")
    configure_logging(s.log_format)
    host, port = host or s.web_host, port or s.web_port
    try:
        app = create_app(s)
    except StorageUnavailable as exc:
        fail(str(exc))
    proxies = f"X-Forwarded-For from {s.trusted_proxies}" if s.trusted_proxies else "no trusted proxy"
    typer.echo(f"groupdesk console  http://{host}:{port}  (Temporal at {s.temporal_address}; production; {proxies})")
    # the client address is the app's to decide (GROUPDESK_TRUSTED_PROXIES), not uvicorn's 127.0.0.1 default
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)


def dev(allow_public: bool = typer.Option(
        False, "--allow-public", help="serve a non-local GROUPDESK_PUBLIC_URL / GROUPDESK_WEB_HOST anyway")) -> None:
    """Start the Temporal dev server (SQLite in the data dir, web UI) and a worker; Ctrl-C stops all."""
    from groupdesk.storage import StorageUnavailable

    s = settings_or_exit("dev")
    if not allow_public:
        refuse_public(s)
    configure_logging(s.log_format)
    # Ctrl-C or `kill` stop everything, even when started from a shell that ignores SIGINT.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    private_dir(s.data_dir)
    from groupdesk.engine.devserver import port_open

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
        f"groupdesk console    http://{s.web_host}:{s.web_port}  ("
        + ("sign in with an account of GROUPDESK_ACCOUNTS" if s.accounts else
           "sign in as sun.li / wang.jun / lin.yue, password groupdesk-demo") + ")\n\n"
        "Start an incident (in another terminal, after `source .venv/bin/activate`):\n"
        "  groupdesk start --hall xicheng --headcount 20 --lead-name 张先生 --lead-phone 13800138000 \\\n"
        "      --summary '智能电表换装后电量异常' --drill --time-scale 60\n"
        "  groupdesk show <id>      groupdesk sms list      groupdesk directory\n"
        "Ctrl-C stops the server and the worker; incidents survive a restart.\n"
    )
    import uvloop

    try:
        uvloop.run(_serve(s))  # the worker's loop (worker.py, main)
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass
    except StorageUnavailable as exc:
        server.stop()
        fail(str(exc))
    finally:
        server.stop()
        typer.echo("stopped")


def refuse_public(s) -> None:
    """Dev mode has a phone simulator that can approve as the director: it stays on this machine."""
    from urllib.parse import urlsplit

    lines = []
    if s.public_url and urlsplit(s.public_url).hostname not in LOCAL_HOSTS:
        lines.append(f"GROUPDESK_PUBLIC_URL={s.public_url!r} is not on this machine: `groupdesk dev` runs a phone"
                     " simulator that can reply as anyone; run `groupdesk console` + `worker.py` for a reachable"
                     " console, or pass --allow-public to expose this dev console anyway")
    if s.web_host not in LOCAL_HOSTS:
        lines.append(f"GROUPDESK_WEB_HOST={s.web_host!r} listens beyond this machine: use 127.0.0.1, or pass"
                     " --allow-public")
    if lines:
        refuse(lines)


async def _serve(s) -> None:
    import uvicorn

    from groupdesk.web.app import create_app
    from worker import connect_worker_client, run_worker

    main = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, main.cancel)  # the worker shuts down cleanly, then the server stops
    client = await connect_worker_client(s)  # one client for console and worker: starts are eager
    web = uvicorn.Server(uvicorn.Config(create_app(s, client=client, dev=True), host=s.web_host, port=s.web_port,
                                        log_level="warning", proxy_headers=False))
    web.install_signal_handlers = lambda: None  # ours above stop everything together
    serving = asyncio.create_task(web.serve())
    try:
        await run_worker(s, client)
    finally:
        web.should_exit = True
        await asyncio.wait_for(serving, timeout=10)
