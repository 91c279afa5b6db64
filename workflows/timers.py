"""Durable deadlines of an incident: what is due when. Pure reads: nothing here changes state.

All times are workflow times (already divided by a drill's time scale), so the workflow
only has to sleep until `next_due`; the machine's `fire_due` carries out what `due` lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from groupdesk.core.models import Appointment, Deadline
from workflows import promises

if TYPE_CHECKING:
    from workflows.incident_machine import IncidentMachine


@dataclass(frozen=True)
class Due:
    """One thing due now, in the order it is carried out."""

    kind: Literal["reminder", "escalation", "appointment_reminder", "follow_up", "follow_up_expiry",
                  "promise_reminder", "promise_missed", "promise_escalation"]
    step: str | None = None
    level: int = 0  # escalation: the rung reached
    role: str | None = None  # reminder: the owner; escalation: the role up the chain
    appointment: int = 0  # appointment_reminder: its number (1-based) in the incident's appointments
    promise: str | None = None  # promise timers: the promise's id


def escalation_times(machine: IncidentMachine, step_id: str) -> list[tuple[datetime, str]]:
    """(due, role) for every rung of the ladder above the step's owner."""
    state = machine.state.steps[step_id]
    if state.deadline_at is None:
        return []
    grace = machine.deadline_delta(machine.pb.escalation.grace)  # shorter in a sensitive period
    ladder = machine.pb.escalation.above(machine.pb.steps[step_id].owner)
    return [(state.deadline_at + grace * (level + 1), role) for level, role in enumerate(ladder)]


def live_appointments(machine: IncidentMachine) -> list[Appointment]:
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
        for level, (due, role) in enumerate(escalation_times(machine, step_id), start=1):
            if level > state.escalation_level:
                found.append(Deadline(kind="escalation", step=step_id, due_at=due, role=role))
                break
    for appt in live_appointments(machine):
        if not appt.reminded:
            found.append(Deadline(kind="appointment_reminder", step=appt.step, due_at=appt.remind_at))
    found += promises.upcoming(machine)
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


def due(machine: IncidentMachine, now: datetime) -> list[Due]:
    """Everything due at `now`, in order: per active step its reminder then escalations,
    then appointment reminders, then the follow-up's sending or its expiry."""
    found: list[Due] = []
    if machine.state.status != "open":
        return found
    for step_id in machine.active_steps():
        state = machine.state.steps[step_id]
        if state.deadline_at is None or now < state.deadline_at:
            continue
        if not state.reminded:
            found.append(Due("reminder", step_id, role=machine.pb.steps[step_id].owner))
        for level, (at, role) in enumerate(escalation_times(machine, step_id), start=1):
            if level > state.escalation_level and now >= at:
                found.append(Due("escalation", step_id, level=level, role=role))
    live = live_appointments(machine)
    for index, appt in enumerate(machine.state.appointments, start=1):
        if appt in live and not appt.reminded and now >= appt.remind_at:
            found.append(Due("appointment_reminder", appt.step, appointment=index))
    found += promises.due(machine, now)
    follow = machine.state.follow_up
    if follow and follow.outcome == "pending":
        if not follow.sent and follow.send_at and now >= follow.send_at:
            found.append(Due("follow_up"))
        elif follow.sent and follow.expires_at and now >= follow.expires_at:
            found.append(Due("follow_up_expiry"))
    return found
