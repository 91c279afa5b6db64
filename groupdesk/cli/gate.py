"""The settings check `groupdesk console` and `groupdesk dev` make before the rest of the command line loads."""

from __future__ import annotations

import sys

PROCESSES = ("console", "dev")  # long-running: refused at once, before ~1.5 CPU-s of imports


def check_before_loading(args: list[str]) -> None:
    """What the commands' own check and then the process's would say, in that order: each problem on one line,
    exit 2. Nothing for other commands, or with --help (shown whatever the settings)."""
    if not args or args[0] not in PROCESSES or "--help" in args:
        return
    from groupdesk.startup import refuse, settings_or_exit

    if lines := command_problems():
        refuse(lines)
    settings_or_exit(args[0])  # remembered: the command itself does not check (or hash) again
    sys.stderr.flush()


def command_problems() -> list[str]:
    """What every command refuses to start with, one line each: settings that do not parse, SMS providers whose
    settings are not whole (the commands' own check, groupdesk/cli/commands.py)."""
    from groupdesk.messaging.channels import settings_problems
    from groupdesk.startup import SettingsProblems, load_settings

    try:
        return settings_problems(load_settings())
    except SettingsProblems as exc:
        return exc.lines
