"""Promises (合理承诺,有诺必行; 约定反馈时间): the machine's changes to them, their timers and their messages.

Pure like the rest of the machine (given `now`, effects appended to the record's `effects`).
A promise is made at any step, with an owner (a staff member) and a due time. Its owner is reminded
when 80 % of the time from promising to due has passed; at the due time an unkept promise is missed:
its owner is told, and the playbook's escalation ladder from the owner's role is climbed, the first
rung at once, each next one a `grace` later. Keeping it tells whom it was made to; so does changing
its due time (re-promising). Open or missed promises keep the incident from closing until they are
kept or the centre director waives them, with a reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from groupdesk.core.models import Deadline, SendMessages
from groupdesk.core.promise_models import UNRESOLVED, Promise, PromiseChange, parse_due
from groupdesk.core.roles import LEAD_COMPLAINANT, PERSON_PREFIX
from workflows.machine.record import Due, Record, ResolveWorkingDays

REMIND_AT = 0.8  # the owner is reminded when this share of the time from promising to due has passed

REMINDER = MappingProxyType({
    "zh-CN": "承诺提醒 {{ recipient_name }}:事件 {{ incident_id }} 中承诺「{{ what }}」将于 {{ deadline }} 到期,"
             "请按时兑现并记录。{{ hall_name }}",
    "en": "Promise reminder {{ recipient_name }}: \"{{ what }}\" (incident {{ incident_id }}) is due at "
          "{{ deadline }}; keep it and record it. {{ hall_name }}",
})
MISSED = MappingProxyType({
    "zh-CN": "承诺逾期 {{ recipient_name }}:{{ hall_name }} 事件 {{ incident_id }} 中 {{ owner_name }} 承诺的"
             "「{{ what }}」已于 {{ deadline }} 到期未兑现,请督办。",
    "en": "Promise missed {{ recipient_name }}: \"{{ what }}\" promised by {{ owner_name }} at {{ hall_name }}"
          " (incident {{ incident_id }}) was due at {{ deadline }} and is not kept; please follow it up.",
})
KEPT = MappingProxyType({
    "zh-CN": "{{ hall_name }}:您好,我们承诺的「{{ what }}」已兑现。{{ note }}",
    "en": "{{ hall_name }}: what we promised, \"{{ what }}\", is done. {{ note }}",
})
CHANGED = MappingProxyType({  # a re-promise names the old time and the new
    "zh-CN": "{{ hall_name }}:您好,我们承诺的「{{ what }}」时间由 {{ previous_at }} 调整为 {{ deadline }}。"
             "原因:{{ note }}",
    "en": "{{ hall_name }}: what we promised, \"{{ what }}\", moves from {{ previous_at }} to {{ deadline }}."
          " Reason: {{ note }}",
})


def recipient(to: str) -> str:
    """Whom a promise is made to, as a message recipient: the lead complainant, or one staff member."""
    return to if to == LEAD_COMPLAINANT else PERSON_PREFIX + to


def unresolved(rec: Record) -> list[Promise]:
    return [p for p in rec.state.promises if p.status in UNRESOLVED]


def ladder(rec: Record, p: Promise) -> list[tuple[datetime, str]]:
    """(when, role) of each escalation rung of a missed promise: the first at its due time, then each grace."""
    if p.due_at is None or not p.owner_role:
        return []
    grace = rec.deadline_delta(rec.pb.escalation.grace)  # shorter in a sensitive period, as for steps
    return [(p.due_at + grace * level, role) for level, role in enumerate(rec.pb.escalation.above(p.owner_role))]


def due(rec: Record, now: datetime) -> list[Due]:
    """Promise timers due at `now`: reminders, then misses, then escalation rungs."""
    found = []
    for p in rec.state.promises:
        if p.status not in UNRESOLVED or p.due_at is None:
            continue
        if p.status == "open" and now >= p.due_at:
            found.append(Due("promise_missed", p.step, promise=p.id))
        elif p.status == "open" and not p.reminded and p.remind_at and now >= p.remind_at:
            found.append(Due("promise_reminder", p.step, promise=p.id))
        for level, (at, role) in enumerate(ladder(rec, p), start=1):
            if level > p.escalation_level and now >= at:
                found.append(Due("promise_escalation", p.step, level=level, role=role, promise=p.id))
    return found


def upcoming(rec: Record) -> list:
    """The next timer of each unresolved promise (`Deadline`s, for `show`, the board and the sleep)."""
    found = []
    for p in rec.state.promises:
        if p.status not in UNRESOLVED or p.due_at is None:
            continue
        if p.status == "open" and not p.reminded and p.remind_at and p.remind_at < p.due_at:
            found.append(Deadline(kind="promise_reminder", step=p.step, due_at=p.remind_at, role=p.owner,
                                  promise=p.id))
        elif p.status == "open":
            found.append(Deadline(kind="promise_due", step=p.step, due_at=p.due_at, role=p.owner, promise=p.id))
        rungs = [(level, at, role) for level, (at, role) in enumerate(ladder(rec, p), start=1)
                 if level > p.escalation_level]
        if p.status == "missed" and rungs:
            level, at, role = rungs[0]
            found.append(Deadline(kind="promise_escalation", step=p.step, due_at=at, role=role, promise=p.id))
    return found


def change_promises(rec: Record, req: PromiseChange, now: datetime) -> str:
    """A validated change to the promises; returns the id of the promise made or changed."""
    if req.kind == "add":
        return _make_promise(rec, req, now)
    if req.kind == "waive":
        targets = [promise(rec, req.promise)] if req.promise else unresolved(rec)
        for p in targets:
            p.status, p.resolved_by, p.resolved_at, p.note = "waived", req.actor, now, req.note.strip()
            rec.log(now, "promise_waived", p.step, req.actor, detail=f"{p.id}: {p.note}")
        return req.promise
    p = promise(rec, req.promise)
    if req.kind == "kept":
        p.status, p.resolved_by, p.resolved_at, p.note = "kept", req.actor, now, req.note.strip()
        late = " (late)" if p.missed_at else ""
        rec.log(now, "promise_kept", p.step, req.actor, detail=f"{p.id}{late}: {p.what}"
                + (f" — {p.note}" if p.note else ""))
        rec.effects.append(_promise_message(rec, p, "promise_kept", [recipient(p.to)], p.id, KEPT, {"note": p.note}))
        return p.id
    before = p.due_at.isoformat() if p.due_at else p.due
    p.previous_due_at = p.due_at
    p.due, p.due_at, p.remind_at, p.reminded = req.due, None, None, False
    p.status, p.escalation_level, p.changes = "open", 0, p.changes + 1
    rec.log(now, "promise_changed", p.step, req.actor, detail=f"{p.id}: {before} -> {req.due}: {req.note.strip()}")
    _schedule_promise(rec, p, now, req.note.strip())
    return p.id


def promise(rec: Record, promise_id: str) -> Promise:
    return next(p for p in rec.state.promises if p.id == promise_id)


def _make_promise(rec: Record, req: PromiseChange, now: datetime) -> str:
    active = rec.active_steps()
    p = Promise(id=f"p{len(rec.state.promises) + 1}", what=req.what.strip(), to=req.to, owner=req.owner,
                owner_role=req.owner_role, step=active[0] if active else None, made_by=req.actor,
                made_at=now, due=req.due)
    rec.state.promises.append(p)
    rec.log(now, "promise_made", p.step, req.actor, detail=f"{p.id} ({p.owner}, due {p.due}): {p.what}")
    _schedule_promise(rec, p, now)
    return p.id


def _schedule_promise(rec: Record, p: Promise, now: datetime, reason: str = "") -> None:
    """Give the promise its due time: at once, or once the calendar has counted its working days."""
    when = parse_due(p.due)
    if isinstance(when, datetime):
        _set_promise_due(rec, p, now, when, reason)
    elif when.working_days:
        rec.effects.append(ResolveWorkingDays("promise", p.id, p.changes + 1, now, when.working_days))
    else:
        _set_promise_due(rec, p, now, now + rec.scaled(when), reason)


def apply_promise_due(rec: Record, effect: ResolveWorkingDays, due_at: datetime) -> None:
    """The calendar's answer for a promise due in working days (already scaled in a drill)."""
    p = next((p for p in rec.state.promises if p.id == effect.step), None)
    if p and p.status == "open" and p.due_at is None and p.changes + 1 == effect.visit:
        reason = next((e.detail.rpartition(": ")[2] for e in reversed(rec.state.timeline)
                       if e.kind == "promise_changed" and e.detail.startswith(f"{p.id}:")), "")
        _set_promise_due(rec, p, effect.start, due_at, reason)


