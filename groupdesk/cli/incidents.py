"""Commands that start and run incidents: start, list, show, outcome, approve, note, follow-up."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table
from temporalio.exceptions import WorkflowAlreadyStartedError

from groupdesk.incidents.actions import actions, step_scripts
from groupdesk.messaging.channels import sms_refusal
from groupdesk.cli.common import (acting, directory, fail, filters, gateway_or_fail, parse_pairs, print_json, run,
                                  settings)
from groupdesk.core.validation import InputError
from groupdesk.incidents.registration import parse_local_time, prepare_start
from groupdesk.core.models import AddNote, DecideApproval, IncidentState, RecordFollowUp, RecordOutcome, state_json
from groupdesk.playbooks.choice import ChoiceError, pick_playbook
from groupdesk.core import validation as v
from groupdesk.core.intake import CHANNEL_IDS, DEFAULT_CHANNEL, channel_label, search_fields_problem
from groupdesk.incidents.tickets import find_by_ticket
from groupdesk.engine.visibility import list_query
from groupdesk.core.workcal import format_local


def register(app: typer.Typer) -> None:
    app.command()(start)
    app.command("list")(list_command)
    app.command()(show)
    app.command()(outcome)
    app.command()(approve)
    app.command()(note)
    app.command("follow-up")(follow_up)
    app.command()(handover)


def start(
    hall: str = typer.Option(..., "--hall", help="hall id from the staff directory"),
    headcount: int = typer.Option(..., "--headcount", help="how many people came (the playbook says how many it is for)"),
    lead_name: str = typer.Option(..., "--lead-name", help="the lead complainant's name"),
    lead_phone: str = typer.Option(..., "--lead-phone", help="the lead complainant's mobile"),
    summary: str = typer.Option(..., "--summary", help="what the group complains about"),
    playbook: Optional[str] = typer.Option(
        None, "--playbook", help="default: the playbook whose `applies` fits --category and --headcount"),
    drill: bool = typer.Option(False, "--drill", help="a drill: every SMS starts with 【演练】"),
    time_scale: Optional[float] = typer.Option(None, "--time-scale", help="drills only: divide every duration by N"),
    actor: Optional[str] = typer.Option(None, "--as", help="who starts it (default: the hall lead)"),
    lead_lang: str = typer.Option("zh-CN", "--lead-lang", help="language of the complainant's SMS: zh-CN or en"),
    incident_id: Optional[str] = typer.Option(None, "--incident-id", help="override the generated id"),
    category: str = typer.Option("", "--category", help=f"95598 class: {', '.join(v.CATEGORIES)}"),
    complainant_type: str = typer.Option("", "--complainant-type", help=f"one of {', '.join(v.COMPLAINANT_TYPES)}"),
    address: str = typer.Option("", "--address", help="address or community"),
    account_no: str = typer.Option("", "--account-no", help="account number (户号)"),
    demands: str = typer.Option("", "--demands", help="what the complainants ask for"),
    media: bool = typer.Option(False, "--media", help="media (reporters) are present"),
    person_involved: str = typer.Option("", "--person-involved",
                                        help="staff id of whom the complaint is about (更换当事人: they may not act on it)"),
    channel: str = typer.Option(DEFAULT_CHANNEL, "--channel", help=f"how it came in: {', '.join(CHANNEL_IDS)}"),
    ticket_no: str = typer.Option("", "--ticket-no", help="the work-order number from that channel (95598: its 工单号)"),
    feeder: str = typer.Option("", "--feeder", help="an outage incident's line (线路), e.g. 10kV杨柳线 (频繁停电)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Start an incident: a group has come to the hall."""
    s = settings()
    staff = directory(s)
    try:
        pb = pick_playbook(s.playbooks_dir, playbook, category, headcount, {"person_involved": person_involved})
    except ChoiceError as exc:
        fail(f"--playbook: {exc}")
    if pb is not None and (refused := sms_refusal(s, pb)):
        fail(f"--playbook: {refused}")  # a message it sends has no approved template where it goes
    try:  # with no playbook chosen, the headcount or category is wrong: prepare_start names it
        request = prepare_start(
            directory=staff, playbook=pb, hall_id=hall, headcount=headcount, lead_name=lead_name,
            lead_phone=lead_phone, summary=summary, started_by=actor, drill=drill, time_scale=time_scale,
            lead_lang=lead_lang, incident_id=incident_id or "pending", history_budget=s.history_budget,
            registration={"address": address, "account_no": account_no, "category": category, "demands": demands,
                          "complainant_type": complainant_type, "media_present": media,
                          "person_involved": person_involved, "channel": channel, "ticket_no": ticket_no,
                          "feeder": feeder},
        )
    except InputError as exc:
        fail(str(exc))

    async def go() -> None:
        gateway = await gateway_or_fail(s)
        try:
            await gateway.start(acting(s, request.started_by), request)
        except WorkflowAlreadyStartedError:
            fail(f"incident {request.incident_id} for this lead complainant at {hall} already exists today;"
                 f" see `groupdesk show {request.incident_id}`")

    run(go())
    if as_json:
        print_json({"id": request.incident_id, "playbook": pb.id, "hall": hall, "drill": drill})
    else:
        typer.echo(request.incident_id)


