"""Typed inputs and state shared by the workflow, the activities, the CLI and (later) the console."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from groupdesk.core.evidence import EvidenceItem
from groupdesk.core.finding import Finding
from groupdesk.core.links import LinkedIncident, ParentLink
from groupdesk.core.periods import SensitivePeriod
from groupdesk.core.phones import Phone
from groupdesk.core.promise_models import Promise, PromiseChange  # noqa: F401  (PromiseChange re-exported)
from groupdesk.core.snapshots import SharedPlaybook
from groupdesk.core.workdays import WorkdayCalendar

Purpose = Literal["step_started", "reminder", "escalation", "approval_request", "progress_report", "follow_up",
                  "repeat_complaint", "periodic_report", "periodic_report_unit", "handover", "sensitive_period_start",
                  "publicity_alert", "registered_by_other",
                  "promise_reminder", "promise_missed", "promise_kept", "promise_changed", "reopened", "tell",
                  "headcount_outside",
                  "appointment_changed",
                  "corrective_reminder", "corrective_missed", "corrective_rejected", "corrective_verified",
                  "feeder_warning"]


class StaffRef(BaseModel):
    """What a workflow keeps of a staff member: enough to check rights, no phone."""

    id: str
    name: str


# The actor's roles at the incident's hall as the gateway read them from the directory just now, so the
# workflow's validators and the SMS follow one directory; None (requests sent straight to Temporal, and
# every request recorded before): the validators fall back to the roster copied at the start.
CurrentRoles = list[str] | None


class Complainant(BaseModel):
    name: str
    phone: Phone  # E.164, parsed once where it was typed; here only its shape is checked
    lang: str = "zh-CN"


Category = Literal["service", "business", "outage", "power_quality", "grid_construction"]  # the 95598 classes
ComplainantType = Literal["venting", "authority", "gain", "publicity"]  # seed 003's four kinds of group


class AmendKeys(BaseModel):
    """The keyed hashes of an amended registration, made by the client: what finds the incident now."""

    complainant: str = ""  # GroupdeskComplainant: the lead's phone ("": the phone did not change)
    repeat_keys: list[str] = Field(default_factory=list)  # GroupdeskRepeatKeys: "account:<hash>", "community:<hash>"
    follow_up_key: str = ""  # how an SMS answer from the lead's phone finds the incident ("": unchanged)


class Registration(BaseModel):
    """What the hall registers besides who came and how many (seeds 003, 004): every field optional."""

    address: str = ""  # address or community
    account_no: str = ""  # 户号
    category: Category | None = None
    demands: str = ""
    complainant_type: ComplainantType | None = None
    media_present: bool = False
    person_involved: str = ""  # 更换当事人: the staff member the complaint is about (may not act on it or own it)
    channel: str = "visit"  # how it came in (groupdesk.core.intake.CHANNELS): 来访, 95598, 12398, 12345, ...
    ticket_no: str = ""  # the work-order number from that channel, if it has one
    feeder: str = ""  # 频繁停电: an outage incident's line (normalised, groupdesk.core.lines)


class StartIncident(BaseModel):
    incident_id: str
    playbook: SharedPlaybook  # the snapshot: later edits of the YAML never reach this incident (one parsed copy)
    hall_id: str
    hall_name: str
    hall_name_en: str = ""
    roster: dict[str, list[StaffRef]]  # who held each role at the hall when it started
    headcount: int
    lead: Complainant
    summary: str
    started_by: str
    drill: bool = False
    time_scale: float = 1.0
    lang: str = "zh-CN"
    history_budget: int = 2000  # continue as new before the history grows past this many events
    follow_up_key: str = ""  # keyed hash of the lead's phone, made by the client: how an SMS answer finds us
    carried: "IncidentState | None" = None  # the state handed over by a continue-as-new
    repeat_of: str | None = None  # the same complainant's earlier incident (90 days), found by the client
    repeat_outcome: str = ""  # how that one ended, for the hall lead's SMS
    repeat_reasons: list[str] = Field(default_factory=list)  # groupdesk.core.repeats.REASONS ([]: same complainant)
    registration: Registration = Field(default_factory=Registration)  # empty in starts made before it existed
    sensitive_period: SensitivePeriod | None = None  # the calendar's period at the start (none before periods)
    owner: str = ""  # who owns it from the start when not the starter (a more senior person); "" = started_by
    parent: ParentLink | None = None  # a child incident: the incident that handed it over
    feeder_outages: int = 0  # the line's outages within 12 months, this one included (counted by the client)
    feeder_alert: str = ""  # what this start sets off on its line: "warning" (2nd outage), "study" (3rd) or ""
    workdays: WorkdayCalendar | None = None  # the holiday calendar at the start (None: working days by an activity)


class RecordOutcome(BaseModel):
    step: str
    outcome: str
    actor: str
    note: str = ""
    data: dict[str, str] = Field(default_factory=dict)
    roles: CurrentRoles = None


class DecideApproval(BaseModel):
    decision: Literal["approve", "reject"]
    actor: str
    reason: str = ""
    code_key: str = ""  # given when the decision came by SMS reply: the keyed hash of the code replied with
    roles: CurrentRoles = None


class RecordFollowUp(BaseModel):
    score: int
    actor: str
    comment: str = ""
    phone: str = ""  # with actor lead_complainant: the number the answer came from
    phone_key: str = ""  # or, from their status page: the keyed hash of that number the link was issued for
    roles: CurrentRoles = None


class AddNote(BaseModel):
    actor: str
    text: str
    roles: CurrentRoles = None


class HandOver(BaseModel):
    """首问负责制: the incident's named owner passes it to another staff member, with the reason."""

    actor: str
    to: str
    reason: str
    roles: CurrentRoles = None


