"""Amending a registration from the client side: what was typed made an AmendRegistration (one InputError naming
the field), the role rule before the workflow's validator, and the keyed hashes the correction re-publishes."""

from __future__ import annotations

from groupdesk.core import validation as v
from groupdesk.core.amend import AmendRegistration, amend_problems, amended_ticket_problem
from groupdesk.core.models import Ack, AmendKeys, IncidentState, Registration
from groupdesk.core.validation import InputError
from groupdesk.people.permissions import Viewer, require, require_uninvolved


def prepare_amend(actor: str, reason: str, *, headcount: int | None = None, category: str | None = None,
                  complainant_type: str | None = None, address: str | None = None, account_no: str | None = None,
                  demands: str | None = None, media_present: bool | None = None, lead_name: str | None = None,
                  lead_phone: str | None = None, channel: str | None = None,
                  ticket_no: str | None = None) -> AmendRegistration:
    """The amendment as typed, checked (InputError naming the first wrong field; nothing is sent). None: left as
    it is; the phone is normalised (E.164), text kept as NFC and trimmed."""
    phone, phone_problem = v.checked_phone(lead_phone) if lead_phone is not None else (None, None)
    for field, problem in (("category", v.choice_problem(category, v.CATEGORIES, "complaint category")),
                           ("complainant_type", v.choice_problem(complainant_type, v.COMPLAINANT_TYPES,
                                                                 "complainant type")),
                           ("lead_phone", phone_problem)):  # the new number's one parse: its problem, or `phone`
        if problem:
            raise InputError(field, problem)

    def text(value: str | None) -> str | None:
        return None if value is None else v.normal_text(value).strip()

    req = AmendRegistration(
        actor=actor, reason=text(reason) or "", headcount=headcount, category=category or None,
        complainant_type=complainant_type or None, address=text(address),
        account_no=None if account_no is None else account_no.strip(), demands=text(demands),
        media_present=media_present, lead_name=text(lead_name), lead_phone=phone,
        channel=None if channel is None else channel.strip(), ticket_no=None if ticket_no is None else ticket_no.strip())
    for field, problem in amend_problems(req).items():
        raise InputError(field, problem)
    return req


def amend_keys(hash_key: bytes, state: IncidentState, req: AmendRegistration) -> AmendKeys:
    """The keyed hashes of the registration as amended: the repeat keys (account number, community, work order) always, the
    complainant's and the follow-up key only with a new phone (the old number is never needed)."""
    from groupdesk.record.repeat_keys import complainant_key, registration_keys, search_values
    from groupdesk.runtime.keyed import follow_up_key

    reg = state.registration.model_copy(update={k: v for k, v in req.given().items() if k in Registration.model_fields})
    from groupdesk.core import lines

    # 频繁停电: the line (never amended) stays among the keys, so the line count still finds the incident
    keys = AmendKeys(repeat_keys=search_values(registration_keys(hash_key, "", reg)) + lines.search_values(reg.feeder))
    if req.lead_phone is not None:
        keys.complainant = complainant_key(hash_key, req.lead_phone)
        keys.follow_up_key = follow_up_key(hash_key, req.lead_phone)
    return keys


class AmendGateway:
    """Mixed into `groupdesk.incidents.gateway.Gateway` (needs `incident`, `view`, `_acting` and `settings`)."""

    async def amend_registration(self, viewer: Viewer, incident_id: str, req: AmendRegistration) -> Ack:
        """Correct the registration: the owner, the hall lead or the centre director; the workflow re-publishes
        the keys that find the incident (a corrected 户号 re-keys its repeat key)."""
        state, playbook = await self.view(viewer, incident_id)
        require_uninvolved(viewer, state, f"amend the registration of {incident_id}")
        roles = self._acting(viewer, state, playbook)
        require(viewer.may_amend(state, roles), viewer.amend_refusal(state))
        if problem := amended_ticket_problem(req, state.registration):  # the number against the channel kept
            raise InputError("ticket_no", problem)
        keys = amend_keys(self.settings.hash_key(), state, req)
        return await self.incident(incident_id).amend_registration(
            req.model_copy(update={"actor": viewer.id, "roles": roles, "keys": keys}))
