"""Turning what a hall lead types into a valid StartIncident, or an error naming the field."""

from __future__ import annotations

from datetime import datetime

from groupdesk.directory import Directory, normalise_phone
from groupdesk.models import Complainant, StartIncident
from groupdesk.playbook import Playbook


class InputError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def prepare_start(
    *,
    directory: Directory,
    playbook: Playbook,
    hall_id: str,
    headcount: int,
    lead_name: str,
    lead_phone: str,
    summary: str,
    started_by: str | None,
    incident_id: str,
    drill: bool = False,
    time_scale: float | None = None,
    lead_lang: str = "zh-CN",
    history_budget: int = 2000,
) -> StartIncident:
    problems = start_problems(directory, hall_id, headcount, lead_name, lead_phone, summary, drill, time_scale,
                              lead_lang)
    if problems:
        field, message = next(iter(problems.items()))
        raise InputError(field, message)
    hall = directory.hall(hall_id)
    phone = normalise_phone(lead_phone)
    leads = directory.staff(hall_id, "hall_lead")
    if started_by is None:
        if not leads:
            raise InputError("--as", f"hall {hall_id} has no hall lead in the directory; name who starts it with --as")
        started_by = leads[0].id
    elif not directory.roles_of(hall_id, started_by):
        raise InputError("--as", f"{started_by!r} holds no role at hall {hall_id}; see `groupdesk directory`")
    return StartIncident(
        incident_id=incident_id, playbook=playbook, hall_id=hall.id, hall_name=hall.name,
        hall_name_en=hall.name_en, roster=directory.roster(hall_id), headcount=headcount,
        lead=Complainant(name=lead_name.strip(), phone=phone, lang=lead_lang), summary=summary.strip(),
        started_by=started_by, drill=drill, time_scale=time_scale or 1.0, history_budget=history_budget,
    )


def start_problems(directory: Directory, hall_id: str, headcount: int | None, lead_name: str, lead_phone: str,
                   summary: str, drill: bool, time_scale: float | None, lead_lang: str = "zh-CN") -> dict[str, str]:
    """Every problem with what a hall lead typed, by field (empty when all is well)."""
    problems: dict[str, str] = {}
    if directory.hall(hall_id) is None:
        known = ", ".join(h.id for h in directory.halls)
        problems["--hall"] = f"unknown hall {hall_id!r}; halls in the directory: {known}"
    if headcount is None:
        problems["--headcount"] = "give the number of people who came (at least 2)"
    elif headcount < 2:
        problems["--headcount"] = f"{headcount} is not a group; a collective complaint has at least 2 people"
    if not lead_name.strip():
        problems["--lead-name"] = "give the lead complainant's name"
    try:
        normalise_phone(lead_phone)
    except ValueError as exc:
        problems["--lead-phone"] = str(exc)
    if not summary.strip():
        problems["--summary"] = "say in a few words what the group complains about"
    if time_scale is not None and not drill:
        problems["--time-scale"] = "only a drill may run on compressed time; add --drill"
    elif time_scale is not None and not 1 <= time_scale <= 1_000_000:
        problems["--time-scale"] = f"{time_scale} is out of range; give a number from 1 to 1000000"
    if lead_lang not in ("zh-CN", "en"):
        problems["--lead-lang"] = f"{lead_lang!r} is not supported; use zh-CN or en"
    return problems


def parse_local_time(raw: str) -> datetime:
    """A time typed by staff; without an offset it is Asia/Shanghai local time."""
    from groupdesk.workcal import LOCAL_TZ

    value = datetime.fromisoformat(raw.strip().replace(" ", "T", 1))
    return value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)
