"""Turning what a hall lead types into a valid StartIncident, or an error naming the field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from groupdesk.core import workcal
from groupdesk.core.lines import feeder_problem, normalise_feeder
from groupdesk.core.phones import Phone
from groupdesk.people import involvement
from groupdesk.people.directory import Directory, DirectoryError, current_directory
from groupdesk.playbooks.periods import PeriodError, load_calendar
from groupdesk.core.models import Complainant, Registration, StartIncident
from groupdesk.core.playbook import Playbook
from groupdesk.core.intake import DEFAULT_CHANNEL, channel_problem, ticket_problem
from groupdesk.core.starting import DEFAULT_STARTERS, owned_by_duty_lead, start_refusal
from groupdesk.core import validation as v
from groupdesk.playbooks.choice import headcount_problem as range_problem
from groupdesk.core.validation import InputError, cli_flag


def prepare_start(
    *,
    directory: Directory,
    playbook: Playbook | None,  # None only when the headcount or category is wrong (so nothing is chosen)
    hall_id: str,
    headcount: int,
    lead_name: str,
    lead_phone: str | Phone,  # as typed, or the Phone check_start gave back (not parsed again)
    summary: str,
    started_by: str | None,
    incident_id: str,
    drill: bool = False,
    time_scale: float | None = None,
    lead_lang: str = "zh-CN",
    history_budget: int = 2000,
    registration: dict | None = None,
) -> StartIncident:
    """A valid StartIncident, or InputError naming the first wrong field by its command-line flag."""
    if started_by is None:
        leads = directory.staff(hall_id, "hall_lead") if directory.hall(hall_id) else []
        started_by = leads[0].id if leads else None
    checked = check_start(directory, hall=hall_id, headcount=headcount, lead_name=lead_name,
                          lead_phone=lead_phone, summary=summary, drill=drill, time_scale=time_scale,
                          lead_lang=lead_lang, started_by=started_by, registration=registration,
                          incident_id=None if incident_id == "pending" else incident_id, playbook=playbook)
    if checked.problems:
        field, message = next(iter(checked.problems.items()))
        raise InputError(cli_flag(field), message)
    if playbook is None:
        raise InputError(cli_flag("playbook"), "no playbook chosen; name one (see `groupdesk playbooks list`)")
    hall = directory.hall(hall_id)
    return StartIncident(
        incident_id=incident_id, playbook=playbook, hall_id=hall.id, hall_name=hall.name,
        hall_name_en=hall.name_en, roster=directory.roster(hall_id), headcount=headcount,
        lead=Complainant(name=v.normal_text(lead_name).strip(), phone=checked.lead_phone, lang=lead_lang),
        summary=v.normal_text(summary).strip(), started_by=started_by, drill=drill, time_scale=time_scale or 1.0,
        history_budget=history_budget, registration=(reg := registered(registration or {})),
        owner=first_owner(directory, hall.id, playbook, reg.person_involved, started_by),
        workdays=workcal.snapshot(datetime.now(workcal.LOCAL_TZ).year),
    )


def first_owner(directory: Directory, hall_id: str, playbook: Playbook, person: str, started_by: str) -> str:
    """Who owns it from the start when not the starter (""): someone senior to the person involved (更换当事人),
    or, for a group playbook (`owned_by: duty_lead`) registered by someone not a hall lead, the hall's duty lead."""
    owner = involvement.owner_for(directory, hall_id, playbook, person, started_by)
    if not owner and owned_by_duty_lead(playbook.owned_by, directory.roles_of(hall_id, started_by)):
        owner = directory.duty_lead(hall_id)
    return "" if owner == started_by else owner


def registered(fields: dict) -> Registration:
    """The registration as typed (already checked): text as it is kept and trimmed, empty choices left out."""
    return Registration(
        address=v.normal_text(fields.get("address") or "").strip(), account_no=(fields.get("account_no") or "").strip(),
        category=fields.get("category") or None, demands=v.normal_text(fields.get("demands") or "").strip(),
        complainant_type=fields.get("complainant_type") or None, media_present=bool(fields.get("media_present")),
        person_involved=(fields.get("person_involved") or "").strip(),
        channel=(fields.get("channel") or DEFAULT_CHANNEL).strip(), ticket_no=(fields.get("ticket_no") or "").strip(),
        feeder=normalise_feeder(fields.get("feeder") or ""),
    )


