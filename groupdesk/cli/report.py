"""`groupdesk report`: a period's figures from the archive, as tables, JSON or CSV."""

from __future__ import annotations

import csv
import sys
from typing import Optional

import typer

from groupdesk.cli.archive import open_archive, period
from groupdesk.cli.common import fail, filters, print_json, settings


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("accountability")(accountability)
    app.add_typer(schedules_app, name="schedules")


def report(start: str = typer.Option(..., "--from", help="first local date, YYYY-MM-DD"),
           end: str = typer.Option(..., "--to", help="last local date, YYYY-MM-DD (included)"),
           hall: Optional[str] = typer.Option(None, "--hall"),
           drills: bool = typer.Option(False, "--with-drills", help="count drills too"),
           as_json: bool = typer.Option(False, "--json"),
           as_csv: bool = typer.Option(False, "--csv"),
           unit: Optional[str] = typer.Option(None, "--unit", help="a unit of the directory (province, city, county,"
                                                                  " centre): its halls, with the roll-up"),
           xlsx: Optional[str] = typer.Option(None, "--xlsx", help="also write the report as a spreadsheet (.xlsx)")) -> None:
    """Incidents by playbook, hall, category and week; open ones (Temporal counts); time per step; SLA breaches;
    escalations; repeats; satisfaction; with --unit, the roll-up of every unit and hall below it."""
    from groupdesk.record.report import csv_rows

    if as_json and as_csv:
        fail("--json and --csv: choose one")
    if unit and hall:
        fail("--unit and --hall: choose one (a hall, or a unit's halls)")
    first, last = period(start, end)
    filters(settings(), hall=hall)
    data, halls = build(first, last, hall, unit, drills)
    from groupdesk.record.followups import add_running
    from groupdesk.record.rollup import halls_of
    from groupdesk.cli.common import directory

    data["open"], running = open_or_none(first, last, hall, drills, halls, with_correctives=True)
    add_running(data, running, halls_of(directory(settings())))
    if xlsx:
        write_xlsx(data, xlsx)
    if as_json:
        print_json(data)
    elif as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=["section", "key", "metric", "value"])
        writer.writeheader()
        writer.writerows(csv_rows(data))
    else:
        print_tables(data)


def build(first, last, hall: str | None, unit: str | None, drills: bool, lang: str = "zh-CN"):
    """(the report, the halls it covers: None for every hall); one line and exit 2 for an unknown unit."""
    from groupdesk.record.report import build_report
    from groupdesk.cli.common import directory
    from groupdesk.record.rollup import UnknownUnit, unit_report

    db, _ = open_archive()
    if not unit:
        return build_report(db, first, last, hall, drills), None
    staff = directory(settings())
    try:
        return unit_report(db, staff, first, last, unit, drills, lang), staff.halls_below(unit)
    except UnknownUnit as exc:
        fail(f"--unit: {exc}")


def write_xlsx(data: dict, target: str) -> None:
    from pathlib import Path

    from groupdesk.record.workbook import save_workbook

    path = Path(target)
    if path.suffix.lower() != ".xlsx":
        fail(f"--xlsx: {target} does not end in .xlsx; give a file name such as report.xlsx")
    if not path.parent.is_dir():
        fail(f"--xlsx: the folder {path.parent} does not exist; give a file in an existing folder")
    from groupdesk.cli.common import directory

    names = {h.id: h.name for h in directory(settings()).halls}
    try:
        save_workbook(data, path, names)
    except OSError as exc:
        fail(f"--xlsx: cannot write {target} ({exc.strerror}); give a writable file")


def open_or_none(first, last, hall: str | None, drills: bool, halls: list[str] | None = None,
                 with_correctives: bool = False):
    """Open incidents of the period from Temporal's visibility counts; None if it cannot answer: the archive's
    figures never wait for Temporal. `with_correctives`: (that, the running corrective actions per hall or None)."""
    import asyncio

    from groupdesk.cli.common import directory
    from groupdesk.engine.client import connect
    from groupdesk.incidents.gateway import Gateway
    from groupdesk.record.open_count import open_incidents

    s = settings()
    halls = [h.id for h in directory(s).halls] if halls is None else halls

    async def go():
        from groupdesk.record.followups import running_correctives

        gateway = Gateway(await asyncio.wait_for(connect(s), 10), s)
        opened = await asyncio.wait_for(open_incidents(gateway.count, first, last, halls, hall, drills), 30)
        if not with_correctives:
            return opened
        running = await asyncio.wait_for(running_correctives(gateway.count, first, last, [hall] if hall else halls,
                                                             drills), 30)
        return opened, running

    counting = go()
    try:
        return asyncio.run(counting)
    except Exception:  # noqa: BLE001 - unreachable, refused, timed out: "open" is null, never a traceback
        counting.close()  # (never started when a loop was already running)
        return (None, None) if with_correctives else None


