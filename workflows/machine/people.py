"""The publicity alert (seed 003): a group out for publicity, or media present, is told upward at once.

The centre director and the publicity office hear of it at the start. Pure, like the rest of the machine."""

from __future__ import annotations

from datetime import datetime

from groupdesk.core.involved import PUBLICITY_ROLES, needs_publicity_alert
from workflows.machine.record import Record


def alert_publicity(rec: Record, now: datetime, discriminator: str = "alert") -> bool:
    """On the timeline and by SMS (one message per person); False when the registration does not call for it.
    At the start, or again when an amendment brings media or the type `publicity` (its own `discriminator`)."""
    registration = rec.start.registration
    if not needs_publicity_alert(registration):
        return False
    why = "media present" if registration.media_present else "complainant type: publicity"
    rec.log(now, "publicity_alert", detail=f"{why}; told {', '.join(PUBLICITY_ROLES)}")
    rec.effects.append(rec.messages.publicity_alert(list(PUBLICITY_ROLES), discriminator))
    return True