@dataclass(frozen=True)
class StartCheck:
    """What checking a start gives: every problem by form field, and the lead's phone as parsed (None if wrong)."""
    problems: dict[str, str]
    lead_phone: Phone | None


def start_problems(directory: Directory, **fields) -> dict[str, str]:
    """Every problem with what a hall lead typed, by form field (empty when all is well): check_start's."""
    return check_start(directory, **fields).problems


def check_start(directory: Directory, *, hall: str, headcount: int | None, lead_name: str, lead_phone: str | Phone,
                summary: str, drill: bool, time_scale: float | None, lead_lang: str = "zh-CN",
                started_by: str | None = None, incident_id: str | None = None,
                registration: dict | None = None, playbook: Playbook | None = None) -> StartCheck:
    """Every problem with what a hall lead typed, by form field, and the lead's number parsed (its one parse).

    The same rules for the CLI, the console and the API; `started_by` None skips the who-may-start check;
    with a `playbook`, the headcount must be in its `applies.headcount` range.
    """
    problems: dict[str, str] = {}

    def check(field: str, problem: str | None) -> None:
        if problem:
            problems.setdefault(field, problem)

    if directory.hall(hall) is None:
        known = ", ".join(h.id for h in directory.halls)
        check("hall", f"unknown hall {v.shown(hall)}; halls in the directory: {known}")
    check("headcount", v.headcount_problem(headcount))
    if playbook is not None and headcount is not None:
        check("headcount", range_problem(playbook, headcount))
    check("lead_name", v.name_problem(lead_name, "the lead complainant's name"))
    phone, phone_problem = v.checked_phone(lead_phone)
    check("lead_phone", phone_problem)
    check("summary", v.summary_problem(summary))
    check("time_scale", v.time_scale_problem(time_scale, drill))
    if lead_lang not in ("zh-CN", "en"):
        check("lead_lang", f"{v.shown(lead_lang)} is not supported; use zh-CN or en")
    fields = registration or {}
    for field, problem in v.registration_problems(
            **{k: fields.get(k) or "" for k in ("address", "account_no", "category", "demands", "complainant_type")}).items():
        check(field, problem)
    channel = (fields.get("channel") or DEFAULT_CHANNEL).strip()
    check("channel", channel_problem(channel))
    check("ticket_no", ticket_problem(channel, (fields.get("ticket_no") or "").strip()))
    check("feeder", feeder_problem(str(fields.get("feeder") or ""), fields.get("category") or None))
    if incident_id is not None:
        check("incident_id", v.incident_id_problem(incident_id))
    if directory.hall(hall) is not None:
        check("started_by", starter_problem(directory, hall, started_by, playbook))
        check("person_involved", involvement.person_problem(directory, hall, fields.get("person_involved") or "",
                                                            started_by, playbook))
    return StartCheck(problems, phone)


def starter_problem(directory: Directory, hall_id: str, person_id: str | None,
                    playbook: Playbook | None = None) -> str | None:
    """The playbook's `started_by` roles at the hall start it (hall leads when no playbook is chosen yet):
    groupdesk.core.starting's one rule, on the command line as in the console."""
    if person_id is None:
        return f"hall {hall_id} has no hall lead in the directory; add one, then start again"
    started_by = playbook.started_by if playbook is not None else list(DEFAULT_STARTERS)
    return start_refusal(v.shown(person_id), hall_id, playbook.id if playbook else "an incident", started_by,
                         directory.roles_of(hall_id, person_id))


def parse_local_time(raw: str) -> datetime:
    """A time typed by staff; without an offset it is Asia/Shanghai local time."""
    from groupdesk.core.workcal import LOCAL_TZ

    value = datetime.fromisoformat(raw.strip().replace(" ", "T", 1))
    return value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)


def mark_start(settings, start: StartIncident, now: datetime) -> None:
    """Give a start request the period it falls in (unless it has one): the snapshot the incident keeps.
    A calendar that does not load refuses the start (InputError naming the setting), never ignored."""
    if start.sensitive_period is not None or not settings.sensitive_periods:
        return
    try:
        calendar = load_calendar(settings.sensitive_periods, current_directory(settings.directory))
    except (PeriodError, DirectoryError) as exc:
        raise InputError("GROUPDESK_SENSITIVE_PERIODS", str(exc)) from None
    start.sensitive_period = calendar.period_at(start.hall_id, now)
