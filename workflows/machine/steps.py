"""Entering steps: waiting for the steps before, deadlines (clock or working days), the step's message, closing.

A step whose deadline is in working days is announced once the calendar has answered (`apply_working_days`):
its message names the deadline.
"""

from __future__ import annotations

from datetime import datetime

from groupdesk.core.durations import Span
from groupdesk.core.models import FollowUpState, StepState
from groupdesk.core.playbook import Step
from groupdesk.core.finding import REVIEW_STEP
from workflows.machine import findings, plan, promises
from workflows.machine.record import Record, ResolveWorkingDays, next_visit


def enter(rec: Record, step_id: str, now: datetime, came_from: str | None, result: str = "",
          deadline: Span | None = None) -> None:
    if findings.review_instead(rec, step_id):  # a founded finding: the director reviews it before closing
        rec.state.resolution = result or None  # what the close will say once confirmed
        enter(rec, REVIEW_STEP, now, came_from=came_from)
        rec.state.steps[REVIEW_STEP].arrived_from = [came_from] if came_from else []
        return
    step = rec.pb.steps[step_id]
    deadline = deadline or step.deadline  # an outcome's next_deadline, else the step's own
    previous = rec.state.steps.get(step_id)
    if step.wait_for:
        arrived = list(previous.arrived_from) if previous and previous.status == "waiting" else []
        if came_from and came_from not in arrived:
            arrived.append(came_from)
        missing = [d for d in step.wait_for if d not in arrived]
        if missing:
            rec.state.steps[step_id] = StepState(
                step=step_id, status="waiting", arrived_from=arrived,
                visit=previous.visit if previous and previous.status == "waiting" else next_visit(previous),
            )
            rec.log(now, "step_waiting", step_id, detail=f"waiting for {', '.join(missing)}")
            return
    visit = previous.visit if previous and previous.status == "waiting" else next_visit(previous)
    state = StepState(step=step_id, status="active", visit=visit, started_at=now)
    rec.state.steps[step_id] = state
    rec.log(now, "step_started", step_id)
    if step.kind == "close":
        if came_from == REVIEW_STEP and rec.state.resolution:  # confirmed: the closing outcome's words
            result = rec.state.resolution
        _close(rec, step_id, step, now, result)
        return
    if deadline and deadline.working_days:
        # The step's message names its deadline, so it waits for the calendar's answer.
        rec.effects.append(ResolveWorkingDays("step", step_id, visit, now,
                                              rec.deadline_working_days(deadline.working_days)))
        return
    if deadline:
        state.deadline_at = now + rec.deadline_delta(deadline)
    announce(rec, step_id)


def reenter(rec: Record, step_id: str, now: datetime) -> None:
    """Start a step again, its earlier steps counted as arrived (they were done before)."""
    step = rec.pb.steps[step_id]
    if not step.wait_for:
        enter(rec, step_id, now, came_from=None)
        return
    previous = rec.state.steps.get(step_id)
    rec.state.steps[step_id] = StepState(step=step_id, status="waiting", arrived_from=list(step.wait_for[:-1]),
                                         visit=previous.visit + 1 if previous else 1)
    enter(rec, step_id, now, came_from=step.wait_for[-1])


def announce(rec: Record, step_id: str) -> None:
    """The step's message (an approval's request: its code is made by the send activity)."""
    step = rec.pb.steps[step_id]
    if step.kind == "approval":
        rec.state.approval_key = None  # a new request gets a new code
    if step.notify:
        purpose = "approval_request" if step.kind == "approval" else "step_started"
        rec.effects.append(rec.messages.for_step(step_id, purpose, step.notify, step.template, "start"))


def _close(rec: Record, step_id: str, step: Step, now: datetime, result: str) -> None:
    rec.state.resolution = result or rec.pb.step_title(step_id)
    ended_tier = rec.state.warning_tier
    warning_ended = plan.end_plan_at_close(rec, step_id, now)
    rec.log(now, "resolved", step_id, detail=rec.state.resolution)
    if step.notify:
        rec.effects.append(rec.messages.for_close(step_id, step, rec.state.resolution, warning_ended, ended_tier))
    follow_up = step.follow_up
    if follow_up is None:
        rec.close_incident(now, "closed without follow-up")
        return
    rec.state.follow_up = FollowUpState()
    if follow_up.after.working_days:
        rec.effects.append(ResolveWorkingDays("follow_up", step_id, 1, now, follow_up.after.working_days))
    else:
        rec.state.follow_up.send_at = now + rec.scaled(follow_up.after)


def apply_working_days(rec: Record, effect: ResolveWorkingDays, due: datetime) -> None:
    """The calendar's answer (unscaled): a step's deadline (then its message), a promise's or the follow-up's."""
    scaled_due = effect.start + (due - effect.start) / rec.start.time_scale
    if effect.target == "step":
        state = rec.state.steps.get(effect.step or "")
        if state and state.status == "active" and state.visit == effect.visit:
            state.deadline_at = scaled_due
            announce(rec, effect.step)
    elif effect.target == "promise":
        promises.apply_promise_due(rec, effect, scaled_due)
    elif rec.state.follow_up and rec.state.follow_up.send_at is None:
        rec.state.follow_up.send_at = scaled_due
