"""Who may start (register) an incident: the playbook's `started_by` roles at the hall. One rule, used by the
gateway (CLI, API, console), the start form and the registration checks, so all of them say the same."""

from __future__ import annotations

from collections.abc import Iterable

from groupdesk.core.roles import role_label

DEFAULT_STARTERS: tuple[str, ...] = ("hall_lead",)  # a playbook that names no `started_by`
# How a playbook's incidents are owned from the start (首问负责制):
#   first_receiver: whoever registered it (a single or attitude complaint);
#   duty_lead: the starter when a hall lead, else the hall's duty lead, who is texted at once (group incidents).
OWNERSHIPS: tuple[str, ...] = ("first_receiver", "duty_lead")


def may_start(roles: Iterable[str], started_by: Iterable[str]) -> bool:
    return bool(set(roles) & set(started_by))


def start_refusal(person: str, hall_id: str, playbook_id: str, started_by: Iterable[str],
                  roles: Iterable[str]) -> str | None:
    """None when `person` (holding `roles` at the hall) may start the playbook; else the one line saying who may."""
    allowed = list(started_by)
    if may_start(roles, allowed):
        return None
    names = ", ".join(f"{r} ({role_label(r)})" for r in allowed)
    return f"{person} may not start {playbook_id} at hall {hall_id}: it is started by {names}"


def owned_by_duty_lead(ownership: str, starter_roles: Iterable[str]) -> bool:
    """A group incident registered by someone who is not a hall lead is owned by the hall's duty lead."""
    return ownership == "duty_lead" and "hall_lead" not in set(starter_roles)
