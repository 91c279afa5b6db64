"""An incident as the machine keeps it: start, snapshot, state, effects to carry out, shared primitives.

The primitives every part of the machine shares: the timeline, scaled time, the stage. The bottom of
`workflows.machine`: it imports nothing of the machine but its message builder.

Every function of the machine takes this record first and is pure: given `now`, no I/O, no clock, no
Temporal. What the workflow must do (send, ask the calendar, start a child) is appended to `effects`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from groupdesk.core.durations import Span
from groupdesk.core.links import HandOverSpec, LinkedIncident
from groupdesk.core.models import IncidentState, SendMessages, StartIncident, StepState, TimelineEntry
from groupdesk.core.periods import shortened, shortened_working_days
from workflows.machine.messages import MessageBuilder


@dataclass
class ResolveWorkingDays:
    """Compute `working_days` after `start` on the Chinese calendar, then apply it to `target`."""

    target: str  # "step", "follow_up" or "promise"
    step: str | None  # the step (a promise: its id)
    visit: int
    start: datetime
    working_days: int


@dataclass
class StartChild:
    """Load `spec.playbook` and start it as the child incident `child_id` (same hall, registration, complainant)."""

    child_id: str
    spec: HandOverSpec
    step: str | None
    actor: str


Effect = SendMessages | ResolveWorkingDays | StartChild


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


class Record:
    """The incident's start, snapshot, state and pending effects; `IncidentMachine` is built on it."""

    def __init__(self, start: StartIncident, state: IncidentState):
        self.start = start
        self.pb = start.playbook
        self.state = state
        self.effects: list[Effect] = []
        self.messages = MessageBuilder(start, state)

    def switch_playbook(self, playbook) -> None:
        """Carry on under a newer version: what happened stays, what comes next follows it."""
        self.start = self.start.model_copy(update={"playbook": playbook})
        self.pb = playbook
        self.messages = MessageBuilder(self.start, self.state)
        self.state.playbook_version = playbook.version

    def take_effects(self) -> list[Effect]:
        """The effects recorded so far, handed over to be carried out (and forgotten here)."""
        batch, self.effects = self.effects, []
        return batch

    # ---- time ---------------------------------------------------------------------------

    def scaled(self, span: Span) -> timedelta:
        return timedelta(seconds=span.seconds / self.start.time_scale)

    def deadline_delta(self, span: Span) -> timedelta:
        """A step's deadline or an escalation's grace, shortened in a sensitive period."""
        return shortened(self.scaled(span), self.start.sensitive_period)

    def deadline_working_days(self, working_days: int) -> int:
        return shortened_working_days(working_days, self.start.sensitive_period)

    def log(self, now: datetime, kind: str, step: str | None = None, actor: str | None = None,
            detail: str = "") -> None:
        self.state.timeline.append(TimelineEntry(at=now, kind=kind, step=step, actor=actor, detail=detail))

    # ---- where the incident is ----------------------------------------------------------

    def active_steps(self) -> list[str]:
        return [sid for sid in self.pb.steps if (s := self.state.steps.get(sid)) and s.status == "active"]

    def pending_approvals(self) -> list[str]:
        return [sid for sid in self.active_steps() if self.pb.steps[sid].kind == "approval"]

    def waiting_child(self) -> LinkedIncident | None:
        """The child this incident waits for, if any."""
        return next((link for link in self.state.linked if link.relation == "child" and link.mode == "wait"
                     and link.status in ("starting", "open")), None)

    def refresh_stage(self) -> None:
        self.state.current_steps = self.active_steps() if self.state.status == "open" else []
        if self.state.status == "closed":
            self.state.stage = "closed"
        elif self.waiting_child():
            self.state.stage = "waiting_child"
        elif self.state.follow_up is not None:
            self.state.stage = "follow_up"
        else:
            self.state.stage = "+".join(self.state.current_steps)

    def close_incident(self, now: datetime, detail: str) -> None:
        self.state.status = "closed"
        self.state.closed_at = now
        self.state.approval_key = None
        for sid in self.active_steps():
            self.state.steps[sid].status = "done"
        self.log(now, "incident_closed", detail=detail)
        self.refresh_stage()

    def follow_up_spec(self):
        """(the close step reached, its follow-up)."""
        close_id = next(sid for sid, s in self.pb.steps.items() if s.kind == "close" and sid in self.state.steps)
        return close_id, self.pb.steps[close_id].follow_up


def next_visit(previous: StepState | None) -> int:
    return previous.visit + 1 if previous else 1
