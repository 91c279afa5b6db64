"""Corrective actions (整改) and frequent-outage lines (频繁停电): `groupdesk corrective add|done|verify|list` and
`groupdesk lines`."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from groupdesk.cli.common import acting, fail, filters, gateway_or_fail, print_json, run, settings
from groupdesk.cli.incidents import check_target
from groupdesk.core import validation as v
from groupdesk.core.corrective import cid_problem
from groupdesk.core.validation import InputError
from groupdesk.core.workcal import format_local

corrective_app = typer.Typer(no_args_is_help=True, help="Corrective actions (整改): add, done, verify, list.")


def register(app: typer.Typer) -> None:
    app.add_typer(corrective_app, name="corrective")
    app.command("lines")(list_lines)


def _call(make):
    """Run a gateway call; a bad field is one line naming its flag (exit 2), as is a refusal."""
    s = settings()

    async def go():
        gateway = await gateway_or_fail(s)
        try:
            return await make(gateway, s)
        except InputError as exc:
            fail(f"{v.cli_flag(exc.field) if exc.field != 'cid' else 'CID'}: {exc.message}")
        except LookupError as exc:
            fail(str(exc.args[0] if exc.args else exc))

    return run(go())


def _check_cid(cid: str, actor: str) -> None:
    if problem := cid_problem(cid):
        fail(f"CID: {problem}")
    if problem := v.staff_id_problem(actor):
        fail(f"--as: {problem}")


@corrective_app.command("add")
def add(
    incident_id: str,
    what: str = typer.Option(..., "--what", help="what must be corrected, e.g. 更换故障表计并复核电量"),
    owner: str = typer.Option(..., "--owner", help="staff id of who must do it (holds a role at the hall)"),
    due: str = typer.Option(..., "--due", help="30m, 2h, 5wd (working days; scaled in drills) or 2026-12-20 17:00"),
    actor: str = typer.Option(..., "--as", help="the incident's owner, the hall lead or the centre director"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Open a corrective action from an incident; it runs on its own until verified (prints its id)."""
    from groupdesk.incidents.correctives import add_problems

    check_target(incident_id, actor)
    if problem := v.first(add_problems(what, due, owner), cli=True):
        fail(problem)
    cid = _call(lambda g, s: g.add_corrective(acting(s, actor), incident_id, what, owner, due))
    if as_json:
        print_json({"id": cid, "incident": incident_id, "status": "open"})
    else:
        typer.echo(cid)


@corrective_app.command("done")
def done(
    cid: str = typer.Argument(..., metavar="CID"),
    note: str = typer.Option(..., "--note", help="what was done"),
    evidence: str = typer.Option("", "--evidence", help="SHA-256 (or its first 8+ characters) of an attachment of"
                                                        " the incident, as proof"),
    actor: str = typer.Option(..., "--as", help="the corrective action's owner"),
) -> None:
    """The owner records the corrective action done; the centre director verifies it next."""
    _check_cid(cid, actor)
    if problem := v.note_problem(note, "say what was done"):
        fail(f"--note: {problem}")
    _call(lambda g, s: g.corrective_done(acting(s, actor), cid, note, evidence))
    typer.echo(f"{cid}: done; the centre director verifies it (groupdesk corrective verify {cid})")


@corrective_app.command("verify")
def verify(
    cid: str = typer.Argument(..., metavar="CID"),
    reject: bool = typer.Option(False, "--reject", help="send it back to its owner"),
    reason: str = typer.Option("", "--reason", help="why it is sent back (required with --reject)"),
    actor: str = typer.Option(..., "--as", help="the centre director"),
) -> None:
    """The centre director verifies a corrective action recorded done, or sends it back with a reason."""
    _check_cid(cid, actor)
    if reject and (problem := v.note_problem(reason, "say why it is sent back")):
        fail(f"--reason: {problem}")
    state = _call(lambda g, s: g.corrective_verify(acting(s, actor), cid, reject, reason))
    typer.echo(f"{cid}: sent back to {state.owner}" if reject else f"{cid}: verified")


@corrective_app.command("list")
def list_correctives(
    hall: Optional[str] = typer.Option(None, "--hall"),
    overdue: bool = typer.Option(False, "--overdue", help="only those past their due time and not done"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Corrective actions: running ones (Temporal) and verified ones (the archive)."""
    s = settings()
    filters(s, hall=hall)
    found = _call(lambda g, _: g.correctives(hall=hall, overdue=overdue))
    if as_json:
        print_json(found)
        return
    table = Table("id", "status", "due", "owner", "what")
    for r in found:
        due = format_local(datetime.fromisoformat(r["due_at"])) if r["due_at"] else "…"
        status = r["status"] + (" (overdue)" if r["overdue"] else "")
        table.add_row(r["id"], status, due, r["owner"], r["what"])
    Console().print(table)


def list_lines(
    on_warning: bool = typer.Option(False, "--on-warning", help="only lines on warning or under special study"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Frequent-outage lines (频繁停电): each line's outages complained of within 12 months and its status."""
    found = _call(lambda g, _: g.lines(on_warning=on_warning))
    if as_json:
        print_json(found)
        return
    table = Table("feeder", "outages (12 months)", "status", "incidents")
    for r in found:
        table.add_row(r["feeder"], str(r["outages_12m"]), r["status"], ", ".join(r["incidents"]))
    Console().print(table)
