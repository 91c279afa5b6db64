"""What every command shares: settings, one-line errors, JSON output."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, Coroutine, NoReturn

import typer
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from groupdesk.engine.client import IncidentUnavailable
from groupdesk.runtime.config import Settings
from groupdesk.people.directory import Directory, DirectoryError, load_directory
from groupdesk.core.validation import InputError
from groupdesk.people.permissions import Forbidden
from groupdesk.core.validation import shown
from groupdesk.engine.visibility import QueryValueError


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def settings() -> Settings:
    """The settings; a value that does not parse is one line naming the variable, exit 2."""
    from groupdesk.startup import SettingsProblems, load_settings

    try:
        return load_settings()
    except SettingsProblems as exc:
        for line in exc.lines[:-1]:
            typer.echo(f"error: {line}", err=True)
        fail(exc.lines[-1])


def directory(s: Settings) -> Directory:
    try:
        return load_directory(s.directory)
    except DirectoryError as exc:
        fail(str(exc))


def filters(s: Settings, *, hall: str | None = None, tier: int | None = None, incident: str | None = None) -> None:
    """A list's filters checked like every other input: an unknown hall, a tier that does not exist or a
    malformed incident id is one line naming the flag, exit 2 (not an empty list that looks like an answer)."""
    from groupdesk.core import validation as v

    if hall is not None and directory(s).hall(hall) is None:
        fail(f"--hall: unknown hall {shown(hall)}; halls: {', '.join(h.id for h in directory(s).halls)}")
    if problem := v.tier_problem(tier):
        fail(f"--tier: {problem}")
    if incident is not None and (problem := v.incident_id_problem(incident)):
        fail(f"--incident: {problem}")


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


async def gateway_or_fail(s: Settings):
    """The gateway to running incidents, connected (or one line saying Temporal cannot be reached)."""
    from groupdesk.incidents.gateway import Gateway

    return Gateway(await connect_or_fail(s), s)


def acting(s: Settings, actor: str):
    """Who `--as` names, held to the same permission rules as in the console."""
    from groupdesk.people.permissions import acting_as

    return acting_as(directory(s), actor)


async def connect_or_fail(s: Settings) -> Client:
    from groupdesk.engine.client import connect

    try:
        return await connect(s)
    except RuntimeError as exc:
        fail(f"cannot reach Temporal at {s.temporal_address} ({exc}); start it with `groupdesk dev`"
             " or set TEMPORAL_ADDRESS")


def run(coro: Coroutine) -> Any:
    try:
        return asyncio.run(coro)
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        fail(getattr(cause, "message", None) or str(cause or exc))
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            fail(f"no such incident ({exc.message}); see `groupdesk list`")
        fail(f"Temporal refused the request: {exc.message}")
    except QueryValueError as exc:
        fail(str(exc))
    except Forbidden as exc:
        fail(f"--as: {exc}")
    except (IncidentUnavailable, InputError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        sys.exit(130)


def parse_pairs(pairs: list[str], option: str) -> dict[str, str]:
    data: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"{option}: {shown(pair)} is not KEY=VALUE, e.g. {option} calibration_at='2026-11-25 10:00'")
        data[key.strip()] = value.strip()
    return data
