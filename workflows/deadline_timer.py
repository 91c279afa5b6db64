"""The one timer an incident sleeps on: set for the next due moment, replaced only when it must be.

- It counts from the effects' clock (when the last batch finished), not from the stale start of a workflow
  task that ran local activities. A timer armed earlier in the same task is replaced freely: it was never
  sent, so replacing it costs no event.
- A timer already running is kept when the next due moment (a step's) moves later: no cancel and start per
  staff action; if it fires before anything is due, the next one is armed then.
- Only while steps are under way: a timer firing for nothing in the task of the answer that closes the
  incident would fail that task (an update refused), so the follow-up waits on a timer of its own.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.machine import timers
    from workflows.machine.incident import IncidentMachine


class DeadlineTimer:
    def __init__(self) -> None:
        self.task: asyncio.Task | None = None
        self.due: datetime | None = None
        self.armed_in = 0  # the workflow task that armed it (its history length when it began)
        self.clock: datetime | None = None  # the clock it was armed on

    def arm_for(self, machine: IncidentMachine, clock: datetime) -> asyncio.Task | None:
        """The timer for the incident's next due moment, kept or armed anew; None when nothing is due."""
        if self.task is not None and self.task.done():
            self.task, self.due = None, None
        ahead = timers.upcoming(machine)
        due = ahead[0].due_at if ahead else None
        self._keep_or_arm(due, clock, keep_sooner=bool(ahead) and not ahead[0].kind.startswith("follow_up"))
        return self.task

    def running(self) -> asyncio.Task | None:
        """The timer as it runs, untouched (None when none runs)."""
        return self.task if self.task is not None and not self.task.done() else None

    def wakes_at(self) -> datetime | None:
        """When the running timer is due (None when none runs)."""
        return self.due if self.running() else None

    def forget_if_fired(self, task: asyncio.Task | None) -> datetime | None:
        """What a timer that fired was set for (None if it has not fired)."""
        if task is None or not task.done() or task.cancelled():
            return None
        fired, self.task, self.due = self.due, None, None
        return fired

    def _keep_or_arm(self, due: datetime | None, clock: datetime, keep_sooner: bool) -> None:
        """One timer for `due` on `clock`; a running one is kept when `due` moved later (it fires early)."""
        armed_in = workflow.info().get_current_history_length()
        if self.task is not None and self.armed_in == armed_in:  # not sent yet: replace it freely
            if due == self.due and clock == self.clock:
                return
        elif self.task is not None and keep_sooner and due >= self.due:
            return  # sooner than needed: when it fires with nothing due, the next one is armed
        elif self.task is None and due is None:
            return
        if self.task is not None:
            self.task.cancel()
        self.task, self.due, self.armed_in, self.clock = None, due, armed_in, clock
        if due is not None:
            self.task = asyncio.create_task(workflow.sleep(
                max((due - clock).total_seconds(), 0.001), summary="next playbook deadline"))
