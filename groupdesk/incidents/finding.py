"""Recording the finding (有效投诉的认定) from the client side: checked as typed, against the causes file and the
staff directory (who and which unit), by the role rule (the owner, the hall lead or the director), then the
workflow's `finding` update, whose validator checks the same again."""

from __future__ import annotations

from groupdesk.core.finding import RecordFinding, finding_problems, finding_refusal
from groupdesk.core.models import Ack
from groupdesk.core.validation import InputError
from groupdesk.people.permissions import Viewer, require, require_uninvolved


def check_finding(req: RecordFinding, causes, directory) -> None:
    """The first problem of a finding as typed, as InputError naming the field (nothing is recorded)."""
    for field, problem in finding_problems(req, tuple(causes)).items():
        raise InputError(field, problem)
    for person in req.responsible_people:
        if directory.person(person) is None:
            raise InputError("responsible_people", f"no staff member {person!r} in the directory;"
                             " see `groupdesk directory`")
    unit = req.responsible_unit
    if unit and directory.hall(unit) is None and directory.unit(unit) is None:
        raise InputError("responsible_unit", f"no hall or unit {unit!r} in the directory;"
                         " give a hall id or a unit id (see `groupdesk directory`)")


class FindingGateway:
    """Mixed into `groupdesk.incidents.gateway.Gateway` (needs `incident`, `view`, `_acting` and `settings`)."""

    def causes(self) -> dict[str, dict[str, str]]:
        from groupdesk.playbooks.causes import load_causes

        return load_causes(self.settings.playbooks_dir)

    async def record_finding(self, viewer: Viewer, incident_id: str, req: RecordFinding) -> Ack:
        """The owner, the hall lead or the centre director records (or corrects) the incident's finding."""
        from groupdesk.people.directory import current_directory

        check_finding(req, self.causes(), current_directory(self.settings.directory))
        state, playbook = await self.view(viewer, incident_id)
        require_uninvolved(viewer, state, f"record the finding of {incident_id}")
        roles = self._acting(viewer, state, playbook)
        require(viewer.may_tell(state, roles), finding_refusal(viewer.id, state.id, state.owner))
        return await self.incident(incident_id).finding(req.model_copy(update={"actor": viewer.id, "roles": roles}))
