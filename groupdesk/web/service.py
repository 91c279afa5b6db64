"""What the console and the JSON API can do, with every permission checked here first."""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import WorkflowAlreadyStartedError

from groupdesk.engine import visibility
from groupdesk.core import validation as v
from groupdesk.core.intake import search_fields_problem
from groupdesk.incidents.tickets import find_by_ticket
from groupdesk.runtime.config import Settings
from groupdesk.people.directory import Directory, current_directory
from groupdesk.messaging.channels import sms_refusal
from groupdesk.core.validation import InputError
from groupdesk.incidents.registration import check_start, parse_local_time, prepare_start
from groupdesk.incidents.gateway import Gateway
from groupdesk.core.models import Ack, AddNote, DecideApproval, IncidentState, RecordFollowUp, RecordOutcome
from groupdesk.core.playbook import Playbook
from groupdesk.playbooks.choice import ChoiceError, pick_playbook, valid_playbooks
from groupdesk.people.permissions import Viewer, require
from groupdesk.storage.submissions import Submissions
from groupdesk.web.errors import Invalid, Rejected, check, refuse
from groupdesk.web.promise_console import PromiseConsole
from groupdesk.core import search_attributes as sa


@dataclass
class StartForm:
    hall: str = ""
    headcount: str = ""
    lead_name: str = ""
    lead_phone: str = ""
    summary: str = ""
    playbook: str = ""  # empty: the playbook whose `applies` fits the category and headcount
    drill: bool = False
    time_scale: str = ""
    submit_token: str = ""
    address: str = ""  # the registration (登记): optional
    account_no: str = ""
    category: str = ""
    demands: str = ""
    complainant_type: str = ""
    media_present: bool = False
    person_involved: str = ""  # 更换当事人: staff id of whom the complaint is about
    channel: str = "visit"  # how it came in (groupdesk.core.intake)
    ticket_no: str = ""  # its work-order number
    feeder: str = ""  # 频繁停电: an outage incident's line (线路), e.g. 10kV杨柳线
    errors: dict[str, str] = field(default_factory=dict)

    def registration(self) -> dict:
        return {"address": self.address, "account_no": self.account_no, "category": self.category,
                "demands": self.demands, "complainant_type": self.complainant_type,
                "media_present": self.media_present, "person_involved": self.person_involved,
                "channel": self.channel, "ticket_no": self.ticket_no, "feeder": self.feeder}


