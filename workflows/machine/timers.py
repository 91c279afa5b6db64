"""An incident's durable deadlines: what is due when, and firing what is due.

All times are workflow times (already divided by a drill's time scale), so the workflow only has to sleep
until `next_due`; `fire_due` carries out what `due` lists: step reminders and escalations here, the timers of
outcome kinds (appointments), of promises and of the follow-up in their own modules.
"""

from __future__ import annotations

from datetime import datetime

from groupdesk.core.models import Deadline
from workflows.machine import follow_up, promises
from workflows.machine.outcome_kinds import KINDS
from workflows.machine.record import Due, Record

KIND_TIMERS = tuple(kind.timers for kind in KINDS if kind.timers)


def escalation_times(rec: Record, step_id: str) -> list[tuple[datetime, str]]:
    """(due, role) for every rung of the ladder above the step's owner."""
    state = rec.state.steps[step_id]
    if state.deadline_at is None:
        return []
    grace = rec.deadline_delta(rec.pb.escalation.grace)  # shorter in a sensitive period
    ladder = rec.pb.escalation.above(rec.pb.steps[step_id].owner)
    return [(state.deadline_at + grace * (level + 1), role) for level, role in enumerate(ladder)]


def upcoming(rec: Record) -> list[Deadline]:
    """Every deadline still ahead, soonest first (what `show` and the board display)."""
    found: list[Deadline] = []
    if rec.state.status != "open":
        return found
    for step_id in rec.active_steps():
        state = rec.state.steps[step_id]
        owner = rec.pb.steps[step_id].owner
        if state.deadline_at is None:
            continue
        if not state.reminded:
            found.append(Deadline(kind="step", step=step_id, due_at=state.deadline_at, role=owner))
        for level, (due_at, role) in enumerate(escalation_times(rec, step_id), start=1):
            if level > state.escalation_level:
                found.append(Deadline(kind="escalation", step=step_id, due_at=due_at, role=role))
                break
    for timers in KIND_TIMERS:
        found += timers.upcoming(rec)
    found += promises.upcoming(rec)
    follow = rec.state.follow_up
    if follow and follow.outcome == "pending":
        if not follow.sent and follow.send_at:
            found.append(Deadline(kind="follow_up", step=None, due_at=follow.send_at, role="lead_complainant"))
        elif follow.sent and follow.expires_at:
            found.append(Deadline(kind="follow_up_expiry", step=None, due_at=follow.expires_at))
    return sorted(found, key=lambda d: d.due_at)


def next_due(rec: Record) -> datetime | None:
    ahead = upcoming(rec)
    return ahead[0].due_at if ahead else None


def due(rec: Record, now: datetime) -> list[Due]:
    """Everything due at `now`, in order: per active step its reminder then escalations, then the timers of
    outcome kinds (appointment reminders), of promises, then the follow-up's sending or its expiry."""
    found: list[Due] = []
    if rec.state.status != "open":
        return found
    for step_id in rec.active_steps():
        state = rec.state.steps[step_id]
        if state.deadline_at is None or now < state.deadline_at:
            continue
        if not state.reminded:
            found.append(Due("reminder", step_id, role=rec.pb.steps[step_id].owner))
        for level, (at, role) in enumerate(escalation_times(rec, step_id), start=1):
            if level > state.escalation_level and now >= at:
                found.append(Due("escalation", step_id, level=level, role=role))
    for timers in KIND_TIMERS:
        found += timers.due(rec, now)
    found += promises.due(rec, now)
    follow = rec.state.follow_up
    if follow and follow.outcome == "pending":
        if not follow.sent and follow.send_at and now >= follow.send_at:
            found.append(Due("follow_up"))
        elif follow.sent and follow.expires_at and now >= follow.expires_at:
            found.append(Due("follow_up_expiry"))
    return found


def fire_due(rec: Record, now: datetime) -> None:
    """Carry out everything due at `now`: reminders, escalations, appointment reminders, promises, follow-up."""
    for item in due(rec, now):
        if item.kind == "reminder":
            rec.state.steps[item.step].reminded = True
            rec.log(now, "reminder", item.step, detail=f"deadline passed; reminded {item.role}"
                    + (f" and the owner {rec.state.owner}" if rec.state.owner else ""))
            rec.effects.append(rec.messages.reminder(item.step, item.role))
        elif item.kind == "escalation":
            state = rec.state.steps[item.step]
            state.escalation_level = item.level
            overdue = (now - state.deadline_at).total_seconds()
            rec.log(now, "escalation", item.step, detail=f"level {item.level}: escalated to {item.role}")
            rec.effects.append(rec.messages.escalation(item.step, item.level, item.role, overdue))
        elif timers := next((t for t in KIND_TIMERS if t.fires == item.kind), None):
            timers.fire(rec, item, now)
        elif item.promise:
            promises.fire_promise(rec, item, now)
        elif item.kind == "follow_up":
            follow_up.send(rec, now)
        else:  # follow_up_expiry
            follow_up.expire(rec, now)