class TimelineEntry(BaseModel):
    at: datetime
    kind: str
    step: str | None = None
    actor: str | None = None
    detail: str = ""


class StepState(BaseModel):
    step: str
    status: Literal["waiting", "active", "done"] = "active"
    visit: int = 1
    started_at: datetime | None = None
    deadline_at: datetime | None = None
    reminded: bool = False
    escalation_level: int = 0
    outcome: str | None = None
    finished_at: datetime | None = None
    arrived_from: list[str] = Field(default_factory=list)
    data: dict[str, str] = Field(default_factory=dict)  # what the step's outcomes recorded (accountability, agreement_no)
    adjourned: int = 0  # times the step was adjourned to an agreed time (its deadline moved there)


class Appointment(BaseModel):
    step: str
    field: str
    at: datetime
    remind_at: datetime
    reminded: bool = False


class Deadline(BaseModel):
    kind: Literal["step", "reminder", "escalation", "appointment_reminder", "follow_up", "follow_up_expiry",
                  "promise_reminder", "promise_due", "promise_escalation"]
    step: str | None
    due_at: datetime
    role: str | None = None
    promise: str | None = None  # promise deadlines: the promise's id


class Delivery(BaseModel):
    """One message of a send, as the workflow keeps it (no full number)."""

    key: str
    recipient: str  # person id, or lead_complainant
    role: str
    to_masked: str = ""
    status: Literal["sent", "failed", "duplicate", "undelivered"]
    error: str = ""
    channel: str = "sms"  # sms, or wecom (GROUPDESK_STAFF_CHANNEL=wecom: a staff message as a WeCom message)
    note: str = ""  # why WeCom did not take it and the SMS went instead (on the timeline)


class DeliveryReport(BaseModel):
    """A delivery report from the SMS provider that staff should see on the incident."""

    key: str
    status: str
    error_code: str = ""


class FailedAction(BaseModel):
    """An action that failed for good; kept whole so ops can run it again (or skip it)."""

    at: datetime
    step: str | None
    purpose: str
    error: str
    attempts: int = 1
    request: dict[str, Any] = Field(default_factory=dict)
    status: Literal["parked", "retrying", "retried", "skipped"] = "parked"
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    reason: str = ""


class RetryAction(BaseModel):
    step: str
    actor: str
    roles: CurrentRoles = None


class MigratePlaybook(BaseModel):
    playbook: SharedPlaybook  # the newer version's snapshot
    actor: str
    reason: str = ""
    roles: CurrentRoles = None


class RecordReset(BaseModel):
    actor: str
    reason: str
    to_step: str
    resend: bool = False
    roles: CurrentRoles = None


class SkipAction(BaseModel):
    step: str
    actor: str
    reason: str
    roles: CurrentRoles = None


class FollowUpState(BaseModel):
    send_at: datetime | None = None
    expires_at: datetime | None = None
    sent: bool = False
    score: int | None = None
    comment: str = ""
    outcome: Literal["pending", "answered", "expired"] = "pending"


