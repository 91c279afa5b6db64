"""Promises (合理承诺,有诺必行): `groupdesk promise add|kept|change|waive` and `groupdesk promises`."""

from __future__ import annotations

from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from groupdesk.cli.common import acting, fail, filters, gateway_or_fail, print_json, run, settings
from groupdesk.cli.incidents import check_target
from groupdesk.core import validation as v
from groupdesk.core.models import PromiseChange
from groupdesk.core.roles import LEAD_COMPLAINANT
from groupdesk.core.workcal import format_local
from groupdesk.core.validation import InputError
from groupdesk.incidents.promises import add_problems, normalise_due, parse_when

promise_app = typer.Typer(no_args_is_help=True, help="Promises made to complainants: add, kept, change, waive.")


def register(app: typer.Typer) -> None:
    app.add_typer(promise_app, name="promise")
    app.command("promises")(list_promises)


def _send(incident_id: str, actor: str, change: PromiseChange):
    s = settings()

    async def go():
        try:
            return await (await gateway_or_fail(s)).promise(acting(s, actor), incident_id, change)
        except InputError as exc:
            fail(f"{v.cli_flag(exc.field)}: {exc.message}")

    return run(go())


def _check_promise_id(promise_id: str) -> None:
    if problem := v.promise_id_problem(promise_id):
        fail(f"PROMISE_ID: {problem}")


@promise_app.command("add")
def add(
    incident_id: str,
    what: str = typer.Option(..., "--what", help="what was promised, e.g. 5个工作日内反馈校验结果"),
    due: str = typer.Option(..., "--due", help="30m, 2h, 2wd (working days; scaled in drills) or 2026-11-25 17:00"),
    owner: str = typer.Option(..., "--owner", help="staff id of who must keep it (holds a role at the hall)"),
    to: str = typer.Option(LEAD_COMPLAINANT, "--to", help="to whom: the lead complainant (default) or a staff id"),
    actor: str = typer.Option(..., "--as", help="staff id of who records the promise"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Record a promise; its owner is reminded before it is due and the chain is told if it is missed."""
    check_target(incident_id, actor)
    if problem := v.first(add_problems(what, due, owner, to), cli=True):
        fail(problem)
    ack = _send(incident_id, actor, PromiseChange(kind="add", actor=actor, what=what, owner=owner, to=to,
                                                  due=normalise_due(due)))
    if as_json:
        print_json({"id": ack.promise, "incident": incident_id, "status": "open"})
    else:
        typer.echo(ack.promise)


@promise_app.command("kept")
def kept(
    incident_id: str,
    promise_id: str = typer.Argument(..., metavar="PROMISE_ID"),
    actor: str = typer.Option(..., "--as", help="the promise's owner, the hall lead or the centre director"),
    note: str = typer.Option("", "--note", help="how it was kept"),
) -> None:
    """Record a promise kept; whom it was made to is told by SMS."""
    check_target(incident_id, actor)
    _check_promise_id(promise_id)
    if problem := v.note_problem(note):
        fail(f"--note: {problem}")
    _send(incident_id, actor, PromiseChange(kind="kept", actor=actor, promise=promise_id, note=note))
    typer.echo(f"{incident_id}: promise {promise_id} kept")


@promise_app.command("change")
def change(
    incident_id: str,
    promise_id: str = typer.Argument(..., metavar="PROMISE_ID"),
    due: str = typer.Option(..., "--due", help="the new due time: 30m, 2wd or 2026-11-25 17:00"),
    reason: str = typer.Option(..., "--reason", help="why it changes (the complainant reads it)"),
    actor: str = typer.Option(..., "--as", help="the promise's owner, the hall lead or the centre director"),
) -> None:
    """Re-promise: a new due time, told to whom it was made to."""
    check_target(incident_id, actor)
    _check_promise_id(promise_id)
    try:
        new_due = normalise_due(due)
    except ValueError as exc:
        fail(f"--due: {exc}")
    if problem := v.note_problem(reason, "say why the due time changes"):
        fail(f"--reason: {problem}")
    _send(incident_id, actor, PromiseChange(kind="change", actor=actor, promise=promise_id, due=new_due, note=reason))
    typer.echo(f"{incident_id}: promise {promise_id} now due {due}")


@promise_app.command("waive")
def waive(
    incident_id: str,
    promise_id: Optional[str] = typer.Argument(None, metavar="[PROMISE_ID]", help="leave out: every one not kept"),
    reason: str = typer.Option(..., "--reason", help="why it need not be kept"),
    actor: str = typer.Option(..., "--as", help="the centre director"),
) -> None:
    """The centre director waives a promise (or every one not kept), so the incident may close."""
    check_target(incident_id, actor)
    if promise_id is not None:
        _check_promise_id(promise_id)
    if problem := v.note_problem(reason, "say why the promise is waived"):
        fail(f"--reason: {problem}")
    _send(incident_id, actor, PromiseChange(kind="waive", actor=actor, promise=promise_id or "", note=reason))
    typer.echo(f"{incident_id}: {'promise ' + promise_id if promise_id else 'every open promise'} waived")


def list_promises(
    hall: Optional[str] = typer.Option(None, "--hall"),
    due_before: Optional[str] = typer.Option(None, "--due-before", help="local time, e.g. 2026-11-25 18:00:"
                                                                        " only those not kept yet, due before it"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Promises of running incidents (found by their search attributes, not by reading every incident)."""
    s = settings()
    filters(s, hall=hall)
    try:
        before = parse_when(due_before) if due_before is not None else None
    except ValueError as exc:
        fail(f"--due-before: {exc}")

    async def go() -> list[dict]:
        return await (await gateway_or_fail(s)).promises(hall=hall, due_before=before)

    found = run(go())
    if as_json:
        print_json(found)
        return
    from datetime import datetime

    table = Table("incident", "id", "status", "due", "owner", "what")
    for r in found:
        due = format_local(datetime.fromisoformat(r["due_at"])) if r["due_at"] else "…"
        table.add_row(r["incident"], r["id"], r["status"], due, r["owner"], r["what"])
    Console().print(table)
