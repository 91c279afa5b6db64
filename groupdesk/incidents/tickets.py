"""Finding incidents by the work-order number they came in with (`groupdesk list --ticket-no`, the board's search):
running ones through visibility (GroupdeskRepeatKeys holds `ticket:<keyed hash>`), closed ones from the archive."""

from __future__ import annotations

import asyncio

from groupdesk.core import search_attributes as sa
from groupdesk.engine import visibility
from groupdesk.record.query import by_ticket
from groupdesk.record.repeat_keys import ticket_values
from groupdesk.storage import open_database


def ticket_clause(settings, ticket_no: str, channel: str | None = None) -> str:
    """A visibility clause: the incident was registered with this number (of `channel`, or of any channel)."""
    return visibility.any_of(sa.REPEAT_KEYS, ticket_values(settings.hash_key(), ticket_no, channel), "ticket_no")


async def find_by_ticket(gateway, settings, ticket_no: str, channel: str | None = None, *, hall: str | None = None,
                         tier: int | None = None, drill: bool | None = None, stage: str | None = None) -> list[dict]:
    """Every incident registered with this number, closed ones included: Temporal's while it has them, then the
    archive's (one row per incident); only those of `hall`, `tier`, `drill`, `stage` when given."""
    query = visibility.incidents(ticket_clause(settings, ticket_no, channel), running=False)
    keys = [value.split(":", 1)[1] for value in ticket_values(settings.hash_key(), ticket_no, channel)]
    live, archived = await asyncio.gather(gateway.list(query, limit=100),
                                          asyncio.to_thread(by_ticket, open_database(settings), keys))
    seen = {row["id"] for row in live}
    return [row for row in live + [row for row in archived if row["id"] not in seen]
            if (hall is None or row["hall"] == hall) and (tier is None or row["warning_tier"] == tier)
            and (drill is None or row["drill"] == drill) and (stage is None or row["stage"] == stage)]