def print_tables(data: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    p, t = data["period"], data["totals"]
    console.print(f"[bold]groupdesk report {p['from']} .. {p['to']}[/bold]" + (f"  hall {p['hall']}" if p["hall"] else ""))
    console.print(f"incidents {t['incidents']}   SLA breached {t['sla_breached']} ({t['sla_breach_rate']:.0%})   "
                  f"deadlines missed {t['deadlines_missed']}   escalations {t['escalations']} "
                  f"(in {t['escalated_incidents']} incidents)   repeat complaints {t['repeat_complaints']}   "
                  f"tier 3 or above {t['warning_tier_3']}")
    p = data["promises"]
    console.print(f"promises made {p['made']}   kept {p['kept']} (late {p['kept_late']})   missed {p['missed']}"
                  f" (in {p['incidents_with_missed']} incidents)   waived {p['waived']}")
    if told := data.get("told"):
        console.print(f"complainants told {told['messages']} times (in {told['incidents']} incidents)")
    if data.get("open") is None:
        console.print("open (still being handled): not counted, Temporal did not answer (TEMPORAL_ADDRESS)")
    else:
        console.print(f"open (still being handled) {data['open']['incidents']}: " + ", ".join(
            f"{row['hall_id']} {row['incidents']}" for row in data["open"]["by_hall"]))
    for title, key in (("by playbook", "playbook"), ("by hall", "hall_id"), ("by week", "week"),
                       ("by category", "category"), ("by channel", "channel")):
        table = Table(key, "incidents", title=title)
        for row in data[f"by_{key.split('_')[0]}"]:
            table.add_row(str(row[key]), str(row["incidents"]))
        console.print(table)
    by_category_week = Table("category", "week", "incidents", title="by category and week")
    for row in data["by_category_week"]:
        by_category_week.add_row(str(row["category"]), row["week"], str(row["incidents"]))
    console.print(by_category_week)
    steps = Table("playbook", "step", "visits", "avg s", "max s", "missed", "breach rate", "escalations", title="time per step")
    for row in data["steps"]:
        steps.add_row(row["playbook"], row["step"], str(row["visits"]), f"{row['avg_seconds']:.0f}", str(row["max_seconds"]),
                      str(row["deadline_missed"]), f"{row['breach_rate']:.0%}", str(row["escalations"]))
    for column in steps.columns:
        column.overflow = "fold"
    console.print(steps)
    satisfaction = Table(*data["satisfaction"], title="satisfaction (score 1-5, expired, none)")
    satisfaction.add_row(*map(str, data["satisfaction"].values()))
    console.print(satisfaction)
    unhappy = data["dissatisfied"]
    console.print(f"dissatisfied answers (2/5 or lower, reopened included) {unhappy['answers']}"
                  f" in {unhappy['incidents']} incidents")
    if findings := data.get("findings"):  # 有效投诉的认定
        console.print(f"findings: founded {findings['founded']}   partly {findings['partly']}   not founded "
                      f"{findings['not_founded']}   founded rate {findings['founded_rate']:.0%} (of "
                      f"{findings['with_finding']} with a finding; {findings['without_finding']} without)")
        causes = Table("cause", "label", "founded", "partly", "not founded", "with a finding", "founded rate",
                       title="findings by cause")
        for row in findings["by_cause"]:
            causes.add_row(row["cause"], row["label"], str(row["founded"]), str(row["partly"]),
                           str(row["not_founded"]), str(row["incidents"]), f"{row['founded_rate']:.0%}")
        console.print(causes)
    if upward := data.get("upward"):
        console.print(f"went to the government (信访) {upward['went_to_government']}   "
                      f"referred from above (上级转办) {upward['referrals']}")
    if (done := data.get("correctives")) is not None:  # 整改 opened in the period
        def shown(value):
            return "—" if value is None else str(value)
        console.print(f"corrective actions: open {shown(done['correctives_open'])}   awaiting verification "
                      f"{shown(done['correctives_awaiting'])}   overdue {shown(done['correctives_overdue'])}   "
                      f"verified {done['correctives_verified']} (late {done['correctives_verified_late']})")
    if data.get("lines") is not None:  # 频繁停电
        lines = Table("line", "outages (12 months)", "status", "halls", "incidents", title="frequent-outage lines")
        for row in data["lines"]:
            lines.add_row(row["feeder"], str(row["outages_12m"]), row["status"], ", ".join(row["halls"]),
                          ", ".join(row["incidents"]))
        console.print(lines)
    if data.get("rollup"):
        from groupdesk.record.rollup import ROW_FIGURES

        rollup = Table("unit", "kind", *ROW_FIGURES, "by channel", title=f"roll-up of {data['period']['unit']}")
        for row in data["rollup"]:
            rollup.add_row("  " * row["level"] + row["name"], row["kind"],
                           *(f"{row[k]:.0%}" if k.endswith("_rate") else "—" if row[k] is None else str(row[k])
                             for k in ROW_FIGURES),
                           ", ".join(f"{channel} {n}" for channel, n in row["by_channel"].items() if n) or "—")
        for column in rollup.columns:
            column.overflow = "fold"
        console.print(rollup)


def accountability(start: str = typer.Option(..., "--from", help="first local date, YYYY-MM-DD"),
                   end: str = typer.Option(..., "--to", help="last local date, YYYY-MM-DD (included)"),
                   hall: Optional[str] = typer.Option(None, "--hall"),
                   drills: bool = typer.Option(False, "--with-drills", help="count drills too"),
                   as_json: bool = typer.Option(False, "--json"),
                   unit: Optional[str] = typer.Option(None, "--unit", help="a unit: the halls below it")) -> None:
    """Per hall and role: overdue steps, escalations caused, repeat complaints, dissatisfied follow-ups, broken
    promises."""
    from rich.console import Console
    from rich.table import Table

    from groupdesk.record.ledger import build_founded, build_ledger

    from groupdesk.cli.common import directory

    if unit and hall:
        fail("--unit and --hall: choose one (a hall, or a unit's halls)")
    first, last = period(start, end)
    filters(settings(), hall=hall)
    db, _ = open_archive()
    halls = None
    if unit:
        staff = directory(settings())
        if staff.unit(unit) is None:
            fail(f"--unit: unknown unit {unit[:60]!r}; units: {', '.join(u.id for u in staff.units) or 'none'}")
        halls = staff.halls_below(unit)
    rows = build_ledger(db, first, last, hall, drills, halls)
    founded = build_founded(db, first, last, hall, drills, halls)
    if as_json:
        print_json({"from": first.isoformat(), "to": last.isoformat(), "hall": hall, "unit": unit, "ledger": rows,
                    "founded": founded})
        return
    table = Table("hall", "role", "overdue", "escalations", "repeats", "dissatisfied", "promises", "incidents",
                  title=f"accountability {first} .. {last}")
    for row in rows:
        behind = "; ".join(sorted({i for ids in row["incidents"].values() for i in ids}))
        table.add_row(row["hall"], row["role"], str(row["overdue_steps"]), str(row["escalations_caused"]),
                      str(row["repeat_complaints"]), str(row["dissatisfied_follow_ups"]), str(row["broken_promises"]),
                      behind)
    for column in table.columns:
        column.overflow = "fold"  # ids are never cut short, whatever the terminal's width
    Console().print(table)
    for kind in ("people", "units"):  # 责任到人: founded complaints as the findings named them
        if founded[kind]:
            named = Table(kind[:-1] if kind == "units" else "person", "founded", "partly", "incidents",
                          title=f"founded complaints per {'unit' if kind == 'units' else 'person'}")
            for row in founded[kind]:
                named.add_row(row.get("person") or row.get("unit"), str(row["founded"]), str(row["partly"]),
                              "; ".join(row["incidents"]))
            for column in named.columns:
                column.overflow = "fold"
            Console().print(named)


schedules_app = typer.Typer(no_args_is_help=True, help="Temporal Schedules of the periodic reports.")


@schedules_app.command("ensure")
def ensure() -> None:
    """Create the weekly and monthly report schedules if missing (workers also do it when they start)."""
    from groupdesk.cli.common import connect_or_fail, run, settings
    from groupdesk.record.schedules import SCHEDULES, ensure_schedules, schedule_id

    s = settings()

    async def go() -> list[str]:
        return await ensure_schedules(await connect_or_fail(s), s)

    created = run(go())
    for kind in SCHEDULES:
        typer.echo(f"{schedule_id(kind)}: {'created' if schedule_id(kind) in created else 'exists'}")
