"""`groupdesk sms ...`: the outbox (list, mark-sent) and the domestic providers' templates (export, sync, submit)."""

from __future__ import annotations

import csv
import json
import sys
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from groupdesk.cli.common import acting, fail, filters, gateway_or_fail, print_json, run, settings
from groupdesk.runtime.masking import mask_code, mask_phone
from groupdesk.messaging.routes import TEMPLATE_PROVIDERS

templates_app = typer.Typer(no_args_is_help=True, help="Aliyun and Tencent Cloud templates: export, sync, submit.")


def register(sms_app: typer.Typer) -> None:
    sms_app.command("list")(list_sms)
    sms_app.command("mark-sent")(mark_sent)
    sms_app.add_typer(templates_app, name="templates")


def _params(purpose: str, raw: str | None):
    """A message's template parameters as sent, the approval code masked as in its text."""
    if not raw:
        return None
    values = json.loads(raw)
    if isinstance(values, dict):
        return {k: mask_code(purpose, str(v)) for k, v in values.items()}
    return [mask_code(purpose, str(v)) for v in values]


def list_sms(incident: Optional[str] = typer.Option(None, "--incident"),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Messages stored in the outbox, oldest first: channel (sms, wecom), provider, template and parameters, the text
    the phone got."""
    from groupdesk.messaging.outbox import Outbox  # the database layer loads only for the commands that use it

    s = settings()
    filters(s, incident=incident)
    rows = Outbox(s).list(incident_id=incident)
    if as_json:
        print_json([{**r.as_json(), "to": mask_phone(r.to_number), "body": mask_code(r.purpose, r.body),
                     "params": _params(r.purpose, r.params)} for r in rows])
        return
    table = Table("time", "incident", "step", "purpose", "channel", "to", "provider", "status", "template", "text")
    for r in rows:
        template = ""
        if r.template_code:
            template = f"{r.template_code} {json.dumps(_params(r.purpose, r.params), ensure_ascii=False)}"
        table.add_row(r.created_at[11:19], r.incident_id, r.step or "", r.purpose, r.channel,
                      f"{r.role} {mask_phone(r.to_number)}",
                      r.provider, r.status + (f" ({r.error_code})" if r.error_code else ""), template,
                      mask_code(r.purpose, r.body))
    Console().print(table)


def mark_sent(key: str = typer.Argument(..., help="the message's key (`groupdesk sms list --json`)"),
              actor: str = typer.Option(..., "--as", help="staff id of the ops member"),
              reason: str = typer.Option("", "--reason", help="how you know it arrived")) -> None:
    """Ops: a message parked as `unknown` did arrive (the recipient confirmed): record it sent, not resent."""
    from temporalio.client import WorkflowUpdateFailedError

    from groupdesk.messaging.outbox import Outbox

    s = settings()
    viewer = acting(s, actor)
    if not viewer.ops:
        fail(f"--as: {actor!r} is not in the ops team of the staff directory")
    outbox = Outbox(s)
    row = outbox.get(key)
    if row is None:
        fail(f"KEY: no message {key[:80]!r}; see `groupdesk sms list --json` for keys")
    if row.status != "unknown":
        fail(f"KEY: that message is {row.status}, not unknown; only a message whose outcome is unknown is marked sent")
    outbox.report(key, "sent")

    async def go():
        gateway = await gateway_or_fail(s)
        try:
            await gateway.skip(viewer, row.incident_id, row.step or "-",
                               f"marked sent by ops: {row.purpose} to {row.role}" + (f" ({reason})" if reason else ""))
        except WorkflowUpdateFailedError:
            pass  # nothing parked any more at that step (a delivery report settled it first)

    if row.incident_id != "replies" and row.error_code != "abandoned":  # an abandoned one: its incident never had it
        run(go())
    typer.echo(f"{key}: marked sent; it will not be sent again")


def _provider(name: str):
    from groupdesk.messaging.channels import build
    from groupdesk.messaging.domestic import ProviderSettingsError

    if name not in TEMPLATE_PROVIDERS:
        fail(f"--provider: use {' or '.join(TEMPLATE_PROVIDERS)} (Twilio and the outbox send free text)")
    try:
        return build(settings(), name)
    except ProviderSettingsError as exc:
        fail(str(exc))


@templates_app.command("export")
def export(provider: str = typer.Option(..., "--provider", help="aliyun or tencent"),
           as_csv: bool = typer.Option(False, "--csv")) -> None:
    """Every distinct text the provider must approve, in its syntax, with variables, status and code."""
    from groupdesk.messaging.sms_templates import RegistryError
    from groupdesk.messaging.template_sync import export_rows

    if provider not in TEMPLATE_PROVIDERS:
        fail(f"--provider: use {' or '.join(TEMPLATE_PROVIDERS)}")
    try:
        rows = export_rows(settings(), provider)
    except RegistryError as exc:
        fail(str(exc))
    if as_csv:
        out = csv.writer(sys.stdout)
        out.writerow(["text", "variables", "status", "code", "name", "used_by", "links"])
        for e in rows:
            out.writerow([e.text, " ".join(e.variables), e.status, e.code, e.name, " ".join(e.used_by),
                          " ".join(e.links)])
        return
    table = Table("text", "variables", "status", "code", title=f"{provider}: {len(rows)} texts")
    for e in rows:  # a variable of kind link (the complainant's status link) is declared so when filed
        table.add_row(e.text, ", ".join(f"{v} (link)" if v in e.links else v for v in e.variables), e.status, e.code)
    Console().print(table)


def _report(result, provider: str) -> None:
    typer.echo(f"{provider}: {len(result.approved)} approved, {len(result.reviewing)} under review,"
               f" {len(result.rejected)} rejected, {len(result.missing)} missing; registry {result.registry.path}")
    for e in result.filed:
        typer.echo(f"  filed {e.code}: {e.text}")
    for e in result.rejected:
        typer.echo(f"  rejected {e.code}: {e.text}" + (f" — {e.reason}" if e.reason else "")
                   + " (reword the template, then submit again)")
    for e in (result.missing if not result.filed else []):
        typer.echo(f"  missing: {e.text}")


@templates_app.command("sync")
def sync_templates(provider: str = typer.Option(..., "--provider", help="aliyun or tencent")) -> None:
    """Read the provider's templates, fill in codes and statuses by matching content, name what is missing."""
    from groupdesk.messaging.template_sync import sync
    from groupdesk.messaging.errors import PermanentSmsError, RetryableSmsError, UnknownOutcomeError

    driver = _provider(provider)
    try:
        result = sync(settings(), driver)
    except (PermanentSmsError, RetryableSmsError, UnknownOutcomeError) as exc:
        fail(f"{provider} did not list its templates: {exc}", code=1)
    _report(result, provider)
    if result.missing or result.rejected:
        raise typer.Exit(1)


@templates_app.command("submit")
def submit_templates(provider: str = typer.Option(..., "--provider", help="aliyun or tencent")) -> None:
    """File the texts the provider does not have for review (then `sync` once they are approved)."""
    from groupdesk.messaging.template_sync import submit
    from groupdesk.messaging.errors import PermanentSmsError, RetryableSmsError, UnknownOutcomeError

    driver = _provider(provider)
    try:
        result = submit(settings(), driver)
    except (PermanentSmsError, RetryableSmsError, UnknownOutcomeError) as exc:
        fail(f"{provider} refused a template: {exc}", code=1)
    _report(result, provider)
