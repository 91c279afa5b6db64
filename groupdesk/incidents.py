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
    hall = directory.hall(hall_id)
    if hall is None:
        known = ", ".join(h.id for h in directory.halls)
        raise InputError("--hall", f"unknown hall {hall_id!r}; halls in the directory: {known}")
    if headcount < 2:
        raise InputError("--headcount", f"{headcount} is not a group; a collective complaint has at least 2 people")
    if not lead_name.strip():
        raise InputError("--lead-name", "give the lead complainant's name")
    try:
        phone = normalise_phone(lead_phone)
    except ValueError as exc:
        raise InputError("--lead-phone", str(exc)) from None
    if not summary.strip():
        raise InputError("--summary", "say in a few words what the group complains about")
    if time_scale is not None and not drill:
        raise InputError("--time-scale", "only a drill may run on compressed time; add --drill")
    if time_scale is not None and not 1 <= time_scale <= 1_000_000:
        raise InputError("--time-scale", f"{time_scale} is out of range; give a number from 1 to 1000000")
    if lead_lang not in ("zh-CN", "en"):
        raise InputError("--lead-lang", f"{lead_lang!r} is not supported; use zh-CN or en")
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


def parse_local_time(raw: str) -> datetime:
    """A time typed by staff; without an offset it is Asia/Shanghai local time."""
    from groupdesk.workcal import LOCAL_TZ

    value = datetime.fromisoformat(raw.strip().replace(" ", "T", 1))
    return value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)
