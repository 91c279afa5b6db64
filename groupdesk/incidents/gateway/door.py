"""`Gateway`: what staff do to running incidents, each checked by the permission rules first."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Callable

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import ResetReapplyType
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from groupdesk.core import involved
from groupdesk.core.links import CHOSEN
from groupdesk.core.models import (
    Ack, AddNote, DecideApproval, HandOver, IncidentState, MigratePlaybook, RecordFollowUp, RecordOutcome, RecordReset,
    RetryAction, SkipAction, StartIncident,
)
from groupdesk.core.playbook import Playbook
from groupdesk.core.roles import with_ownership
from groupdesk.core.validation import InputError
from groupdesk.engine import visibility
from groupdesk.engine.client import incident_id_for, incident_row
from groupdesk.incidents.amend import AmendGateway
from groupdesk.incidents.complainant import ComplainantGateway
from groupdesk.incidents.correctives import CorrectiveGateway
from groupdesk.incidents.failures import FailuresGateway
from groupdesk.incidents.finding import FindingGateway
from groupdesk.incidents.gateway.corrective_handle import Corrective, corrective_workflow
from groupdesk.incidents.gateway.handles import Incident
from groupdesk.incidents.gateway.starting import start_incident
from groupdesk.incidents.lines import LinesGateway
from groupdesk.incidents.promises import PromiseGateway
from groupdesk.incidents.tell import TellGateway
from groupdesk.incidents.times import check_outcome_times
from groupdesk.people.permissions import Viewer, require, require_uninvolved
from groupdesk.record.evidence import EvidenceGateway
from groupdesk.runtime.config import Settings


def _as_now(req, viewer: Viewer, hall: str):
    """The request with the actor's roles at `hall` as the directory says now: the workflow's validators check
    those (not the roster copied at the start), so who may act is who the SMS go to."""
    return req.model_copy(update={"roles": viewer.roles_at(hall)})


class Gateway(PromiseGateway, EvidenceGateway, TellGateway, FindingGateway, FailuresGateway, ComplainantGateway,
              AmendGateway, CorrectiveGateway, LinesGateway):
    """Everything that touches running incidents, for one Temporal client and one deployment's settings."""

    def __init__(self, client: Client, settings: Settings):
        self.client = client
        self.settings = settings

    def corrective(self, cid: str) -> Corrective:
        from groupdesk.core.corrective import CorrectiveState

        return Corrective(self.client.get_workflow_handle(cid, result_type=CorrectiveState))

    async def start_corrective(self, start, attributes) -> Corrective:
        """Start a corrective action's workflow under its id; WorkflowAlreadyStartedError when the id is taken."""
        return Corrective(await self.client.start_workflow(
            corrective_workflow().run, start, id=start.id, task_queue=self.settings.task_queue,
            search_attributes=attributes, id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE))

    def incident(self, incident_id: str, run_id: str | None = None) -> Incident:
        return Incident(self.client.get_workflow_handle(incident_id, run_id=run_id, result_type=IncidentState))

    # ---- reading ------------------------------------------------------------------------

    async def state(self, incident_id: str) -> IncidentState:
        return await self.incident(incident_id).state()

    async def view(self, viewer: Viewer, incident_id: str) -> tuple[IncidentState, Playbook]:
        """The incident and the playbook it runs, if the viewer may see its hall (Forbidden otherwise)."""
        from groupdesk.playbooks.loader import find_playbook

        incident = self.incident(incident_id)
        state = await incident.state()
        require(viewer.may_view(state.hall_id), f"{viewer.id} may not see incidents of hall {state.hall_id}")
        if state.status == "open":
            return state, await incident.playbook()
        return state, find_playbook(self.settings.playbooks_dir, state.playbook, version=state.playbook_version)

    async def history_json(self, incident_id: str) -> str:
        return (await self.incident(incident_id).history()).to_json()

    async def list(self, query: str, limit: int | None = None) -> list[dict]:
        """Incidents matching a query from groupdesk.engine.visibility (which escapes every value)."""
        rows = []
        now = datetime.now(timezone.utc)
        async for wf in self.client.list_workflows(query, limit=limit, page_size=1000):
            rows.append(incident_row(wf, now))
        return rows

    async def count(self, query: str) -> int:
        """How many incidents match a query from groupdesk.engine.visibility (the board's counts)."""
        return (await self.client.count_workflows(query)).count

    async def find_open(self, key, value: str) -> str | None:
        """The open incident whose search attribute `key` is `value` (an SMS reply's code or key), if any."""
        try:
            query = visibility.open_with(key, value)
        except visibility.QueryValueError:
            return None
        async for found in self.client.list_workflows(query, limit=1):
            return found.id
        return None

    # ---- what staff do, each checked by the permission rules ------------------------------

    def _acting(self, viewer: Viewer, state: IncidentState, playbook: Playbook) -> list[str]:
        """The viewer's roles at the incident's hall now, with those they stand in for (更换当事人)."""
        from groupdesk.people.directory import current_directory
        from groupdesk.people.involvement import acting_roles

        roles = viewer.roles_at(state.hall_id)
        if state.registration.person_involved:
            roles = acting_roles(current_directory(self.settings.directory), state, playbook, roles)
        return sorted(with_ownership(roles, viewer.id, state.owner))  # a step of `owner: incident_owner`

    def assign_id(self, request: StartIncident) -> str:
        """Give a pending request its id: the same hall, lead complainant and day give the same id."""
        if request.incident_id == "pending":
            request.incident_id = incident_id_for(request.hall_id, request.lead.phone, datetime.now(timezone.utc),
                                                  self.settings.hash_key())
        return request.incident_id

    async def start(self, viewer: Viewer, request: StartIncident) -> str:
        """Start a validated request (groupdesk.incidents.registration.prepare_start); WorkflowAlreadyStartedError for a twin."""
        require(viewer.may_start(request.hall_id, request.playbook), viewer.start_refusal(request.hall_id, request.playbook))
        self.assign_id(request)
        await start_incident(self.client, self.settings, request)
        if request.feeder_alert == "study":  # 频繁停电: the 3rd outage on the line opens a special study
            try:
                await self.open_line_study(request)
            except InputError:  # grid operations cannot own it (the person complained about): the incident stands
                pass
        return request.incident_id

    async def record_outcome(self, viewer: Viewer, incident_id: str, req: RecordOutcome) -> Ack:
        state, playbook = await self.view(viewer, incident_id)
        require_uninvolved(viewer, state, f"record the outcome of {req.step}")
        roles = self._acting(viewer, state, playbook)
        step = playbook.steps.get(req.step)
        if step is not None:  # a step the playbook lacks is refused by the workflow, naming the steps it has
            require(step.may_record(set(roles)), f"{viewer.id} may not record {req.step} at hall {state.hall_id}")
            req = self._with_chosen_playbook(state, step.outcomes.get(req.outcome), req)
        check_outcome_times(state, playbook, req)
        return await self.incident(incident_id).record_outcome(req.model_copy(update={"roles": roles}))

    def _with_chosen_playbook(self, state: IncidentState, outcome, req: RecordOutcome) -> RecordOutcome:
        """became_group hands over to the playbook `start` would choose now: chosen here (the workflow reads no
        playbook files), as the data `playbook`; none that fits is one line naming what would."""
        from groupdesk.playbooks.choice import ChoiceError, chosen_now

        if outcome is None or outcome.hand_over is None or outcome.hand_over.playbook != CHOSEN \
                or not outcome.offered_at(state.headcount):  # the workflow refuses it, with the rule
            return req
        try:
            chosen = chosen_now(self.settings.playbooks_dir, state)
        except ChoiceError as exc:
            raise InputError("outcome", f"{req.outcome}: {exc}") from None
        return req.model_copy(update={"data": {**req.data, "playbook": chosen.id}})

    async def decide(self, viewer: Viewer, incident_id: str, req: DecideApproval) -> Ack:
        state, playbook = await self.view(viewer, incident_id)
        require_uninvolved(viewer, state, f"decide on {incident_id}")
        roles = self._acting(viewer, state, playbook)
        require("centre_director" in roles, f"{viewer.id} is not the centre director for {state.hall_id}")
        if req.decision == "reject" and not req.reason.strip():
            raise InputError("reason", "不同意须说明理由 / a rejection needs a reason")
        return await self.incident(incident_id).decide(req.model_copy(update={"roles": roles}))

    async def follow_up(self, viewer: Viewer, incident_id: str, req: RecordFollowUp) -> Ack:
        state, playbook = await self.view(viewer, incident_id)
        require_uninvolved(viewer, state, f"record the follow-up of {incident_id}")
        roles = self._acting(viewer, state, playbook)
        require(bool({"hall_lead", "centre_director"} & set(roles)),
                f"{viewer.id} may not record the follow-up of hall {state.hall_id}")
        return await self.incident(incident_id).follow_up(req.model_copy(update={"roles": roles}))

    async def hand_over(self, viewer: Viewer, incident_id: str, to: str, reason: str) -> Ack:
        """首问负责制: the owner (or the hall lead, or the director) names the next owner, who must hold a role
        at the hall in the directory now; the workflow tells them by SMS."""
        from groupdesk.people.directory import current_directory

        state, playbook = await self.view(viewer, incident_id)
        require_uninvolved(viewer, state, f"hand over {incident_id}")
        roles = self._acting(viewer, state, playbook)
        require(viewer.id == state.owner or bool({"hall_lead", "centre_director"} & set(roles)),
                f"{viewer.id} may not hand over {incident_id}: its owner is {state.owner}")
        directory = current_directory(self.settings.directory)
        if not directory.roles_of(state.hall_id, to):
            raise InputError("to", f"{to!r} holds no role at hall {state.hall_id}; name a staff member of the hall"
                                   " (see `groupdesk directory`)")
        if to == state.registration.person_involved:
            raise InputError("to", involved.refusal(to, f"own {incident_id}"))
        return await self.incident(incident_id).hand_over(
            HandOver(actor=viewer.id, to=to, reason=reason, roles=roles))

    async def note(self, viewer: Viewer, incident_id: str, req: AddNote,
                   room_problem: Callable[[IncidentState], str | None]) -> str | None:
        """Add a note unless `room_problem` finds one with the state (returned, nothing sent)."""
        state, _ = await self.view(viewer, incident_id)
        require(viewer.may_note(state.hall_id), f"{viewer.id} holds no role at hall {state.hall_id}")
        if problem := room_problem(state):
            return problem
        await self.incident(incident_id).note(_as_now(req, viewer, state.hall_id))
        return None

    async def retry(self, viewer: Viewer, incident_id: str, step: str) -> Ack:
        require(viewer.ops, "only the ops team retries failed steps")
        return await self.incident(incident_id).retry(RetryAction(step=step, actor=viewer.id,
                                                                      roles=viewer.roles_at(None)))

    async def skip(self, viewer: Viewer, incident_id: str, step: str, reason: str) -> Ack:
        require(viewer.ops, "only the ops team skips failed steps")
        return await self.incident(incident_id).skip(SkipAction(step=step, actor=viewer.id, reason=reason,
                                                                    roles=viewer.roles_at(None)))

    async def migrate(self, viewer: Viewer, incident_id: str, playbook: Playbook, reason: str = "") -> Ack:
        require(viewer.ops, "only the ops team moves incidents to another playbook version")
        return await self.incident(incident_id).migrate(MigratePlaybook(playbook=playbook, actor=viewer.id,
                                                                        reason=reason, roles=viewer.roles_at(None)))

    async def reset(self, viewer: Viewer, incident_id: str, to_step: str, reason: str, resend: bool = False) -> str:
        """Reset to just before `to_step` began (later updates and signals are not re-applied) and record who,
        where and why in the new run; returns the new run id. ResetError if the step never began."""
        from groupdesk.incidents.reset import reset_point

        require(viewer.ops, "only the ops team resets incidents")
        incident = self.incident(incident_id)
        history, run_id = await incident.history(), await incident.run_id()
        event_id = reset_point(history, to_step)
        response = await self.client.workflow_service.reset_workflow_execution(ResetWorkflowExecutionRequest(
            namespace=self.client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=incident_id, run_id=run_id),
            reason=reason, workflow_task_finish_event_id=event_id, request_id=str(uuid.uuid4()),
            reset_reapply_type=ResetReapplyType.RESET_REAPPLY_TYPE_NONE,
        ))
        await self.incident(incident_id, run_id=response.run_id).record_reset(
            RecordReset(actor=viewer.id, reason=reason, to_step=to_step, resend=resend, roles=viewer.roles_at(None)))
        return response.run_id
