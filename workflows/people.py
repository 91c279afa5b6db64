"""What the registration asks of the workflow at the start (seed 003): a group out for publicity, or media
present, is told at once to the centre director and the publicity office. Pure, like the machine."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from groupdesk.core.involved import PUBLICITY_ROLES, needs_publicity_alert

if TYPE_CHECKING:
    from workflows.incident_machine import IncidentMachine


def alert_publicity(machine: IncidentMachine, now: datetime) -> bool:
    """On the timeline and by SMS (one message per person); False when the registration does not call for it."""
    registration = machine.start.registration
    if not needs_publicity_alert(registration):
        return False
    why = "media present" if registration.media_present else "complainant type: publicity"
    machine.log(now, "publicity_alert", detail=f"{why}; told {', '.join(PUBLICITY_ROLES)}")
    machine.effects.append(machine.messages.publicity_alert(list(PUBLICITY_ROLES)))
    return True
