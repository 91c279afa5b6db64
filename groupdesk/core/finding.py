"""Findings at close (有效投诉的认定, 责任到人): was the complaint founded, its cause, who and which unit were responsible.

The finding is its own object on the incident (`IncidentState.finding`), kept apart from the record's role-based
`responsible`. A close step that says `finding: required` is refused while a non-drill incident has none; a founded
or partly founded finding goes to the centre director's `finding_review` step (added to the playbook at load) before
the incident closes: `confirmed` closes it, `sent_back` (with a reason) returns it to the step that closed, so that its
owner corrects the finding and closes again. Pure: the CLI, the API, the console and the workflow's validator all
check a finding with `finding_problems` and the role rule `may_tell` (the owner, the hall lead or the director).
"""

from __future__ import annotations

from datetime import datetime
from types import MappingProxyType
from typing import Literal

from pydantic import BaseModel, Field

from groupdesk.core import validation as v
from groupdesk.core.durations import Span
from groupdesk.core.playbook import Outcome, Playbook, Step

Founded = Literal["yes", "no", "partly"]
FOUNDED: tuple[str, ...] = ("yes", "no", "partly")
REQUIRED = "required"  # a close step's `finding:`
REVIEW_STEP = "finding_review"  # the director's review of a founded finding, added to a playbook that requires one
CONFIRMED, SENT_BACK = "confirmed", "sent_back"
REVIEWER = "centre_director"
RESPONSIBLE_MAX = 10  # people named responsible in one finding
REASON_MAX = 1000
# the shipped causes (playbooks/finding_causes.yaml gives their labels; a centre may add its own there)
CAUSES: tuple[str, ...] = ("service_attitude", "business_handling", "power_quality", "outage", "metering",
                           "tariff_billing", "grid_construction", "other")

REVIEW_TEMPLATE = MappingProxyType({
    "zh-CN": "{{ recipient_name }}主任:{{ hall_name }} 事件 {{ incident_id }} 已认定为有效投诉(含部分有效),"
             "请于 {{ deadline }} 前审核认定结果与责任人,确认或退回更正。事由:{{ summary }}",
    "en": "Director {{ recipient_name }}: the complaint of incident {{ incident_id }} at {{ hall_name }} was found"
          " founded (or partly); review the finding and who was responsible by {{ deadline }}: confirm it or send"
          " it back. Issue: {{ summary }}",
})


class Finding(BaseModel):
    """What the incident's finding says, who recorded it and who confirmed it (a founded one)."""

    founded: Founded
    cause: str
    responsible_people: list[str] = Field(default_factory=list)
    responsible_unit: str = ""
    reason: str
    recorded_by: str
    recorded_at: datetime | None = None
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None
    sent_back: str = ""  # the director's reason when the last review sent it back (cleared once corrected)

    @property
    def counts(self) -> bool:
        """Founded or partly founded: counted against the people and unit responsible, reviewed by the director."""
        return self.founded in ("yes", "partly")


class RecordFinding(BaseModel):
    """The `finding` update: record (or correct) the incident's finding."""

    actor: str
    founded: str
    cause: str
    responsible_people: list[str] = Field(default_factory=list)
    responsible_unit: str = ""
    reason: str = ""
    roles: list[str] | None = None  # the actor's roles at the hall as the gateway read them (with stand-ins)


def split_people(value: str) -> list[str]:
    """`--responsible a,b` as a list (spaces and empty items dropped, order kept, no repeats)."""
    return list(dict.fromkeys(p.strip() for p in (value or "").split(",") if p.strip()))


def finding_problems(req: RecordFinding, causes: tuple[str, ...] | list[str] | None = CAUSES) -> dict[str, str]:
    """Every problem of a finding as typed, by field (the CLI, the API and the validator say the same);
    `causes`: those of playbooks/finding_causes.yaml (None, in the workflow: any cause id)."""
    problems: dict[str, str] = {}
    if req.founded not in FOUNDED:
        problems["founded"] = f"{v.shown(req.founded)} is not an answer; give yes, no or partly"
    if causes is None:
        if problem := v.identifier_problem(req.cause, "cause"):
            problems["cause"] = problem
    elif req.cause not in causes:
        problems["cause"] = f"{v.shown(req.cause)} is not a cause; use one of {', '.join(causes)}"
    if len(req.responsible_people) > RESPONSIBLE_MAX:
        problems["responsible_people"] = f"name at most {RESPONSIBLE_MAX} people"
    for person in req.responsible_people:
        if problem := v.staff_id_problem(person):
            problems.setdefault("responsible_people", problem)
    if req.responsible_unit and (problem := unit_id_problem(req.responsible_unit)):
        problems["responsible_unit"] = problem
    if req.founded in ("yes", "partly"):
        if not req.responsible_people:
            problems.setdefault("responsible_people", "a founded complaint names who was responsible"
                                " (staff ids, comma-separated; see `groupdesk directory`)")
        if not req.responsible_unit:
            problems.setdefault("responsible_unit", "a founded complaint names the unit responsible (a hall or a"
                                " unit of the directory)")
    if problem := v.text_problem(req.reason, REASON_MAX, required="say why (what was found)"):
        problems["reason"] = problem
    return problems


def unit_id_problem(value: str) -> str | None:
    if not v.STAFF_ID.match(value or ""):
        return f"{v.shown(value)} is not a unit id (a hall or a unit of `groupdesk directory`)"
    return None


def finding_refusal(actor: str, incident_id: str, owner: str | None) -> str:
    return (f"{actor} may not record the finding of {incident_id}: only its owner ({owner or '-'}),"
            " the hall lead or the centre director may")


def close_step(pb: Playbook) -> str | None:
    """The close step that requires a finding, if the playbook has one."""
    return next((sid for sid, s in pb.steps.items() if s.kind == "close" and s.finding == REQUIRED), None)


def with_review(pb: Playbook) -> Playbook:
    """The playbook with the director's `finding_review` step and its message, when its close requires a finding
    (done once, when the playbook is loaded: the snapshot carries the step)."""
    close = close_step(pb)
    if close is None or REVIEW_STEP in pb.steps:
        return pb
    pb.steps[REVIEW_STEP] = Step(
        title={"zh-CN": "有效投诉认定审核", "en": "The director reviews the finding"},
        owner=REVIEWER, deadline=Span(working_days=1), notify=[REVIEWER], template=REVIEW_STEP,
        outcomes={
            CONFIRMED: Outcome(label={"zh-CN": "确认认定", "en": "finding confirmed"}, next=close),
            SENT_BACK: Outcome(label={"zh-CN": "退回更正", "en": "sent back to be corrected"},
                               requires_reason=True, back=True),
        })
    pb.templates[REVIEW_STEP] = dict(REVIEW_TEMPLATE)
    return pb