def _set_promise_due(rec: Record, p: Promise, since: datetime, due_at: datetime, reason: str) -> None:
    p.due_at = due_at
    p.remind_at = since + (due_at - since) * REMIND_AT if due_at > since else due_at
    if p.changes:  # re-promised: whom it was made to hears the new time
        previous = p.previous_due_at.isoformat() if p.previous_due_at else ""
        rec.effects.append(_promise_message(rec, p, "promise_changed", [recipient(p.to)], f"{p.id}-c{p.changes}",
                                            CHANGED, {"note": reason, "previous_at": previous}))


def fire_promise(rec: Record, item: Due, now: datetime) -> None:
    """Carry out one promise timer from `timers.due`."""
    p = promise(rec, item.promise)
    round_ = f"{p.id}-c{p.changes}"
    if item.kind == "promise_reminder":
        p.reminded = True
        rec.log(now, "promise_reminder", p.step, detail=f"{p.id}: reminded {p.owner}")
        rec.effects.append(_promise_message(rec, p, "promise_reminder", [PERSON_PREFIX + p.owner], round_,
                                            REMINDER))
    elif item.kind == "promise_missed":
        p.status, p.missed_at, p.reminded = "missed", now, True
        rec.log(now, "promise_missed", p.step, detail=f"{p.id}: {p.what} (owner {p.owner})")
        rec.effects.append(_promise_message(rec, p, "promise_missed", [PERSON_PREFIX + p.owner], round_, MISSED))
    else:
        p.escalation_level = item.level
        rec.log(now, "promise_escalation", p.step, detail=f"{p.id} level {item.level}: escalated to {item.role}")
        rec.effects.append(_promise_message(rec, p, "promise_missed", [item.role], f"{round_}-level{item.level}",
                                            MISSED))