def list_command(
    hall: Optional[str] = typer.Option(None, "--hall"),
    tier: Optional[int] = typer.Option(None, "--tier", help="warning tier, e.g. 3"),
    include_closed: bool = typer.Option(False, "--all", help="closed incidents too"),
    drill: Optional[bool] = typer.Option(None, "--drill/--real", help="only drills, or only real incidents"),
    ticket_no: Optional[str] = typer.Option(None, "--ticket-no", help="the incidents registered with this work-order"
                                            " number, closed ones included (from the archive too)"),
    channel: Optional[str] = typer.Option(None, "--channel", help="with --ticket-no: only this channel's number"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List incidents (open ones unless --all, which also shows dead ones), through Temporal visibility."""
    s = settings()
    filters(s, hall=hall, tier=tier)
    if wrong := search_fields_problem(ticket_no, channel, "--ticket-no"):
        fail(f"--{wrong[0].replace('_', '-')}: {wrong[1]}")

    async def go() -> list[dict]:
        gateway = await gateway_or_fail(s)
        if ticket_no is not None:
            return await find_by_ticket(gateway, s, ticket_no.strip(), channel, hall=hall, tier=tier, drill=drill)
        return await gateway.list(list_query(hall=hall, status=None if include_closed else "open", tier=tier,
                                             drill=drill))

    rows = run(go())
    if as_json:
        print_json(rows)
        return
    table = Table("id", "hall", "status", "stage", "tier", "people", "drill", "started")
    for r in rows:
        started = format_local(datetime.fromisoformat(r["started_at"])) if r["started_at"] else ""
        status = r["status"] if r["execution"] in ("running", "completed") else f"[red]{r['execution']}[/red]"
        table.add_row(r["id"], r["hall"], status, r["stage"], str(r["warning_tier"]), str(r["headcount"]),
                      "yes" if r["drill"] else "", started)
    Console().print(table)


def show(incident_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show one incident: steps, deadlines, timeline, messages."""
    s = settings()
    if problem := v.incident_id_problem(incident_id):
        fail(f"ID: {problem}")

    async def go() -> tuple[IncidentState, list[dict], list[dict]]:
        incident = (await gateway_or_fail(s)).incident(incident_id)
        state = await incident.state()
        if state.status != "open":
            return state, [], []
        playbook = await incident.playbook()
        return state, actions(state, playbook, directory(s)), step_scripts(state, playbook)

    state, offered, scripts = run(go())
    if as_json:
        print_json({**state_json(state), "actions": offered,
                    "scripts": scripts})
        return
    console = Console()
    console.print(f"[bold]{state.id}[/bold]  {state.hall_name}  {state.playbook} v{state.playbook_version}"
                  f"  status={state.status}  tier={state.warning_tier}{'  DRILL' if state.drill else ''}")
    console.print(f"stage: {state.stage}   people: {state.headcount}   {state.summary}")
    reg = state.registration
    console.print(f"channel: {reg.channel} ({channel_label(reg.channel)})"
                  + (f"   ticket: {reg.ticket_no}" if reg.ticket_no else ""), highlight=False)
    console.print(f"owner: {state.owner or '-'}" + (f"   person involved (更换当事人, may not act): "
                                                     f"{state.registration.person_involved}"
                                                     if state.registration.person_involved else ""))
    for entry in scripts:
        for line in entry["lines"] + entry["for_complainant_type"]:
            console.print(f"话术 {entry['step']}: {line}", highlight=False)
    if f := state.finding:
        review = (f"confirmed by {f.confirmed_by}" if f.confirmed_by else f"sent back: {f.sent_back}" if f.sent_back
                  else "awaiting the director's review" if f.counts else "")
        console.print(f"finding: founded={f.founded} cause={f.cause} responsible="
                      f"{', '.join(f.responsible_people) or '-'} ({f.responsible_unit or '-'}) by {f.recorded_by}"
                      f"{'; ' + review if review else ''}: {f.reason}", highlight=False)
    if period := state.sensitive_period:
        console.print(f"sensitive period: {period.name} ({period.first_day} to {period.last_day}), deadlines"
                      f" x{period.deadline_factor:g}, responsible {period.responsible or '-'}")
    if state.deadlines:
        console.print("deadlines: " + "; ".join(
            f"{d.kind} {d.step or ''} {format_local(d.due_at)}" for d in state.deadlines))
    table = Table("time", "what", "step", "who", "detail")
    for entry in state.timeline:
        table.add_row(format_local(entry.at), entry.kind, entry.step or "", entry.actor or "", entry.detail)
    console.print(table)
    for a in offered:
        console.print(f"may record: {a['step']} {a['outcome']} ({a['label']})"
                      f"{' --data ' + ', '.join(a['data']) if a['data'] else ''} by {', '.join(a['roles'])}")
    for link in state.linked:
        console.print(f"{'handed over to' if link.relation == 'child' else 'handed over from'}: {link.id}"
                      f" ({link.playbook}, {link.status}{', ' + link.result if link.result else ''})")
    if state.failed_actions:
        console.print(f"[red]{len(state.failed_actions)} failed action(s)[/red]: "
                      + "; ".join(f"{f.purpose} {f.step}: {f.error}" for f in state.failed_actions))


def check_target(incident_id: str, actor: str) -> None:
    """The incident id and the staff id are well-formed before anything is sent to Temporal."""
    if problem := v.incident_id_problem(incident_id):
        fail(f"ID: {problem}")
    if problem := v.staff_id_problem(actor):
        fail(f"--as: {problem}")


def _update(incident_id: str, action: str, payload) -> None:
    """Send a staff action through the gateway, which checks `--as` against the permission rules first."""
    s = settings()

    async def go():
        gateway = await gateway_or_fail(s)
        return await getattr(gateway, action)(acting(s, payload.actor), incident_id, payload)

    ack = run(go())
    typer.echo(f"{incident_id}: {ack.status}, now at {ack.stage or '-'} (warning tier {ack.warning_tier})")


def outcome(
    incident_id: str,
    step: str,
    outcome_name: str = typer.Argument(..., metavar="OUTCOME"),
    actor: str = typer.Option(..., "--as", help="staff id of who records it"),
    note_text: str = typer.Option("", "--note"),
    data: list[str] = typer.Option([], "--data", help="KEY=VALUE, e.g. calibration_at='2026-11-25 10:00'"),
) -> None:
    """Record what happened at a step (its outcome)."""
    values = parse_pairs(data, "--data")
    check_target(incident_id, actor)
    if problem := v.first(v.outcome_problems(step, outcome_name, note_text, values), cli=True):
        fail(problem)
    for key, value in list(values.items()):
        if key.endswith("_at"):
            try:
                values[key] = parse_local_time(value).isoformat()
            except ValueError:
                fail(f"--data {key}: {value!r} is not a date and time; write it like 2026-11-25 10:00")
    _update(incident_id, "record_outcome",
            RecordOutcome(step=step, outcome=outcome_name, actor=actor, note=note_text, data=values))


def approve(
    incident_id: str,
    actor: str = typer.Option(..., "--as", help="staff id of the centre director"),
    reject: bool = typer.Option(False, "--reject", help="refuse instead of approving"),
    reason: str = typer.Option("", "--reason", help="why (required with --reject)"),
) -> None:
    """Approve (or --reject) the escalation the incident is waiting for."""
    check_target(incident_id, actor)
    if problem := v.note_problem(reason, required="a rejection needs a reason" if reject else None):
        fail(f"--reason: {problem}")
    _update(incident_id, "decide",
            DecideApproval(decision="reject" if reject else "approve", actor=actor, reason=reason))


def follow_up(
    incident_id: str,
    score: int = typer.Option(..., "--score", help="satisfaction 1-5"),
    actor: str = typer.Option(..., "--as"),
    comment: str = typer.Option("", "--comment"),
) -> None:
    """Record the lead complainant's answer to the follow-up (回访)."""
    check_target(incident_id, actor)
    if not 1 <= score <= 5:
        fail(f"--score: {score} is out of range; give 1 (very unsatisfied) to 5 (very satisfied)")
    if problem := v.note_problem(comment):
        fail(f"--comment: {problem}")
    _update(incident_id, "follow_up",
            RecordFollowUp(score=score, actor=actor, comment=comment))


def note(incident_id: str, text: str, actor: str = typer.Option(..., "--as")) -> None:
    """Add a note to an incident's timeline."""
    s = settings()
    check_target(incident_id, actor)
    if problem := v.note_problem(text, required="the note is empty"):
        fail(f"TEXT: {problem}")

    async def go() -> None:
        gateway = await gateway_or_fail(s)
        return await gateway.note(acting(s, actor), incident_id, AddNote(actor=actor, text=text),
                                  lambda state: v.room_problem(state.timeline, text))

    if problem := run(go()):
        fail(f"TEXT: {problem}")
    typer.echo(f"{incident_id}: note added")


def handover(
    incident_id: str,
    to: str = typer.Option(..., "--to", help="staff id of the new owner (holds a role at the hall)"),
    actor: str = typer.Option(..., "--as", help="the owner, the hall lead or the centre director"),
    reason: str = typer.Option(..., "--reason", help="why it is handed over"),
) -> None:
    """首问负责制: hand the incident to a new named owner, who is told by SMS."""
    check_target(incident_id, actor)
    if problem := v.staff_id_problem(to):
        fail(f"--to: {problem}")
    if problem := v.note_problem(reason, "say why it is handed over"):
        fail(f"--reason: {problem}")
    s = settings()

    async def go():
        try:
            return await (await gateway_or_fail(s)).hand_over(acting(s, actor), incident_id, to, reason)
        except InputError as exc:
            fail(f"{v.cli_flag(exc.field)}: {exc.message}")

    ack = run(go())
    typer.echo(f"{incident_id}: now owned by {to} ({ack.status}, at {ack.stage or '-'})")
