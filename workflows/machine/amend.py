"""Amending the registration (issue 28): the correction, its before/after entry, and what it sets off.

The start and the state both take the new values, so every later message, a hand-over's child and a
continue-as-new see them. Media arriving, or the type becoming `publicity`, sends the publicity alert then;
a headcount outside the playbook's range is kept, and the hall lead is told (a single complaint that became
a group can then be handed over: the `became_group` outcome).
"""

from __future__ import annotations

from datetime import datetime
from types import MappingProxyType

from groupdesk.core.amend import FIELDS, AmendRegistration, shown_value
from groupdesk.core.models import Registration
from workflows.machine import people
from workflows.machine.messages import MessageBuilder
from workflows.machine.record import Record

AMENDED = "registration_amended"  # the timeline entry's kind
OUTSIDE = "outside this playbook's range"  # how the entry says the hall lead was told (the console translates it)

HEADCOUNT_OUTSIDE = MappingProxyType({
    "zh-CN": "登记变更:{{ hall_name }} 事件 {{ incident_id }} 人数已改为 {{ headcount }} 人,超出处置方案"
             "「{{ playbook_title }}」的适用范围({{ headcount_min }}至{{ headcount_max }}人),请确认是否转为相应方案处理。",
    "en": "Registration amended: incident {{ incident_id }} at {{ hall_name }} now has {{ headcount }} people,"
          " outside the range of \"{{ playbook_title }}\" ({{ headcount_min }} to {{ headcount_max }});"
          " decide whether to hand it over.",
})


def current(rec: Record) -> dict[str, object]:
    """The amendable fields as registered now."""
    reg = rec.state.registration
    return {"headcount": rec.state.headcount, "category": reg.category, "complainant_type": reg.complainant_type,
            "address": reg.address, "account_no": reg.account_no, "demands": reg.demands,
            "media_present": reg.media_present, "lead_name": rec.start.lead.name, "lead_phone": rec.start.lead.phone,
            "channel": reg.channel, "ticket_no": reg.ticket_no}


def changes(rec: Record, req: AmendRegistration) -> dict[str, tuple[object, object]]:
    """Field -> (before, after), for the fields the request changes (a value given as it already is: none)."""
    before = current(rec)
    return {name: (before[name], value) for name, value in req.given().items() if before[name] != value}


def amend(rec: Record, req: AmendRegistration, now: datetime) -> None:
    """A validated amendment: the new values, the before/after entry, then the alert and the hall lead's notice."""
    diff = changes(rec, req)
    rec.state.amendments += 1
    number = rec.state.amendments
    after = {name: new for name, (_, new) in diff.items()}
    reg = rec.state.registration.model_copy(update={k: v for k, v in after.items() if k in Registration.model_fields})
    lead = rec.start.lead.model_copy(update={k.removeprefix("lead_"): after[k] for k in ("lead_name", "lead_phone")
                                             if k in after})
    start_update: dict = {"registration": reg, "lead": lead, "headcount": after.get("headcount", rec.state.headcount)}
    if req.keys is not None:  # the phone's hashes come only with a new phone: else the last ones stay
        kept = rec.state.amended_keys
        rec.state.amended_keys = req.keys.model_copy(update={"complainant": req.keys.complainant or (
            kept.complainant if kept else "")})
        if req.keys.follow_up_key:
            start_update["follow_up_key"] = req.keys.follow_up_key
    rec.start = rec.start.model_copy(update=start_update)
    rec.state.registration, rec.state.headcount = reg, start_update["headcount"]
    rec.messages = MessageBuilder(rec.start, rec.state)
    words = "; ".join(f"{name}: {shown_value(name, old)} -> {shown_value(name, new)}"
                      for name, (old, new) in ((n, diff[n]) for n in FIELDS if n in diff))
    span = rec.pb.applies.headcount
    outside = "headcount" in diff and not span.min <= rec.state.headcount <= span.max
    if outside:
        words += f"; {OUTSIDE} ({span}): the hall lead is told"
    rec.log(now, AMENDED, actor=req.actor, detail=f"{words} — {req.reason.strip()}")
    media_arrived = diff.get("media_present", (None, False))[1] is True
    became_publicity = diff.get("complainant_type", (None, None))[1] == "publicity"
    if media_arrived or became_publicity:
        people.alert_publicity(rec, now, discriminator=f"alert-a{number}")
    if outside:
        rec.effects.append(rec.messages.inline("headcount_outside", ["hall_lead"], f"amend{number}",
                                               HEADCOUNT_OUTSIDE, {"headcount_min": span.min,
                                                                     "headcount_max": span.max}))
