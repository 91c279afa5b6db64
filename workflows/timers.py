"""Durable deadlines of an incident: what is due when, and what fires when it is due.

All times are workflow times (already divided by a drill's time scale), so the workflow
only has to sleep until `next_due` and call `fire_due`.
"""

from __future__ import annotations

from datetime import datetime

from groupdesk.models import Deadline
from workflows.incident_machine import IncidentMachine


def _escalation_times(machine: IncidentMachine, step_id: str) -> list[tuple[datetime, str]]:
    """(due, role) for every rung of the ladder above the step's owner."""
    state = machine.state.steps[step_id]
    if state.deadline_at is None:
        return []
    grace = machine.scaled(machine.pb.escalation.grace)
    ladder = machine.pb.escalation.above(machine.pb.steps[step_id].owner)
    return [(state.deadline_at + grace * (level + 1), role) for level, role in enumerate(ladder)]


def _live_appointments(machine: IncidentMachine) -> list:
    """Appointments of steps still under way; a newer one for the same field replaces the older."""
    live = {}
    for appt in machine.state.appointments:
        state = machine.state.steps.get(appt.step)
        if state and state.status == "active":
            live[(appt.step, appt.field)] = appt
    return list(live.values())


def upcoming(machine: IncidentMachine) -> list[Deadline]:
    """Every deadline still ahead, soonest first (what `show` and the board display)."""
    found: list[Deadline] = []
    if machine.state.status != "open":
        return found
    for step_id in machine.active_steps():
        state = machine.state.steps[step_id]
        owner = machine.pb.steps[step_id].owner
        if state.deadline_at is None:
            continue
        if not state.reminded:
            found.append(Deadline(kind="step", step=step_id, due_at=state.deadline_at, role=owner))
        for level, (due, role) in enumerate(_escalation_times(machine, step_id), start=1):
            if level > state.escalation_level:
                found.append(Deadline(kind="escalation", step=step_id, due_at=due, role=role))
                break
    for appt in _live_appointments(machine):
        if not appt.reminded:
            found.append(Deadline(kind="appointment_reminder", step=appt.step, due_at=appt.remind_at))
    follow = machine.state.follow_up
    if follow and follow.outcome == "pending":
        if not follow.sent and follow.send_at:
            found.append(Deadline(kind="follow_up", step=None, due_at=follow.send_at, role="lead_complainant"))
        elif follow.sent and follow.expires_at:
            found.append(Deadline(kind="follow_up_expiry", step=None, due_at=follow.expires_at))
    return sorted(found, key=lambda d: d.due_at)


def next_due(machine: IncidentMachine) -> datetime | None:
    ahead = upcoming(machine)
    return ahead[0].due_at if ahead else None


def fire_due(machine: IncidentMachine, now: datetime) -> None:
    """Carry out everything due at `now`: reminders, escalations, appointment reminders, follow-up."""
    if machine.state.status != "open":
        return
    for step_id in machine.active_steps():
        _fire_step(machine, step_id, now)
    for index, appt in enumerate(machine.state.appointments, start=1):
        if appt in _live_appointments(machine) and not appt.reminded and now >= appt.remind_at:
            appt.reminded = True
            outcome = next(o for o in machine.pb.steps[appt.step].outcomes.values()
                           if o.appointment and o.appointment.field == appt.field)
            spec = outcome.appointment
            machine.log(now, "appointment_reminder", appt.step, detail=f"{appt.field} {appt.at.isoformat()}")
            machine.effects.append(machine.messages.appointment_reminder(
                appt.step, index, spec.notify, spec.template, appt.at.isoformat()))
    _fire_follow_up(machine, now)


def _fire_step(machine: IncidentMachine, step_id: str, now: datetime) -> None:
    state = machine.state.steps[step_id]
    owner = machine.pb.steps[step_id].owner
    if state.deadline_at is None or now < state.deadline_at:
        return
    if not state.reminded:
        state.reminded = True
        machine.log(now, "reminder", step_id, detail=f"deadline passed; reminded {owner}")
        machine.effects.append(machine.messages.reminder(step_id, owner))
    for level, (due, role) in enumerate(_escalation_times(machine, step_id), start=1):
        if level > state.escalation_level and now >= due:
            state.escalation_level = level
            overdue = (now - state.deadline_at).total_seconds()
            machine.log(now, "escalation", step_id, detail=f"level {level}: escalated to {role}")
            machine.effects.append(machine.messages.escalation(step_id, level, role, overdue))


def _fire_follow_up(machine: IncidentMachine, now: datetime) -> None:
    follow = machine.state.follow_up
    if not follow or follow.outcome != "pending":
        return
    close_id = next(sid for sid, s in machine.pb.steps.items() if s.kind == "close" and sid in machine.state.steps)
    spec = machine.pb.steps[close_id].follow_up
    if not follow.sent and follow.send_at and now >= follow.send_at:
        follow.sent = True
        follow.expires_at = now + machine.scaled(spec.expires_after)
        machine.log(now, "follow_up_sent", close_id, detail="satisfaction survey sent to the lead complainant")
        machine.effects.append(machine.messages.follow_up(close_id, spec.template))
    elif follow.sent and follow.expires_at and now >= follow.expires_at:
        follow.outcome = "expired"
        machine.close_incident(now, "follow-up expired without an answer")

