"""`groupdesk amend`: correct what was registered (the headcount grows, a journalist arrives, the 户号 was misheard)."""

from __future__ import annotations

from typing import Optional

import typer

from groupdesk.cli.common import acting, fail, gateway_or_fail, run, settings
from groupdesk.core import validation as v
from groupdesk.core.intake import CHANNEL_IDS
from groupdesk.core.validation import InputError, cli_flag


def register(app: typer.Typer) -> None:
    app.command()(amend)


def amend(
    incident_id: str,
    actor: str = typer.Option(..., "--as", help="the incident's owner, the hall lead or the centre director"),
    reason: str = typer.Option(..., "--reason", help="why the registration changes (at most 200 characters)"),
    headcount: Optional[int] = typer.Option(None, "--headcount", help="how many people came, now"),
    category: Optional[str] = typer.Option(None, "--category", help=f"95598 class: {', '.join(v.CATEGORIES)}"),
    complainant_type: Optional[str] = typer.Option(None, "--complainant-type",
                                                   help=f"one of {', '.join(v.COMPLAINANT_TYPES)}"),
    address: Optional[str] = typer.Option(None, "--address", help="address or community"),
    account_no: Optional[str] = typer.Option(None, "--account-no", help="account number (户号)"),
    demands: Optional[str] = typer.Option(None, "--demands", help="what the complainants ask for"),
    media: Optional[bool] = typer.Option(None, "--media/--no-media", help="media (reporters) are present, or not"),
    lead_name: Optional[str] = typer.Option(None, "--lead-name", help="the lead complainant's name"),
    lead_phone: Optional[str] = typer.Option(None, "--lead-phone", help="the lead complainant's mobile"),
    channel: Optional[str] = typer.Option(None, "--channel", help=f"how it came in: {', '.join(CHANNEL_IDS)}"),
    ticket_no: Optional[str] = typer.Option(None, "--ticket-no", help="the work-order number from that channel"
                                            " ('' removes it)"),
) -> None:
    """Amend the registration: only the fields given change; before and after go on the timeline."""
    from groupdesk.incidents.amend import prepare_amend

    if problem := v.incident_id_problem(incident_id):
        fail(f"ID: {problem}")
    if problem := v.staff_id_problem(actor):
        fail(f"--as: {problem}")
    try:
        req = prepare_amend(actor, reason, headcount=headcount, category=category, complainant_type=complainant_type,
                            address=address, account_no=account_no, demands=demands, media_present=media,
                            lead_name=lead_name, lead_phone=lead_phone, channel=channel, ticket_no=ticket_no)
    except InputError as exc:
        fail(f"{cli_flag(exc.field)}: {exc.message}")
    s = settings()

    async def go():
        return await (await gateway_or_fail(s)).amend_registration(acting(s, actor), incident_id, req)

    ack = run(go())
    typer.echo(f"{incident_id}: the registration is amended ({', '.join(req.given())}); at {ack.stage or '-'}")
