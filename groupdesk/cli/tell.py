"""Speaking to the complainant: `groupdesk tell` (进度告知) and `groupdesk status-link revoke`."""

from __future__ import annotations

from typing import Optional

import typer

from groupdesk.cli.common import acting, fail, gateway_or_fail, run, settings
from groupdesk.core import validation as v
from groupdesk.core.tell import TELL_KINDS, TellComplainant, tell_problems
from groupdesk.core.validation import InputError
from groupdesk.incidents.registration import parse_local_time

FLAGS = {"message": "--message", "text": "--text", "at": "--at"}


status_link = typer.Typer(no_args_is_help=True, help="The complainant's status page link (GROUPDESK_PUBLIC_URL/s/...)")


def register(app: typer.Typer) -> None:
    app.command()(tell)
    app.add_typer(status_link, name="status-link")


def _check_target(incident_id: str, actor: str) -> None:
    if problem := v.incident_id_problem(incident_id):
        fail(f"ID: {problem}")
    if problem := v.staff_id_problem(actor):
        fail(f"--as: {problem}")


def tell(
    incident_id: str,
    actor: str = typer.Option(..., "--as", help="the incident's owner, the hall lead or the centre director"),
    message: str = typer.Option(..., "--message", help=f"one of {', '.join(TELL_KINDS)}"),
    text: str = typer.Option("", "--text", help="custom only: what to say, at most 60 characters"),
    at: Optional[str] = typer.Option(None, "--at", help="delay: the new time; visit: the visit's time"
                                                        " (like 2026-11-25 17:00, local time)"),
) -> None:
    """进度告知: tell the lead complainant progress, a delay, a visit or a short text of your own, by SMS."""
    from datetime import datetime, timezone

    _check_target(incident_id, actor)
    when = None
    if at is not None:
        try:
            when = parse_local_time(at)
        except ValueError:
            fail(f"--at: {v.shown(at)} is not a date and time; write it like 2026-11-25 17:00 (local time)")
    if message in TELL_KINDS:
        for field, problem in tell_problems(message, text, when, datetime.now(timezone.utc)).items():
            fail(f"{FLAGS[field]}: {problem}")
    else:
        fail(f"--message: {v.shown(message)} is not a message; choose one of {', '.join(TELL_KINDS)}")
    s = settings()

    async def go():
        try:
            return await (await gateway_or_fail(s)).tell(acting(s, actor), incident_id, TellComplainant(
                actor=actor, message=message, text=text, at=when))
        except InputError as exc:
            fail(f"{FLAGS.get(exc.field, exc.field)}: {exc.message}")

    ack = run(go())
    typer.echo(f"{incident_id}: the complainant is told ({message}); at {ack.stage or '-'}")


@status_link.command("revoke")
def revoke(
    incident_id: str,
    actor: str = typer.Option(..., "--as", help="the incident's owner, the hall lead or the centre director"),
) -> None:
    """End every status link of the incident (a forwarded or leaked one); while it is open the complainant is
    texted a new one."""
    _check_target(incident_id, actor)
    s = settings()

    async def go():
        return await (await gateway_or_fail(s)).revoke_status_links(acting(s, actor), incident_id)

    revoked, sent = run(go())
    typer.echo(f"{incident_id}: {revoked} status link(s) revoked; "
               + ("a new one is texted to the complainant" if sent else "the incident is closed: no new link"))
