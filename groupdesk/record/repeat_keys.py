"""What makes a complaint a repeat (issue 16): the same complainant (phone), the same account number (户号) or
the same community, each known only by a keyed hash (HMAC, GROUPDESK_HASH_KEY), never in clear.

A community is the registered address cut after its first community word (小区, 社区, 花园, ...), so
"阳光花园5栋" and "阳光花园 3号楼 2单元" are one community; an address without such a word is compared whole.
"""

from __future__ import annotations

import re
import unicodedata

from groupdesk.core.intake import CHANNEL_IDS, DEFAULT_CHANNEL, ticket_key_text
from groupdesk.core.models import Registration, StartIncident
from groupdesk.runtime.keyed import keyed

COMMUNITY_WORDS = ("小区", "社区", "花园", "家园", "新村", "公寓", "大院", "宿舍", "园区", "苑", "村")
_ADMIN = re.compile(r"^(?:[^省市]{2,8}省|[^市]{2,8}市|[^区县]{2,8}?[区县])")  # 北京市, 西城区: not the community
_NOISE = re.compile(r"[\s,.;:·,。;:、()()\[\]【】_#-]+")


def normalised_address(address: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", address or "").lower())


def community_of(address: str) -> str:
    """The community an address names ("" if none was registered), without the city or district before it."""
    text = normalised_address(address)
    ends = [text.find(word) + len(word) for word in COMMUNITY_WORDS if text.find(word) > 0]
    if not ends:
        return text
    community = text[:min(ends)]
    while (admin := _ADMIN.match(community)) and _names_community(community[admin.end():]):
        community = community[admin.end():]
    return community


def _names_community(text: str) -> bool:
    return text not in COMMUNITY_WORDS and any(word in text for word in COMMUNITY_WORDS)


def account_of(account_no: str) -> str:
    return re.sub(r"[\s-]", "", account_no or "")


def complainant_key(key: bytes, phone: str) -> str:
    """Who complained, as the archive and the repeat check know them: a keyed hash of the phone."""
    return keyed(key, "complainant", phone)


def ticket_key(key: bytes, channel: str, ticket_no: str) -> str:
    """A work order as the repeat check and `list --ticket-no` find it: a keyed hash of channel and number."""
    return keyed(key, "ticket", ticket_key_text(channel, ticket_no))


def ticket_values(key: bytes, ticket_no: str, channel: str | None = None) -> list[str]:
    """The GroupdeskRepeatKeys values a work-order number may have been published as: of `channel`, or of any."""
    return [f"ticket:{ticket_key(key, c, ticket_no)}" for c in ([channel] if channel else CHANNEL_IDS)]


def match_keys(key: bytes, phone: str, account_no: str = "", address: str = "", channel: str = "",
               ticket_no: str = "") -> dict[str, str]:
    """Reason -> keyed hash, for what this start registered (the phone always; the others when given)."""
    found = {"same_complainant": complainant_key(key, phone)}
    if ticket_no.strip():
        found["same_ticket"] = ticket_key(key, channel or DEFAULT_CHANNEL, ticket_no)
    if account := account_of(account_no):
        found["same_account"] = keyed(key, "account-no", account)
    if community := community_of(address):
        found["same_community"] = keyed(key, "community", community)
    return found


def search_values(keys: dict[str, str]) -> list[str]:
    """The values of GroupdeskRepeatKeys (account, community and ticket, each prefixed: `ticket:<hash>`; the phone
    has its own attribute)."""
    return [f"{reason.removeprefix('same_')}:{value}" for reason, value in keys.items() if reason != "same_complainant"]


def registration_keys(key: bytes, phone: str, reg: Registration) -> dict[str, str]:
    """Reason -> keyed hash of a registration: the phone, and the account number, the community and the channel's
    work-order number (at a start, and again for an amended registration)."""
    return match_keys(key, phone, reg.account_no, reg.address, reg.channel, reg.ticket_no)


def start_keys(key: bytes, start: StartIncident) -> dict[str, str]:
    """Reason -> keyed hash of what this start registered: the phone, and the account number and community."""
    return registration_keys(key, start.lead.phone, start.registration)
