"""At the start, who must hear of it at once: the publicity alert (seed 003: a group out for publicity, or media
present: the centre director and the publicity office) and the duty lead who owns a group incident someone else
registered (首问负责制). Pure, like the rest of the machine."""

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


def tell_duty_lead(rec: Record, now: datetime) -> bool:
    """A group playbook (`owned_by: duty_lead`) registered by someone else: its owner, the hall's duty lead, is
    texted who registered what (purpose registered_by_other); False when the starter owns it."""
    start = rec.start
    if start.playbook.owned_by != "duty_lead" or not start.owner or start.owner == start.started_by \
            or start.parent is not None:
        return False
    theirs = [role for role, staff in start.roster.items() if any(s.id == start.started_by for s in staff)]
    role = next((r for r in start.playbook.started_by if r in theirs), theirs[0] if theirs else "")
    rec.log(now, "registered_by_other", actor=start.started_by, detail=f"owned by the duty lead {start.owner}")
    rec.effects.append(rec.messages.registered_by_other(role))
    return True