class Console(PromiseConsole):
    def __init__(self, settings: Settings, client_factory):
        self.settings = settings
        self._client_factory = client_factory
        self.submissions = Submissions(settings)

    async def client(self) -> Client:
        return await self._client_factory()

    async def gateway(self) -> Gateway:
        return Gateway(await self.client(), self.settings)

    def directory(self) -> Directory:
        return current_directory(self.settings.directory)

    # ---- reading ------------------------------------------------------------------------

    async def incidents(self, viewer: Viewer, hall: str | None = None, tier: int | None = None,
                        stage: str | None = None, drill: bool | None = None, closed: bool = False,
                        ticket_no: str | None = None, channel: str | None = None) -> list[dict]:
        """Open (running) incidents the viewer may see; with closed=True also closed and dead ones. With ticket_no
        (and `channel`): those registered with that work-order number, closed ones (the archive's too) included,
        as `groupdesk list --ticket-no` finds them."""
        self.check_filters(hall, tier, stage)
        if wrong := search_fields_problem(ticket_no, channel):
            raise Invalid(*wrong)
        if ticket_no is not None:
            found = await find_by_ticket(await self.gateway(), self.settings, ticket_no.strip(), channel or None,
                                         hall=hall, tier=tier, drill=drill, stage=stage)
            return [r for r in found if viewer.may_view(r["hall"])]
        query = visibility.list_query(hall=hall, status=None if closed else "open", tier=tier, drill=drill,
                                      stage=stage)
        rows = await (await self.gateway()).list(query, limit=500)
        return [r for r in rows if viewer.may_view(r["hall"])]

    def check_filters(self, hall: str | None, tier: int | None, stage: str | None) -> None:
        """A list's or the board's filters: a 400 naming the field for an unknown hall, tier or step."""
        if hall and self.directory().hall(hall) is None:
            raise Invalid("hall", f"unknown hall {v.shown(hall)}; halls: "
                                  f"{', '.join(h.id for h in self.directory().halls)}", 400)
        if problem := v.tier_problem(tier):
            raise Invalid("tier", problem, 400)
        if stage and (problem := v.identifier_problem(stage, "step")):
            raise Invalid("stage", problem, 400)

    async def incident(self, viewer: Viewer, incident_id: str) -> tuple[IncidentState, Playbook]:
        refuse("incident_id", v.incident_id_problem(incident_id))
        return await (await self.gateway()).view(viewer, incident_id)

    async def approvals(self, viewer: Viewer) -> list[dict]:
        halls = viewer.roles.get("centre_director", set())
        if not halls:
            return []
        query = visibility.incidents(visibility.equals(sa.STATUS, "open"), f'{sa.APPROVAL_KEY.name} != "-"')
        rows = await (await self.gateway()).list(query, limit=500)
        return [r for r in rows if r["hall"] in halls and r["approval_pending"]]

    async def failed(self, viewer: Viewer) -> list[dict]:
        require(viewer.ops, "only the ops team sees failed steps across incidents")
        return await (await self.gateway()).failures()

    # ---- changing -----------------------------------------------------------------------

    async def start(self, viewer: Viewer, form: StartForm) -> str | None:
        """Start an incident; None with form.errors filled if the input is wrong (nothing started)."""
        if len(form.submit_token) > 64:
            form.errors["submit_token"] = "too long; reload the form (a token is at most 64 characters)"
            return None
        hall_known = self.directory().hall(form.hall) is not None
        if hall_known:  # before anything else: a known form token tells nobody else which incident it started
            require(viewer.may_start_any(form.hall, valid_playbooks(self.settings.playbooks_dir)),
                    f"{viewer.id} may start no playbook at hall {form.hall}")
        if hall_known and form.submit_token and (existing := self._submitted(form.submit_token)):
            return existing  # the same form sent twice: one incident
        headcount = _whole_number(form.headcount)
        if form.headcount.strip() and headcount is None:
            form.errors["headcount"] = "人数须为整数 / the number of people is a whole number"
        time_scale = None
        if form.time_scale.strip():
            try:
                time_scale = float(form.time_scale[:32])
            except ValueError:
                form.errors["time_scale"] = "时间倍率须为数字 / the time scale is a number"
        playbook = None
        try:
            playbook = pick_playbook(self.settings.playbooks_dir, form.playbook, form.category, headcount,
                                     form.registration())
        except ChoiceError as exc:
            form.errors["playbook"] = str(exc)
        if playbook is not None and "playbook" not in form.errors and (refused := sms_refusal(self.settings, playbook)):
            form.errors["playbook"] = refused  # a message it sends has no approved template where it goes
        if hall_known and playbook is not None and "playbook" not in form.errors:  # its started_by roles (403)
            require(viewer.may_start(form.hall, playbook), viewer.start_refusal(form.hall, playbook))
        directory = self.directory()
        checked = check_start(
            directory, hall=form.hall, headcount=headcount, lead_name=form.lead_name, lead_phone=form.lead_phone,
            summary=form.summary, drill=form.drill, time_scale=time_scale, started_by=viewer.id,
            registration=form.registration(), playbook=None if "playbook" in form.errors else playbook)
        for field_name, message in checked.problems.items():
            if field_name != "started_by":  # who may start is the playbook's rule, checked above (403)
                form.errors.setdefault(field_name, message)
        if form.errors:
            return None
        request = prepare_start(
            directory=directory, playbook=playbook, hall_id=form.hall, headcount=headcount,
            lead_name=form.lead_name, lead_phone=checked.lead_phone, summary=form.summary, started_by=viewer.id,
            incident_id="pending", drill=form.drill, time_scale=time_scale, history_budget=self.settings.history_budget,
            registration=form.registration(),
        )
        gateway = await self.gateway()
        gateway.assign_id(request)
        claimed = request.incident_id
        if form.submit_token and not self._claim(form.submit_token, claimed):
            return self._submitted(form.submit_token)  # a second click raced the first: same incident
        try:
            await gateway.start(viewer, request)
            if form.submit_token and request.incident_id != claimed:  # a repeat complaint got the next id
                self.submissions.move(form.submit_token, request.incident_id)
        except WorkflowAlreadyStartedError:
            self._release(form.submit_token)
            form.errors["lead_phone"] = (f"该领头人今日在本厅已有事件 {request.incident_id} / an incident for this lead"
                                         f" complainant at this hall already exists today: {request.incident_id}")
            return None
        return request.incident_id

    async def record_outcome(self, viewer: Viewer, incident_id: str, step: str, outcome: str, note: str = "",
                             data: dict[str, str] | None = None) -> Ack:
        check(v.outcome_problems(step, outcome, note, dict(data or {})))
        refuse("incident_id", v.incident_id_problem(incident_id))
        values = dict(data or {})
        for key, value in list(values.items()):
            if key.endswith("_at") and value:
                try:
                    values[key] = parse_local_time(value).isoformat()
                except ValueError:
                    raise Invalid(f"data.{key}", f"{v.shown(value)} is not a date and time, e.g. 2026-11-25 10:00") \
                        from None
        return await self._update(lambda gateway: gateway.record_outcome(viewer, incident_id, RecordOutcome(
            step=step, outcome=outcome, actor=viewer.id, note=note, data=values)))

    async def decide(self, viewer: Viewer, incident_id: str, approve: bool, reason: str = "") -> Ack:
        refuse("reason", v.note_problem(reason))
        refuse("incident_id", v.incident_id_problem(incident_id))
        return await self._update(lambda gateway: gateway.decide(viewer, incident_id, DecideApproval(
            decision="approve" if approve else "reject", actor=viewer.id, reason=reason)))

    async def follow_up(self, viewer: Viewer, incident_id: str, score: int, comment: str = "") -> Ack:
        if not 1 <= score <= 5:
            raise Invalid("score", f"{score} is out of range; give 1 (very unsatisfied) to 5 (very satisfied)")
        refuse("comment", v.note_problem(comment))
        refuse("incident_id", v.incident_id_problem(incident_id))
        return await self._update(lambda gateway: gateway.follow_up(
            viewer, incident_id, RecordFollowUp(score=score, actor=viewer.id, comment=comment)))

    async def note(self, viewer: Viewer, incident_id: str, text: str) -> None:
        refuse("text", v.note_problem(text))
        refuse("incident_id", v.incident_id_problem(incident_id))
        refuse("text", await (await self.gateway()).note(
            viewer, incident_id, AddNote(actor=viewer.id, text=text),
            lambda state: v.note_problem(text, "备注为空 / the note is empty") or v.room_problem(state.timeline, text)))

    async def hand_over(self, viewer: Viewer, incident_id: str, to: str, reason: str) -> Ack:
        refuse("incident_id", v.incident_id_problem(incident_id))
        refuse("to", v.staff_id_problem(to))
        refuse("reason", v.note_problem(reason, "说明移交原因 / say why it is handed over"))
        return await self._update(lambda gateway: gateway.hand_over(viewer, incident_id, to, reason))

    async def retry(self, viewer: Viewer, incident_id: str, step: str) -> Ack:
        require(viewer.ops, "only the ops team retries failed steps")
        check(_target_problems(incident_id, step))
        return await self._update(lambda gateway: gateway.retry(viewer, incident_id, step))

    async def skip(self, viewer: Viewer, incident_id: str, step: str, reason: str) -> Ack:
        require(viewer.ops, "only the ops team skips failed steps")
        check(_target_problems(incident_id, step))
        refuse("reason", v.note_problem(reason, "say why the action is skipped"))
        return await self._update(lambda gateway: gateway.skip(viewer, incident_id, step, reason))

    async def _update(self, action) -> Ack:
        """Run one gateway action; a refusal by the workflow's validator becomes Rejected (409)."""
        try:
            return await action(await self.gateway())
        except InputError as exc:
            raise Invalid(exc.field, exc.message) from None
        except WorkflowUpdateFailedError as exc:
            raise Rejected(getattr(exc.cause, "message", None) or str(exc.cause or exc)) from None

    def _submitted(self, token: str) -> str | None:
        return self.submissions.get(token)

    def _claim(self, token: str, incident_id: str) -> bool:
        return self.submissions.claim(token, incident_id)

    def _release(self, token: str) -> None:
        if token:
            self.submissions.release(token)


def _whole_number(raw: str) -> int | None:
    text = raw.strip()
    if not text or len(text) > 20 or not text.isascii():
        return None
    try:
        return int(text, 10)
    except ValueError:
        return None


def _target_problems(incident_id: str, step: str) -> dict[str, str]:
    problems = {}
    if problem := v.incident_id_problem(incident_id):
        problems["incident_id"] = problem
    if step != "-" and (problem := v.identifier_problem(step, "step")):
        problems["step"] = problem
    return problems
