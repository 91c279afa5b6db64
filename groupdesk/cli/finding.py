"""`groupdesk finding`: record the incident's finding (有效投诉的认定, 责任到人) before it closes."""

from __future__ import annotations

import typer

from groupdesk.cli.common import acting, directory, fail, gateway_or_fail, run, settings
from groupdesk.core import validation as v
from groupdesk.core.finding import FOUNDED, RecordFinding, split_people
from groupdesk.core.validation import InputError
from groupdesk.incidents.finding import check_finding
from groupdesk.playbooks.causes import CausesError, load_causes

FLAGS = {"founded": "--founded", "cause": "--cause", "responsible_people": "--responsible",
         "responsible_unit": "--unit", "reason": "--reason"}


def register(app: typer.Typer) -> None:
    app.command()(finding)


def finding(
    incident_id: str,
    founded: str = typer.Option(..., "--founded", help=f"was the complaint founded: {' | '.join(FOUNDED)}"),
    cause: str = typer.Option(..., "--cause", help="the cause (playbooks/finding_causes.yaml: service_attitude,"
                                                   " business_handling, power_quality, outage, metering,"
                                                   " tariff_billing, grid_construction, other)"),
    responsible: str = typer.Option("", "--responsible", help="who was responsible: staff ids, comma-separated"
                                                              " (required when founded)"),
    unit: str = typer.Option("", "--unit", help="the unit responsible: a hall or unit id (required when founded)"),
    reason: str = typer.Option(..., "--reason", help="what was found"),
    actor: str = typer.Option(..., "--as", help="the incident's owner, the hall lead or the centre director"),
) -> None:
    """有效投诉的认定: record whether the complaint was founded, its cause, and who and which unit were responsible;
    a founded one goes to the centre director's review when the incident closes."""
    if problem := v.incident_id_problem(incident_id):
        fail(f"ID: {problem}")
    if problem := v.staff_id_problem(actor):
        fail(f"--as: {problem}")
    s = settings()
    req = RecordFinding(actor=actor, founded=founded, cause=cause, responsible_people=split_people(responsible),
                        responsible_unit=unit.strip(), reason=reason)
    try:  # as typed, against the causes and the directory, before Temporal is asked anything
        check_finding(req, load_causes(s.playbooks_dir), directory(s))
    except (InputError, CausesError) as exc:
        fail(f"{FLAGS.get(exc.field, exc.field)}: {exc.message}" if isinstance(exc, InputError) else str(exc))

    async def go():
        try:
            return await (await gateway_or_fail(s)).record_finding(acting(s, actor), incident_id, req)
        except InputError as exc:
            fail(f"{FLAGS.get(exc.field, exc.field)}: {exc.message}")

    ack = run(go())
    typer.echo(f"{incident_id}: finding recorded ({founded}, {cause}); at {ack.stage or '-'}")
