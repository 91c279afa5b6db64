"""The search attributes an incident starts with, so the board lists it before its first workflow task runs."""

from __future__ import annotations

from temporalio.common import SearchAttributePair, TypedSearchAttributes

from groupdesk.record.repeat_keys import complainant_key, search_values, start_keys
from groupdesk.runtime.config import Settings
from groupdesk.core import search_attributes as sa
from groupdesk.core.models import StartIncident


def start_attributes(settings: Settings, start: StartIncident) -> TypedSearchAttributes:
    """Status, stage, hall, playbook and the keyed complainant and repeat keys (never a phone number)."""
    return TypedSearchAttributes([
        SearchAttributePair(sa.STATUS, "open"),
        SearchAttributePair(sa.STAGE, "+".join(start.playbook.start)),
        SearchAttributePair(sa.CURRENT_STEPS, list(start.playbook.start)),
        SearchAttributePair(sa.WARNING_TIER, 0),
        SearchAttributePair(sa.HALL, start.hall_id),
        SearchAttributePair(sa.PLAYBOOK, start.playbook.id),
        SearchAttributePair(sa.HEADCOUNT, start.headcount),
        SearchAttributePair(sa.DRILL, start.drill),
        SearchAttributePair(sa.COMPLAINANT, complainant_key(settings.hash_key(), start.lead.phone)),
    ] + ([SearchAttributePair(sa.REPEAT_OF, start.repeat_of)] if start.repeat_of else [])
      + ([SearchAttributePair(sa.SENSITIVE_PERIOD, start.sensitive_period.name)] if start.sensitive_period else [])
      + ([SearchAttributePair(sa.REPEAT_KEYS, matched)] if (matched := repeat_values(settings, start)) else []))


def repeat_values(settings: Settings, start: StartIncident) -> list[str]:
    """GroupdeskRepeatKeys: the keyed account and community, and an outage incident's line (`feeder:<line>`, a name,
    not a secret: 频繁停电 counts the open incidents on it)."""
    from groupdesk.core import lines

    return search_values(start_keys(settings.hash_key(), start)) + lines.search_values(start.registration.feeder)