def _promise_message(rec: Record, p: Promise, purpose, recipients: list[str], discriminator: str,
                     template: Mapping[str, str], extra: dict | None = None) -> SendMessages:
    owner_name = next((s.name for staff in rec.start.roster.values() for s in staff if s.id == p.owner), p.owner)
    return rec.messages.inline(purpose, recipients, discriminator, template, {
        "what": p.what, "deadline": p.due_at.isoformat() if p.due_at else "", "owner_name": owner_name,
        **(extra or {})})


def closing_problem(rec: Record, next_step: str | None) -> str | None:
    """Why an outcome leading to `next_step` may not be recorded: it would close with promises unresolved."""
    step = rec.pb.steps.get(next_step or "")
    pending = unresolved(rec)
    if step is None or step.kind != "close" or not pending:
        return None
    return (f"{len(pending)} promise(s) of {rec.state.id} are not kept ({', '.join(p.id for p in pending)});"
            " record them kept (groupdesk promise kept) or have the centre director waive them"
            " (groupdesk promise waive) before closing")


def published(rec: Record) -> tuple:
    """What the promise search attributes hold: (earliest unresolved due or None, statuses); empty without promises."""
    if not rec.state.promises:
        return ()
    pending = [p.due_at for p in unresolved(rec) if p.due_at is not None]
    return (min(pending) if pending else None, tuple(sorted({p.status for p in rec.state.promises})))
