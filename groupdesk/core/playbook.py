"""Playbooks are data: a YAML file plus Jinja2 SMS templates, validated when loaded.

The loaded form, `Playbook`, is what a workflow receives as its snapshot: it carries the
template sources, so editing files on disk never changes a running incident.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, field_validator

from groupdesk.core.applies import Applies
from groupdesk.core.durations import Span, parse_duration
from groupdesk.core.links import HandOverSpec, Reopen
from groupdesk.core.roles import LANGUAGES
from groupdesk.core.warning_plan import PLAN_STEP, WarningPlan

Text = dict[str, str]  # by language: {"zh-CN": ..., "en": ...}


def _span(value: object) -> Span:
    if isinstance(value, Span):
        return value
    if isinstance(value, dict):
        return Span.model_validate(value)
    return parse_duration(str(value))


class Appointment(BaseModel):
    """An outcome that fixes a time (`field` in its data) and reminds parties before it."""

    field: str
    remind_before: Span
    notify: list[str]
    template: str
    audiences: dict[str, str] = Field(default_factory=dict)  # role id -> template for that audience

    @field_validator("remind_before", mode="before")
    @classmethod
    def _parse_span(cls, value: object) -> Span:
        return _span(value)


class Outcome(BaseModel):
    label: Text = Field(default_factory=dict)
    next: str | None = None
    stay: bool = False  # records something on the step without leaving it
    requires_reason: bool = False
    requires_data: list[str] = Field(default_factory=list)
    set_warning_tier: int | None = None
    notify: list[str] = Field(default_factory=list)
    template: str | None = None
    appointment: Appointment | None = None
    hand_over: HandOverSpec | None = None  # start another playbook as a child incident
    wait_until: str | None = None  # adjourn: the step waits until the time in this data field
    min_headcount: int | None = None  # offered only while the incident's headcount is at least this (became_group)
    # the next step's deadline when reached by this outcome (e.g. a repair crew: urban 45m, rural 90m)
    next_deadline: Span | None = None
    back: bool = False  # groupdesk's finding_review `sent_back`: back to the step that closed (never in a YAML)

    @field_validator("next_deadline", mode="before")
    @classmethod
    def _parse_span(cls, value: object) -> Span | None:
        return None if value is None else _span(value)

    def offered_at(self, headcount: int) -> bool:
        """Whether the outcome may be recorded with this many people (`min_headcount`)."""
        return self.min_headcount is None or headcount >= self.min_headcount

    def refusal_at(self, name: str, headcount: int) -> str:
        return (f"outcome {name!r} is offered only while the headcount is {self.min_headcount} or more (it is"
                f" {headcount}); amend the registration first (groupdesk amend ID --headcount N)")


class FollowUp(BaseModel):
    after: Span
    expires_after: Span
    template: str
    reopen: Reopen | None = None  # a dissatisfied answer goes back to a step

    @field_validator("after", "expires_after", mode="before")
    @classmethod
    def _parse_span(cls, value: object) -> Span:
        return _span(value)


class Step(BaseModel):
    kind: Literal["task", "approval", "close"] = "task"
    title: Text
    owner: str
    recorded_by: list[str] = Field(default_factory=list)
    deadline: Span | None = None
    wait_for: list[str] = Field(default_factory=list)
    notify: list[str] = Field(default_factory=list)
    template: str | None = None  # defaults to the step id when the playbook is loaded
    # Where two audiences need different words: role id -> its own template (others get `template`).
    audiences: dict[str, str] = Field(default_factory=dict)
    scripts: dict[str, list[str]] = Field(default_factory=dict)  # 话术, by language
    # extra 话术 for a kind of complainant (seed 003: venting, authority, gain, publicity), by language
    scripts_by_complainant_type: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    outcomes: dict[str, Outcome] = Field(default_factory=dict)
    follow_up: FollowUp | None = None  # close steps only
    finding: Literal["required"] | None = None  # close steps only: a finding before closing (groupdesk.core.finding)
    # approval steps: reasons the director may pick for 不同意 on a WeCom card (each {zh-CN: ..., en: ...})
    refusal_reasons: list[Text] = Field(default_factory=list)

    @field_validator("deadline", mode="before")
    @classmethod
    def _parse_span(cls, value: object) -> Span | None:
        return None if value is None else _span(value)

    def may_record(self, roles: set[str]) -> bool:
        return self.owner in roles or bool(roles & set(self.recorded_by))


class Escalation(BaseModel):
    """At a step's deadline its owner is reminded; each grace period later, the next role up."""

    grace: Span
    chain: dict[str, str]
    reminder_template: str
    escalation_template: str

    @field_validator("grace", mode="before")
    @classmethod
    def _parse_span(cls, value: object) -> Span:
        return _span(value)

    def above(self, role: str) -> list[str]:
        ladder, seen = [], {role}
        while (role := self.chain.get(role)) and role not in seen:
            ladder.append(role)
            seen.add(role)
        return ladder


class ProgressReports(BaseModel):
    """While a warning plan runs at tier `at_or_above` or a more severe one (一级 is the most severe), or at
    any tier with `while_plan_active`, every change of step is reported. Older playbooks wrote `min_tier: 3`,
    which meant the same for the only tier they set (3)."""

    at_or_above: int = Field(3, validation_alias=AliasChoices("at_or_above", "min_tier"))
    while_plan_active: bool = False
    notify: list[str]
    template: str


class Playbook(BaseModel):
    id: str
    version: int
    title: Text
    description: Text = Field(default_factory=dict)  # one line: the situation it is for
    applies: Applies = Field(default_factory=Applies)  # category and headcount it is chosen for
    start: list[str]
    escalation: Escalation
    progress_reports: ProgressReports | None = None
    warning_plan: WarningPlan | None = None  # who raises and ends a running plan, who hears of it
    topic: Text = Field(default_factory=dict)  # what the complaint is about, for templates ({{ topic }})
    steps: dict[str, Step]
    registration_requires: list[str] = Field(default_factory=list)  # registration fields a start must give
    # who may register it (roles at the hall; groupdesk.core.starting) and who owns it from the start
    started_by: list[str] = Field(default_factory=lambda: ["hall_lead"])
    owned_by: Literal["first_receiver", "duty_lead"] = "first_receiver"
    # template name -> language -> Jinja2 source; filled by the loader from templates/<id>/
    templates: dict[str, dict[str, str]] = Field(default_factory=dict)

    def text(self, value: Text, lang: str) -> str:
        return value.get(lang) or value.get(LANGUAGES[0]) or next(iter(value.values()), "")

    def step_title(self, step_id: str, lang: str = "zh-CN") -> str:
        step = self.steps.get(step_id)
        if step is None and step_id == PLAN_STEP and self.warning_plan:
            return self.text(self.warning_plan.title, lang)
        return self.text(step.title, lang) if step else step_id

    def outcome_label(self, step_id: str, outcome: str, lang: str = "zh-CN") -> str:
        if step_id not in self.steps:  # the warning plan's actions (raise, end) are not a step's
            return self.warning_plan.action_label(outcome, lang) if self.warning_plan else outcome
        found = self.steps[step_id].outcomes.get(outcome)
        return (self.text(found.label, lang) if found and found.label else "") or outcome