class IncidentState(BaseModel):
    id: str
    playbook: str
    playbook_version: int
    hall_id: str
    hall_name: str
    headcount: int
    summary: str
    drill: bool
    time_scale: float
    status: Literal["open", "closed"] = "open"
    stage: str = ""
    started_at: datetime
    started_by: str
    closed_at: datetime | None = None
    warning_tier: int = 0
    current_steps: list[str] = Field(default_factory=list)
    steps: dict[str, StepState] = Field(default_factory=dict)
    appointments: list[Appointment] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    deadlines: list[Deadline] = Field(default_factory=list)
    deliveries: list[Delivery] = Field(default_factory=list)
    failed_actions: list[FailedAction] = Field(default_factory=list)
    follow_up: FollowUpState | None = None
    resolution: str | None = None
    rejection_reason: str | None = None
    approval_key: str | None = None  # keyed hash of the pending approval's code (never the code); cleared once decided
    action_retries: int = 0  # ops retries made: numbers each retry's messages
    resend_epoch: int = 0  # bumped by a reset with --resend: messages get new idempotency keys
    runs: int = 1  # workflow runs so far: a long incident continues as new to keep its history short
    progress_reports: int = 0  # how many were sent: numbers the next one's idempotency key
    repeat_of: str | None = None  # a repeat complaint: the earlier incident of the same complainant, account or community
    repeat_reasons: list[str] = Field(default_factory=list)  # which of those (groupdesk.core.repeats.REASONS)
    owner: str | None = None  # 首问负责制: who started it, until a handover names the next
    registration: Registration = Field(default_factory=Registration)  # copied from the start
    sensitive_period: SensitivePeriod | None = None  # started inside a sensitive period: deadlines shortened
    promises: list[Promise] = Field(default_factory=list)  # 合理承诺,有诺必行: what staff promised, and by when
    linked: list[LinkedIncident] = Field(default_factory=list)  # parent and child incidents (hand-overs)
    reopened: int = 0  # dissatisfied follow-up answers that sent the incident back
    # After an amendment of the registration (issue 28): the keyed hashes that find the incident now (the
    # complainant, the repeat keys), made by the client; None: as published at the start.
    amended_keys: AmendKeys | None = None
    amendments: int = 0  # how often the registration was amended: numbers the next one's messages
    finding: Finding | None = None  # 有效投诉的认定: founded or not, cause, who and which unit (groupdesk.core.finding)
    evidence: list[EvidenceItem] = Field(default_factory=list)  # files attached while it ran (groupdesk.core.evidence)


# Kept in the workflow (a continued run keeps its approval's hash), never shown: the state query blanks it
# and what shows a state to people leaves it out.
SECRET_STATE_FIELDS = {"approval_key", "amended_keys"}


def state_json(state: IncidentState) -> dict[str, Any]:
    """An incident's state as `show --json` and the API give it: no secret field; the registration view carries
    the headcount too (`registration.headcount`), as amended."""
    shown = state.model_dump(mode="json", exclude=SECRET_STATE_FIELDS)
    shown["registration"]["headcount"] = state.headcount
    return shown


class Ack(BaseModel):
    """What an Update returns: enough for the caller to say what happens next."""

    status: str
    stage: str
    current_steps: list[str]
    warning_tier: int


class PromiseAck(Ack):
    """What the `promise` update returns: the Ack, and the id of the promise it made or changed."""

    promise: str = ""


class SendMessages(BaseModel):
    """One activity call: a template rendered for every holder of the recipient roles."""

    incident_id: str
    hall_id: str
    step: str | None
    purpose: Purpose
    key: str  # incident/step#visit/purpose/discriminator; the recipient is appended per person
    recipients: list[str]
    template: dict[str, str]  # language -> Jinja2 source, from the snapshot
    context: dict[str, Any]
    # role id -> language -> source, for recipients the playbook gives their own template
    audience_templates: dict[str, dict[str, str]] = Field(default_factory=dict)
    step_title: dict[str, str] = Field(default_factory=dict)
    owner_role: str | None = None
    escalated_from: str | None = None
    lead: Complainant | None = None
    drill: bool = False
    retry: int = 0  # an ops retry: a message refused for good earlier is tried again, to current numbers
    visit: int = 0  # the step's visit this message belongs to (0 in requests made before it was recorded)
    # 更换当事人: the person the complaint is about gets none of its messages; a role they alone hold is
    # served by the next role up `chain` (the playbook's escalation chain). Both empty without one.
    excluded: list[str] = Field(default_factory=list)
    chain: dict[str, str] = Field(default_factory=dict)
    # an approval request: the step's refusal reasons for 不同意 on a WeCom card (each {zh-CN: ..., en: ...})
    refusal_reasons: list[dict[str, str]] = Field(default_factory=list)


class SendResult(BaseModel):
    deliveries: list[Delivery]
    approval_key: str | None = None  # an approval request: the keyed hash of the code its SMS carries


class ArchiveIncident(BaseModel):
    """What the archive activity needs at the end of a run: the start (playbook, roster, lead) and the final state."""

    start: StartIncident
    state: IncidentState
    run_id: str  # with the incident id, the record's key: a retried activity never writes twice


class PeriodicReport(BaseModel):
    """A scheduled report: weekly (the 7 days before the run) or monthly (the month before)."""

    kind: Literal["weekly", "monthly"] = "weekly"


class ReportPeriod(BaseModel):
    kind: str
    first: str  # local dates, both included
    last: str


class WorkingDeadline(BaseModel):
    start: datetime
    working_days: int


StartIncident.model_rebuild()
ArchiveIncident.model_rebuild()
