"""The `groupdesk` command line (its commands: groupdesk/cli/commands.py).

`groupdesk console` and `groupdesk dev` check their settings before the commands load: a process refused for a
bad setting has its one line per problem and exit code 2 in about half the time.
"""

from __future__ import annotations

import os
import sys

__all__ = ["app", "main", "run", "fail"]


def main() -> None:
    try:
        from groupdesk.cli.gate import check_before_loading

        check_before_loading(sys.argv[1:])
        from groupdesk.cli.commands import run

        code = run()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    # The Temporal client's Rust threads can abort CPython's teardown of a short-lived process
    # (temporalio/sdk-python#300), so a finished command leaves without finalizing.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def __getattr__(name: str):
    """`app`, `run` and `fail` from groupdesk/cli/commands.py, loaded when first asked for."""
    if name in ("app", "run", "fail"):
        from groupdesk.cli import commands

        return getattr(commands, name)
    raise AttributeError(f"module 'groupdesk.cli' has no attribute {name!r}")
