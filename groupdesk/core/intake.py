"""How a complaint came in (受理渠道) and its work-order number from that channel: one table, checked by every door
(the CLI, the API, the console's form, the workflow's registration), so each says the same."""

from __future__ import annotations

import re
from types import MappingProxyType

from groupdesk.core import validation as v

DEFAULT_CHANNEL = "visit"
_HOTLINE = re.compile(r"[0-9]{8,24}")
_REFERENCE = re.compile(r"[A-Za-z0-9-]{1,40}")
_HOTLINE_RULE = "8 to 24 digits"
_REFERENCE_RULE = "1 to 40 letters, digits and '-'"

# channel -> (zh-CN, en, the pattern of its ticket numbers, the rule in words)
CHANNELS = MappingProxyType({
    "visit": ("来访", "walk-in", _REFERENCE, _REFERENCE_RULE),
    "hotline_95598": ("95598", "95598 hotline", _HOTLINE, _HOTLINE_RULE),
    "regulator_12398": ("12398", "12398 energy regulator line", _HOTLINE, _HOTLINE_RULE),
    "gov_12345": ("12345", "12345 government hotline", _HOTLINE, _HOTLINE_RULE),
    "letter": ("信函", "letter", _REFERENCE, _REFERENCE_RULE),
    "website": ("网站", "website", _REFERENCE, _REFERENCE_RULE),
    "wechat": ("微信", "WeChat", _REFERENCE, _REFERENCE_RULE),
    "referral": ("上级转办", "referred from above", _REFERENCE, _REFERENCE_RULE),
})
CHANNEL_IDS: tuple[str, ...] = tuple(CHANNELS)


def channel_label(channel: str, lang: str = "zh-CN") -> str:
    found = CHANNELS.get(channel)
    return (found[0] if lang == "zh-CN" else found[1]) if found else channel


def channel_problem(channel: str) -> str | None:
    if channel not in CHANNELS:
        return f"{v.shown(channel)} is not a channel; use one of {', '.join(CHANNEL_IDS)}"
    return None


def ticket_problem(channel: str, ticket_no: str) -> str | None:
    """The work-order number as its channel writes them ("" is none: optional)."""
    if not ticket_no or channel not in CHANNELS:
        return None
    _, _, pattern, rule = CHANNELS[channel]
    if not pattern.fullmatch(ticket_no):
        return f"{v.shown(ticket_no)} is not a {channel} number; give {rule}"
    return None


def ticket_key_text(channel: str, ticket_no: str) -> str:
    """What the keyed hash of a ticket covers: the channel and the number (letters in one case)."""
    return f"{channel}:{ticket_no.strip().upper()}"


def search_problem(ticket_no: str, channel: str | None = None) -> str | None:
    """A number to look up (list --ticket-no, the board's search): as its channel writes them, or as any does."""
    if channel:
        return channel_problem(channel) or ticket_problem(channel, ticket_no) or \
            (None if ticket_no else "give the work-order number to find")
    if not _REFERENCE.fullmatch(ticket_no or ""):
        return f"{v.shown(ticket_no)} is not a work-order number; give {_REFERENCE_RULE}"
    return None


def search_fields_problem(ticket_no: str | None, channel: str | None,
                          ticket_field: str = "ticket_no") -> tuple[str, str] | None:
    """A search by work-order number (`groupdesk list --ticket-no`, GET /api/incidents?ticket_no=): the field that
    is wrong, `channel` or `ticket_no`, and why (a channel alone finds nothing: it narrows a number)."""
    if ticket_no is None:
        return None if channel is None else ("channel", f"give it with {ticket_field} (the channel whose number to find)")
    if problem := search_problem(ticket_no.strip(), channel):
        return ("channel" if channel and channel_problem(channel) else "ticket_no"), problem
    return None
