"""Scripted staff for the hand-over, reopen and adjourn paths of the smart-meter playbook (drills and
recorded histories): like groupdesk.drills.smart_meter, through the gateway's Incident, waiting for each step first."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Awaitable, Callable

from groupdesk.drills.smart_meter import XICHENG, Target, record, talk_accepted, wait_for
from groupdesk.incidents.gateway import Incident
from groupdesk.core.models import DecideApproval, RecordFollowUp


def child_of(handle: Target, number: int = 1) -> Incident:
    """The hand-over's child incident of `handle` (its id is the parent's with -c1, -c2...)."""
    parent = Incident.of(handle)
    return parent.linked(f"{parent.id}-c{number}")


async def ladder_agreement(child: Target, staff: dict[str, str] = XICHENG) -> None:
    """The dispute ladder ends in a signed agreement at the face-to-face talk; the complainant is satisfied."""
    await record(child, "investigate", "objection", staff["hall_lead"], findings="换表前后用电对比无异常")
    await record(child, "negotiate", "agreement_signed", staff["hall_lead"], agreement_no="XC-2026-031",
                 terms="免费复检并按复检结果结算")
    await answer(child, 5)


async def answer(handle: Target, score: int) -> None:
    """The lead complainant's follow-up answer, once the survey is out."""
    await wait_for(handle, lambda st: st.follow_up is not None and st.follow_up.sent
                   and st.follow_up.outcome == "pending")
    await Incident.of(handle).follow_up(RecordFollowUp(score=score, actor="sun.li"))


async def result_disputed(handle: Target, staff: dict[str, str] = XICHENG) -> None:
    """The calibration result is disputed: the ladder runs as a child; the parent waits, then closes."""
    await _to_calibration(handle, staff)
    await record(handle, "metrology_calibration", "result_disputed", staff["hall_lead"])
    await wait_for(handle, lambda st: any(link.status == "open" for link in st.linked))
    await ladder_agreement(child_of(handle), staff)
    await wait_for(handle, lambda st: st.stage == "follow_up")


async def _to_calibration(handle: Target, staff: dict[str, str]) -> None:
    await record(handle, "move_to_vip_room", "done", staff["guide"])
    await record(handle, "keep_order", "done", staff["security_guard"])
    await record(handle, "talk_with_lead", "not_accepted", staff["hall_lead"])
    await wait_for(handle, lambda st: "director_review" in st.current_steps
                   and any("/approval_request/" in d.key for d in st.deliveries))
    await Incident.of(handle).decide(DecideApproval(decision="reject", actor=staff["centre_director"], reason="现场可控"))
    await record(handle, "metering_explanation", "not_accepted", staff["metering_technician"])


async def reopened_then_handed_over(handle: Target, staff: dict[str, str] = XICHENG) -> None:
    """A dissatisfied answer sends the incident back to the talk; a second hands it to the ladder and closes."""
    await talk_accepted(handle, staff)
    await answer(handle, 2)
    await record(handle, "talk_with_lead", "accepted", staff["hall_lead"])
    await answer(handle, 1)
    await Incident.of(handle).result()


async def adjourned_then_accepted(handle: Target, staff: dict[str, str] = XICHENG) -> None:
    """信访 reported at once; the group leaves with an agreed time; the talk succeeds when they return."""
    await record(handle, "move_to_vip_room", "done", staff["guide"])
    await record(handle, "keep_order", "done", staff["security_guard"])
    await record(handle, "talk_with_lead", "went_to_government", staff["hall_lead"], department="市信访局")
    agreed = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    await record(handle, "talk_with_lead", "adjourned", staff["hall_lead"], agreed_at=agreed)
    await record(handle, "talk_with_lead", "accepted", staff["hall_lead"])


async def ladder_to_court(handle: Target, staff: dict[str, str] = XICHENG) -> None:
    """The dispute ladder started on its own: no agreement face to face, a mediator engaged, mediation fails,
    the court rules."""
    await record(handle, "investigate", "objection", staff["hall_lead"], findings="抄表数据无误")
    await record(handle, "negotiate", "no_agreement", staff["hall_lead"])
    await record(handle, "mediation", "mediator_engaged", staff["centre_director"], mediator="西城区消费者协会")
    await record(handle, "mediation", "mediation_failed", staff["centre_director"])
    await record(handle, "judicial", "judgment", staff["centre_director"], case_no="(2026)京0102民初123号",
                 ruling="驳回诉讼请求")


async def ladder_refused(handle: Target, staff: dict[str, str] = XICHENG) -> None:
    """An unreasonable demand refused lawfully at the investigation (有理有节 依法维权)."""
    from groupdesk.core.models import RecordOutcome

    await wait_for(handle, lambda st: "investigate" in st.current_steps)
    await Incident.of(handle).record_outcome(RecordOutcome(
        step="investigate", outcome="refused_lawfully", actor=staff["hall_lead"], note="要求十倍赔偿",
        data={"legal_basis": "《供电营业规则》"}))


# The dispute ladder's own paths, started as incidents of that playbook (dispute-ladder-<path>.json).
LADDER_OWN_PATHS: dict[str, Callable[[Target], Awaitable[None]]] = {
    "to_court": ladder_to_court,
    "refused_lawfully": ladder_refused,
}

# Recorded for the replay tests (the child's own history too, where there is one).
LADDER_PATHS: dict[str, Callable[[Target], Awaitable[None]]] = {
    "ladder-result_disputed": result_disputed,
    "ladder-reopened_then_handed_over": reopened_then_handed_over,
    "ladder-adjourned_then_accepted": adjourned_then_accepted,
}

