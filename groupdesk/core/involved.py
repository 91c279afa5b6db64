"""更换当事人: the staff member a complaint is about neither acts on it nor owns it. Pure rules, shared by the
gateway (permissions), the workflow's validators and the SMS activity, so all three give one answer.

`holders` is who holds each role at the hall (the directory now, or the roster at start): role -> person ids.
`chain` is the playbook's escalation chain: role -> the role above it.
"""

from __future__ import annotations

from groupdesk.core.models import Registration

PUBLICITY_ROLES = ("centre_director", "publicity_office")  # told at once when the media may report it


def ladder(chain: dict[str, str], role: str) -> list[str]:
    """The roles above `role`, nearest first (a loop in the chain stops the walk)."""
    found, seen = [], {role}
    while (role := chain.get(role, "")) and role not in seen:
        found.append(role)
        seen.add(role)
    return found


def others(holders: dict[str, list[str]], role: str, person: str) -> list[str]:
    return [pid for pid in holders.get(role, []) if pid != person]


def stand_ins(holders: dict[str, list[str]], person: str, chain: dict[str, str]) -> dict[str, str]:
    """For each role only the person involved holds: the first role up the chain that someone else holds."""
    if not person:
        return {}
    found = {}
    for role, ids in holders.items():
        if person in ids and not others(holders, role, person):
            up = next((r for r in ladder(chain, role) if others(holders, r, person)), None)
            if up:
                found[role] = up
    return found


def acting_roles(roles: list[str] | set[str], holders: dict[str, list[str]], person: str,
                 chain: dict[str, str]) -> list[str]:
    """The roles someone acts in at this incident: their own, and those they stand in for."""
    mine = set(roles)
    return sorted(mine | {role for role, up in stand_ins(holders, person, chain).items() if up in mine})


def recipients(role: str, holders: dict[str, list[str]], person: str, chain: dict[str, str]) -> list[str]:
    """Who receives a message meant for `role`: its holders but the person involved, else the next role up."""
    if not person or person not in holders.get(role, []):
        return list(holders.get(role, []))
    if found := others(holders, role, person):
        return found
    up = stand_ins(holders, person, chain).get(role)
    return others(holders, up, person) if up else []


def senior_owner(holders: dict[str, list[str]], chain: dict[str, str], person: str, starter: str) -> str:
    """Who owns a complaint about `person`: the starter if they stand above every role the person holds,
    else the first holder up the chain from the person's highest role (never the person)."""
    theirs = [role for role, ids in holders.items() if person and person in ids]
    if not theirs:
        return starter
    above = set.intersection(*(set(ladder(chain, role)) for role in theirs))
    mine = {role for role, ids in holders.items() if starter in ids}
    if mine & above:
        return starter
    highest = min(theirs, key=lambda role: len(ladder(chain, role)))
    return next((others(holders, r, person)[0] for r in ladder(chain, highest) if others(holders, r, person)),
                starter)


def refusal(person: str, doing: str) -> str:
    """The one line the person involved reads when they try to act on the complaint about them."""
    return (f"{person!r} may not {doing}: this complaint is about them (更换当事人); the next holder of the role,"
            " or the role above, handles it")


def needs_publicity_alert(registration: Registration) -> bool:
    """A group out for publicity, or media present: the director and the publicity office hear at once."""
    return registration.complainant_type == "publicity" or registration.media_present


def type_scripts(step, complainant_type: str | None, lang: str) -> list[str]:
    """The extra 话术 a step has for this kind of complainant, in `lang` (else the first language given)."""
    by_lang = step.scripts_by_complainant_type.get(complainant_type or "", {})
    return list(by_lang.get(lang) or next(iter(by_lang.values()), []))
