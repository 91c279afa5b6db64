"""The `groupdesk` command line."""

from __future__ import annotations

import os
import sys

import typer

from groupdesk.cli import db, dev, history, incidents, ops, reference
from groupdesk.cli.common import fail

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="groupdesk: run collective-complaint incidents (集体投诉) as Temporal workflows.")
incidents.register(app)
reference.register(app)
dev.register(app)
ops.register(app)
history.register(app)
db.register(app)


def main() -> None:
    try:
        app()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    # The Temporal client's Rust threads can abort CPython's teardown of a short-lived process
    # (temporalio/sdk-python#300), so a finished command leaves without finalizing.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


__all__ = ["app", "main", "fail"]
