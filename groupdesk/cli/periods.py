"""`groupdesk periods list`: the sensitive-period calendar (GROUPDESK_SENSITIVE_PERIODS), checked."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from groupdesk.cli.common import directory, fail, print_json, settings

periods_app = typer.Typer(no_args_is_help=True, help="Sensitive periods (敏感时期): the calendar.")


def register(app: typer.Typer) -> None:
    app.add_typer(periods_app, name="periods")


@periods_app.command("list")
def list_periods(
    file: Optional[Path] = typer.Option(None, "--file", help="a calendar file (default: GROUPDESK_SENSITIVE_PERIODS)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Every sensitive period: dates, halls, deadline factor, responsible person per hall (exit 2 if invalid)."""
    from groupdesk.playbooks.periods import PeriodError, calendar_rows, load_calendar

    s = settings()
    staff = directory(s)
    path = file or s.sensitive_periods
    try:
        rows = calendar_rows(load_calendar(path, staff), staff)
    except PeriodError as exc:
        fail(str(exc))
    if as_json:
        print_json({"file": str(path) if path else None, "periods": rows})
        return
    if not path:
        typer.echo("no calendar: set GROUPDESK_SENSITIVE_PERIODS to a YAML file of sensitive periods")
        return
    table = Table("period", "from", "to", "halls", "deadlines ×", "responsible", title=str(path))
    for row in rows:
        table.add_row(row["name"], row["from"], row["to"],
                      row["halls"] if row["halls"] == "all" else ", ".join(row["halls"]), f"{row['deadline_factor']:g}",
                      ", ".join(f"{hall}: {p['id']} {p['name']}" for hall, p in row["responsible"].items()) or "—")
    Console().print(table)
