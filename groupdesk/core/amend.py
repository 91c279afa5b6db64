"""Amending a registration (issue 28): the request, its bounds, the before/after words, and who may amend.

The headcount grows, a journalist arrives, the 户号 was misheard, the complainant turns out another type: the
owner, the hall lead or the centre director corrects what was registered. Every field is optional; None leaves
it as it is. The keyed hashes the correction re-publishes (the complainant, the repeat keys, the follow-up key)
are made by the client (groupdesk.incidents.amend), never in workflow code.
"""

from __future__ import annotations

from pydantic import BaseModel

from groupdesk.core import validation as v
from groupdesk.core.intake import channel_problem, search_problem, ticket_problem
from groupdesk.core.phones import E164
from groupdesk.core.models import AmendKeys, Category, ComplainantType, CurrentRoles, Registration
from groupdesk.core.tell import may_tell

REASON_MAX = 200
# The amendable fields, in the order the timeline names them; `lead_name` and `lead_phone` are the complainant's.
FIELDS = ("headcount", "category", "complainant_type", "address", "account_no", "demands", "media_present",
          "lead_name", "lead_phone", "channel", "ticket_no")


class AmendRegistration(BaseModel):
    """A correction of what was registered, with the reason; None: that field stays as it is."""

    actor: str
    reason: str
    headcount: int | None = None
    category: Category | None = None
    complainant_type: ComplainantType | None = None
    address: str | None = None
    account_no: str | None = None
    demands: str | None = None
    media_present: bool | None = None
    lead_name: str | None = None
    lead_phone: str | None = None  # E.164 (the client normalises what was typed)
    channel: str | None = None  # how it came in (groupdesk.core.intake)
    ticket_no: str | None = None  # its work-order number ("" removes it)
    keys: AmendKeys | None = None  # given by the gateway; requests sent straight to Temporal keep the old keys
    roles: CurrentRoles = None

    def given(self) -> dict[str, object]:
        """The fields this request sets, by name."""
        return {name: value for name in FIELDS if (value := getattr(self, name)) is not None}


def may_amend(actor: str, owner: str | None, roles) -> bool:
    """The owner, a hall lead or the centre director corrects the registration (the same people who speak for
    the company to the complainant: groupdesk.core.tell.may_tell)."""
    return may_tell(actor, owner, roles)


def amend_refusal(actor: str, incident_id: str, owner: str | None) -> str:
    return (f"{actor} may not amend the registration of {incident_id}: only its owner ({owner or '-'}),"
            f" the hall lead or the centre director may")


def amend_problems(req: AmendRegistration) -> dict[str, str]:
    """Every problem of an amendment as given, by field (the gateway and the workflow's validator say the same)."""
    problems: dict[str, str] = {}
    if problem := v.text_problem(req.reason, REASON_MAX, one_line=True,
                                 required="say why the registration changes (at most 200 characters)"):
        problems["reason"] = problem
    if not req.given():
        problems.setdefault("registration", "nothing to amend; give at least one field to change, like"
                                            " --headcount 12 or --media")
    if req.headcount is not None and (problem := v.headcount_problem(req.headcount)):
        problems["headcount"] = problem
    for field, problem in v.registration_problems(
            address=req.address or "", account_no=req.account_no or "", demands=req.demands or "").items():
        problems[field] = problem
    if req.lead_name is not None and (problem := v.name_problem(req.lead_name, "the lead complainant's name")):
        problems["lead_name"] = problem
    if req.channel is not None and (problem := channel_problem(req.channel)):
        problems["channel"] = problem
    if req.ticket_no and (problem := (ticket_problem(req.channel, req.ticket_no) if req.channel
                                      else search_problem(req.ticket_no))):
        problems["ticket_no"] = problem
    if req.lead_phone is not None and not E164.match(req.lead_phone):
        problems["lead_phone"] = f"{v.shown(req.lead_phone)} is not a phone number; write it like +86 139 0000 0001"
    return problems


def amended_ticket_problem(req: AmendRegistration, registered: Registration) -> str | None:
    """The work-order number as it will stand, against the channel as it will stand (a new channel checks the
    number kept, a new number the channel kept): the one table of groupdesk.core.intake."""
    if req.channel is None and req.ticket_no is None:
        return None
    channel = req.channel if req.channel is not None else registered.channel
    return ticket_problem(channel, req.ticket_no if req.ticket_no is not None else registered.ticket_no)


def shown_value(field: str, value: object) -> str:
    """A field's value as the timeline says it: the complainant's phone and name masked, empty as '-'."""
    if value is None or value == "":
        return "-"
    if field == "lead_phone":
        return "…" + str(value)[-4:]  # 尾号 only: the full number never reaches the timeline
    if field == "lead_name":
        text = str(value)
        return text[0] + "*" * max(1, min(len(text) - 1, 3))
    if field == "media_present":
        return "yes" if value else "no"
    if field == "account_no":
        text = str(value)
        return "*" * max(0, len(text) - 4) + text[-4:]
    return str(value)
