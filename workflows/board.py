"""What the board and `groupdesk list` filter on, published as search attributes: only what changed.

Published once nothing is in flight, so a workflow task carries one upsert; an upsert carries only the
attributes whose value differs from what the incident already has (`workflow.info()` keeps it, start attributes
included), and a task where nothing differs upserts nothing.

`GroupdeskNextDeadline` is the deadline of the work in hand (the earliest of the active steps'), which a reminder or
an escalation firing does not move: readers tell it is overdue by comparing it with their own clock
(groupdesk.engine.visibility.overdue), so a timer that fires upserts nothing. Incidents of the previous release
(`perf-timers`) publish as it did: the next timer's time and `GroupdeskOverdue`, upserted as each timer fires.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow
from temporalio.common import SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from groupdesk.core import search_attributes as sa
    from groupdesk.core.versions import ENGINE
    from workflows.machine import promises, timers
    from workflows.machine.incident import IncidentMachine


def reply_keys(m: IncidentMachine) -> tuple[str, str]:
    """What lets an SMS reply find this incident: keyed hashes made outside the workflow, never a code or a
    number; "pending" while an approval's SMS (and so its code) is on its way."""
    s = m.state
    follow = s.follow_up
    awaiting = follow is not None and follow.sent and follow.outcome == "pending"
    if s.approval_key:
        code = s.approval_key
    elif m.pending_approvals():
        code = "pending"
    else:
        code = "-"
    return code, (m.start.follow_up_key or "legacy") if awaiting else "-"


def step_deadline(m: IncidentMachine) -> datetime | None:
    """The earliest deadline of the active steps, passed or not; None when none has one."""
    found = [st.deadline_at for sid in m.active_steps() if (st := m.state.steps[sid]).deadline_at is not None]
    return min(found, default=None)


def previous_release_deadline(m: IncidentMachine) -> dict[SearchAttributeKey, object]:
    """How the previous release published deadlines: the next timer, and whether a step is past its deadline."""
    ahead = timers.upcoming(m)
    deadline = step_deadline(m)
    return {sa.NEXT_DEADLINE: ahead[0].due_at if ahead else None,
            sa.OVERDUE: deadline is not None and deadline <= workflow.now()}


def wanted(m: IncidentMachine, previous_release: bool = False) -> dict[SearchAttributeKey, object]:
    """Every published attribute's value now; None: not set."""
    s = m.state
    code_key, follow_up_key = reply_keys(m)
    values: dict[SearchAttributeKey, object] = {
        sa.STATUS: s.status, sa.STAGE: s.stage or "-", sa.CURRENT_STEPS: list(s.current_steps),
        sa.WARNING_TIER: s.warning_tier, sa.APPROVAL_KEY: code_key, sa.FOLLOW_UP_KEY: follow_up_key,
        sa.FAILED_ACTIONS: sum(1 for f in s.failed_actions if f.status == "parked"),
        sa.ENGINE: ENGINE,
        # unset if a run of the previous release continued as this one with it set
        **(previous_release_deadline(m) if previous_release else {sa.NEXT_DEADLINE: step_deadline(m),
                                                                   sa.OVERDUE: None}),
    }
    if s.amendments:  # a corrected registration: what finds the incident now (keys made by the client)
        values[sa.HEADCOUNT] = s.headcount
        if (keys := s.amended_keys) is not None:
            values[sa.REPEAT_KEYS] = list(keys.repeat_keys) or None  # none left: unset
            if keys.complainant:  # a new phone; else the start's stays as it is
                values[sa.COMPLAINANT] = keys.complainant
    if m.state.promises:  # incidents without promises never carry these
        next_due, statuses = promises.published(m)
        values[sa.PROMISE_DUE], values[sa.PROMISES] = next_due, list(statuses)
    return values


def publish(m: IncidentMachine, previous_release: bool = False) -> None:
    """Upsert the attributes whose value changed; nothing when none did."""
    current = {pair.key.name: pair.value for pair in workflow.info().typed_search_attributes}
    updates = []
    for key, value in wanted(m, previous_release).items():
        if value is None and key.name in current:
            updates.append(key.value_unset())
        elif value is not None and current.get(key.name) != value:
            updates.append(key.value_set(value))
    if updates:
        workflow.upsert_search_attributes(updates)
