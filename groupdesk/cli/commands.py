"""The `groupdesk` command line: every command, its settings check, one-line usage errors."""

from __future__ import annotations

import functools
import sys

import typer

from groupdesk.cli import archive, attachments, db, report, dev, history, incidents, ops, periods, promises, reference
from groupdesk.cli import amend, correctives, finding, tell, wecom
from groupdesk.cli.common import fail

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="groupdesk: run collective-complaint incidents (集体投诉) as Temporal workflows.")
@app.callback()
def _check_settings(ctx: typer.Context) -> None:
    """Every command starts only with settings that parse and SMS providers whose settings are whole."""
    if "--help" in sys.argv[1:] or ctx.resilient_parsing:  # help is shown whatever the settings
        return
    from groupdesk.cli.gate import command_problems

    lines = command_problems()
    for line in lines[:-1]:
        typer.echo(f"error: {line}", err=True)
    if lines:
        fail(lines[-1])


incidents.register(app)
reference.register(app)
dev.register(app)
ops.register(app)
history.register(app)
db.register(app)
archive.register(app)
report.register(app)
periods.register(app)
promises.register(app)
wecom.register(app)
attachments.register(app)
tell.register(app)
correctives.register(app)
amend.register(app)
finding.register(app)


@functools.cache
def _command():
    """The click command typer builds from every command's signature (~35 ms): once per process."""
    return typer.main.get_command(app)


def run(args: list[str] | None = None) -> int:
    """Run one command line and return its exit code; a usage mistake (a missing option, a value of
    the wrong type) is one line naming the option, and exit code 2, like every other bad input."""
    command = _command()
    try:
        result = command.main(args=args, prog_name="groupdesk", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 1
    except Exception as exc:  # typer's own click: its usage errors carry format_message and exit_code
        if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
            raise
        message = " ".join(exc.format_message().split())
        if message:  # (empty when the help was shown instead)
            ctx = getattr(exc, "ctx", None)
            typer.echo(f"error: {message} (see `{ctx.command_path if ctx else 'groupdesk'} --help`)", err=True)
        return exc.exit_code


__all__ = ["app", "run", "fail"]
