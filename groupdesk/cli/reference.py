"""Commands that read reference data: directory, playbooks, sms."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from groupdesk.cli.common import directory, fail, print_json, settings
from groupdesk.runtime.masking import mask_phone
from groupdesk.playbooks.loader import PlaybookError, load_playbook, playbook_files
from groupdesk.core.roles import ROLE_IDS, role_label

playbooks_app = typer.Typer(no_args_is_help=True, help="List and validate playbooks.")
sms_app = typer.Typer(no_args_is_help=True, help="Messages in the outbox; the domestic providers' templates.")


def register(app: typer.Typer) -> None:
    app.command("directory")(show_directory)
    app.add_typer(playbooks_app, name="playbooks")
    app.add_typer(sms_app, name="sms")
    from groupdesk.cli import sms

    sms.register(sms_app)


def show_directory(as_json: bool = typer.Option(False, "--json")) -> None:
    """Halls and who holds each role there, and who is reached on WeCom (企业微信)."""
    s = settings()
    d = directory(s)
    halls = [
        {
            "id": hall.id, "name": hall.name, "name_en": hall.name_en, "centre": hall.centre, "unit": hall.unit,
            "roles": {role: [{"id": p.id, "name": p.name, "phone": p.mobile, "lang": p.lang,
                              "wecom_userid": p.wecom_userid} for p in d.staff(hall.id, role)] for role in ROLE_IDS},
        }
        for hall in d.halls
    ]
    if as_json:
        print_json(halls)
        return
    console = Console()
    for hall in halls:
        table = Table("role", "staff", title=f"{hall['id']} — {hall['name']}")
        for role, people in hall["roles"].items():
            table.add_row(f"{role} ({role_label(role)})", ", ".join(
                f"{p['id']} {p['name']} {mask_phone(p['phone'])}" + (" [企业微信]" if p["wecom_userid"] else "")
                for p in people) or "—")
        console.print(table)
    on_wecom = s.staff_channel == "wecom"
    table = Table("person", "name", "wecom_userid", "staff messages by",
                  title=f"企业微信 WeCom (GROUPDESK_STAFF_CHANNEL={s.staff_channel})")
    for p in d.people:
        table.add_row(p.id, p.name, p.wecom_userid or "—", "WeCom, SMS if WeCom fails" if on_wecom and p.wecom_userid
                      else "SMS")
    console.print(table)
    if d.units:
        units = Table("unit", "kind", "parent", "managers", "halls below", title="units")
        for unit in d.units:
            managers = ", ".join(f"{pid} ({role_label(role)})" for role, ids in unit.roles.items() for pid in ids)
            units.add_row(f"{unit.id} {unit.name}", unit.kind, unit.parent or "—", managers or "—",
                          ", ".join(d.halls_below(unit.id)) or "—")
        console.print(units)


@playbooks_app.command("list")
def list_playbooks(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every playbook in the playbooks directory: when it applies, and whether it is valid."""
    rows = []
    for path in playbook_files(settings().playbooks_dir):
        try:
            pb = load_playbook(path)
            rows.append({"id": pb.id, "version": pb.version, "title": pb.title.get("zh-CN", ""),
                         "title_en": pb.title.get("en", ""), "description": dict(pb.description),
                         "applies": pb.applies.model_dump(), "steps": list(pb.steps), "file": str(path),
                         "valid": True, "error": None})
        except PlaybookError as exc:
            rows.append({"id": None, "version": None, "title": "", "title_en": "", "description": {}, "applies": None,
                         "steps": [], "file": str(path), "valid": False, "error": str(exc)})
    if as_json:
        print_json(rows)
        return
    table = Table(title="playbooks (details: --json)")
    for column in ("id", "title / when it applies", "categories", "people", "steps"):
        table.add_column(column, overflow="fold")
    for r in rows:
        applies = r["applies"] or {}
        span = applies.get("headcount") or {}
        people = "" if not span else (f"{span['min']}" if span["min"] == span["max"] else f"{span['min']}–{span['max']:,}")
        about = r["title"] + (f"\n{r['description'].get('zh-CN', '')}" if r["description"] else "")
        table.add_row(f"{r['id']} v{r['version']}" if r["valid"] else f"[red]invalid[/red] {Path(r['file']).name}",
                      about if r["valid"] else r["error"] or "",
                      "only when named" if applies.get("by_name_only") else
                      ", ".join(applies.get("categories", [])) + (" (default)" if applies.get("default") else ""),
                      people, str(len(r["steps"])))
    Console().print(table)


@playbooks_app.command("diff")
def diff(old: Path = typer.Argument(..., help="a playbook file"), new: Path = typer.Argument(...)) -> None:
    """What changed between two playbook files (steps, outcomes, deadlines, templates)."""
    from groupdesk.playbooks.diff import diff_playbooks

    try:
        a, b = load_playbook(old), load_playbook(new)
    except PlaybookError as exc:
        fail(str(exc))
    typer.echo("\n".join(diff_playbooks(a, b)))


@playbooks_app.command("validate")
def validate_playbooks(files: Optional[list[Path]] = typer.Argument(None, help="default: every playbook")) -> None:
    """Validate playbooks; exit 1 if any is invalid."""
    paths = files or playbook_files(settings().playbooks_dir)
    if not paths:
        fail(f"no playbooks found in {settings().playbooks_dir}")
    from groupdesk.messaging.channels import sms_refusal
    from groupdesk.messaging.sms_templates import expressibility_problems, playbook_sources

    bad = 0
    for path in paths:
        try:
            pb = load_playbook(path)
        except PlaybookError as exc:
            bad += 1
            typer.echo(f"invalid: {exc}", err=True)
            continue
        if refused := sms_refusal(settings(), pb):  # a domestic provider in use cannot send one of its texts
            bad += 1
            typer.echo(f"invalid: {path}: {refused}", err=True)
            continue
        typer.echo(f"ok: {path} ({pb.id} v{pb.version}, {len(pb.steps)} steps, {len(pb.templates)} templates)")
        for line in expressibility_problems(playbook_sources(pb)):  # only Twilio and the outbox can send these
            typer.echo(f"  note: {line}; Aliyun and Tencent Cloud send only fixed text with values", err=True)
    if bad:
        raise typer.Exit(1)
