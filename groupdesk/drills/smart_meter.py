"""Scripted staff for drills: drive an incident down one path of the smart-meter playbook.

Used to record replay histories and by the benchmarks; each driver records outcomes
through the gateway's Incident (the same Updates the CLI sends), waiting for each step to open first.
A driver takes a gateway Incident, or a handle a test started with start_incident.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Awaitable, Callable, Union

from temporalio.client import WorkflowHandle

from groupdesk.incidents.gateway import Incident
from groupdesk.core.models import (
    DecideApproval, HandOver, IncidentState, PromiseChange, RecordFollowUp, RecordOutcome,
)

Target = Union[Incident, WorkflowHandle]


POLL_SECONDS = 0.1  # how often scripted staff look at an incident; benchmarks slow it to a human pace


async def wait_for(handle: Target, predicate: Callable[[IncidentState], bool],
                   timeout: float = 120, poll: float | None = None) -> IncidentState:
    return await Incident.of(handle).wait_for(predicate, timeout, poll or POLL_SECONDS)


async def record(handle: Target, step: str, outcome: str, actor: str, **data: str) -> None:
    await wait_for(handle, lambda st: step in st.current_steps)
    await Incident.of(handle).record_outcome(RecordOutcome(step=step, outcome=outcome, actor=actor, data=data))


# Who acts, by role: the example directory's 西城 hall unless a driver is given another hall's staff.
XICHENG = {"guide": "zhao.min", "security_guard": "qian.lei", "hall_lead": "sun.li", "centre_director": "wang.jun",
           "metering_technician": "feng.tao"}


def staff_of(directory, hall_id: str) -> dict[str, str]:
    return {role: people[0].id for role in XICHENG if (people := directory.staff(hall_id, role))}


async def _to_director(handle: Target, staff: dict[str, str]) -> None:
    await record(handle, "move_to_vip_room", "done", staff["guide"])
    await record(handle, "keep_order", "done", staff["security_guard"])
    await record(handle, "talk_with_lead", "not_accepted", staff["hall_lead"])


async def handed_over(handle: Target, staff: dict[str, str] = XICHENG) -> None:
    """首问负责制: the hall lead hands the incident to the guide, then the talk is accepted."""
    await Incident.of(handle).hand_over(HandOver(actor=staff["hall_lead"], to=staff["guide"], reason="交接班"))
    await talk_accepted(handle, staff)


async def promises_kept_and_missed(handle: Target, staff: dict[str, str] = XICHENG) -> None:
    """合理承诺,有诺必行: one promise missed (reminded, escalated, then waived by the director), one due in working
    days re-promised and kept; then the talk is accepted."""
    incident, lead, guide = Incident.of(handle), staff["hall_lead"], staff["guide"]
    await incident.promise(PromiseChange(kind="add", actor=lead, what="1小时内回电", owner=lead,
                                         owner_role="hall_lead", due="1h"))
    await incident.promise(PromiseChange(kind="add", actor=lead, what="2个工作日内提供电量明细", owner=guide,
                                         owner_role="guide", due="2wd"))
    await wait_for(handle, lambda st: st.promises[0].escalation_level == 2 and st.promises[1].due_at is not None)
    await incident.promise(PromiseChange(kind="change", actor=guide, promise="p2", due="3wd", note="数据导出需审批"))
    await wait_for(handle, lambda st: st.promises[1].due_at is not None)
    await incident.promise(PromiseChange(kind="kept", actor=guide, promise="p2", note="已短信发送"))
    await incident.promise(PromiseChange(kind="waive", actor=staff["centre_director"], note="客户已当面确认"))
    await talk_accepted(handle, staff)


async def talk_accepted(handle: Target, staff: dict[str, str] = XICHENG) -> None:
    await record(handle, "move_to_vip_room", "done", staff["guide"])
    await record(handle, "keep_order", "done", staff["security_guard"])
    await record(handle, "talk_with_lead", "accepted", staff["hall_lead"])


def escalated(approve: bool, explained: bool, meter: str = "meter_accurate"):
    """A path through the director's decision, the technicians and (unless explained) the metrology bureau."""

    async def drive(handle: Target, staff: dict[str, str] = XICHENG) -> None:
        await _to_director(handle, staff)
        # the director decides once the request (and its code) has reached them
        await wait_for(handle, lambda st: "director_review" in st.current_steps
                       and any("/approval_request/" in d.key for d in st.deliveries))
        director = staff["centre_director"]
        decision = DecideApproval(decision="approve", actor=director) if approve else \
            DecideApproval(decision="reject", actor=director, reason="现场可控")
        await Incident.of(handle).decide(decision)
        if explained:
            await record(handle, "metering_explanation", "accepted", staff["metering_technician"])
            return
        await record(handle, "metering_explanation", "not_accepted", staff["metering_technician"])
        at = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
        await record(handle, "metrology_calibration", "scheduled", staff["hall_lead"], calibration_at=at)
        await record(handle, "metrology_calibration", meter, staff["hall_lead"])
        if meter == "meter_inaccurate":  # the remedy: a new meter and the overcharge refunded
            await record(handle, "meter_replacement_and_refund", "done", staff["metering_technician"])

    return drive


async def plan_raised_then_ended(handle: Target, staff: dict[str, str] = XICHENG) -> None:
    """The director starts the tier-3 plan, raises it to 二级, then ends it; the explanation is accepted."""
    await _to_director(handle, staff)
    await wait_for(handle, lambda st: "director_review" in st.current_steps
                   and any("/approval_request/" in d.key for d in st.deliveries))
    incident = Incident.of(handle)
    await incident.decide(DecideApproval(decision="approve", actor=staff["centre_director"]))
    for action in ("raise", "end"):
        await incident.record_outcome(RecordOutcome(step="warning_plan", outcome=action,
                                                    actor=staff["centre_director"]))
    await record(handle, "metering_explanation", "accepted", staff["metering_technician"])


async def answer_follow_up(handle: Target, score: int = 4) -> None:
    await wait_for(handle, lambda st: st.follow_up is not None and st.follow_up.sent)
    await Incident.of(handle).follow_up(RecordFollowUp(score=score, actor="sun.li"))


# Every path of the smart-meter playbook, by name (recorded histories and benchmarks use them).
PATHS: dict[str, Callable[[Target], Awaitable[None]]] = {
    "talk_accepted": talk_accepted,
    "approved_then_explained": escalated(approve=True, explained=True),
    "approved_then_metrology": escalated(approve=True, explained=False, meter="meter_inaccurate"),
    "approved_then_metrology_accurate": escalated(approve=True, explained=False),
    "rejected_then_explained": escalated(approve=False, explained=True),
    "rejected_then_metrology": escalated(approve=False, explained=False),
    "rejected_then_metrology_inaccurate": escalated(approve=False, explained=False, meter="meter_inaccurate"),
}

# Paths recorded for the replay tests only (newer than the histories kept from before earlier patches).
RECORDED_ONLY: dict[str, Callable[[Target], Awaitable[None]]] = {
    "handed_over": handed_over, "plan_raised_then_ended": plan_raised_then_ended,
    "promises_kept_and_missed": promises_kept_and_missed}
