"""What staff do with evidence, through the gateway (a mixin of groupdesk.incidents.gateway.Gateway): attach a file to an
incident while its workflow runs (until the archive record is written), list it, download it (logged).

Who: staff holding a role at the incident's hall attach; whoever may see the incident lists and downloads.
"""

from __future__ import annotations

import asyncio

import structlog
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from groupdesk.core import validation as v
from groupdesk.core.evidence import EvidenceAdded
from groupdesk.core.roles import LEAD_COMPLAINANT
from groupdesk.people.permissions import Viewer, require
from groupdesk.record.attachments import Attachments
from groupdesk.record.evidence_check import IMAGE_TYPES, MAX_PER_INCIDENT, EvidenceRefused, check, size_problem
from groupdesk.record.evidence_store import store_for
from groupdesk.storage import open_database

log = structlog.get_logger("groupdesk.evidence")
VIA = ("cli", "console", "api")


class EvidenceGateway:
    """Needs `settings`, `incident(id)` and `view(viewer, id)` from the Gateway it is mixed into."""

    def attachments_table(self) -> Attachments:
        return Attachments(open_database(self.settings), store_for(self.settings))

    async def attach(self, viewer: Viewer, incident_id: str, data: bytes, name: str = "",
                     step: str | None = None) -> tuple[dict, bool]:
        """Check the file, store it and its row: (row, created). EvidenceRefused (one line) for a file, a step or
        an incident that cannot take it; Forbidden for someone who holds no role at the incident's hall."""
        if problem := v.incident_id_problem(incident_id):
            raise EvidenceRefused("incident_id", problem)
        state, playbook = await self.view(viewer, incident_id)
        require(viewer.may_note(state.hall_id),
                f"{viewer.id} holds no role at hall {state.hall_id}; staff of the hall attach evidence")
        if step and step not in playbook.steps:
            raise EvidenceRefused("step", f"{v.shown(step)} is not a step of {playbook.id}; steps: "
                                          f"{', '.join(playbook.steps)}")
        if (await self.incident(incident_id).describe()).status != WorkflowExecutionStatus.RUNNING:
            raise EvidenceRefused("incident_id", f"{incident_id} is archived: evidence is attached until the archive"
                                                 " record is written, while the incident runs", 409)
        evidence = await asyncio.to_thread(check, data, name)  # decoding a photo takes a while: off the loop
        row, created = await asyncio.to_thread(self.attachments_table().add, incident_id, state.hall_id,
                                               step or None, viewer.id, evidence, name)
        # told on every attach, a file the incident holds already too: a retry after a failed update heals, and
        # the workflow keeps each file once
        await self.evidence_added(incident_id, row, viewer.roles_at(state.hall_id), created)
        return row, created

    async def attach_from_complainant(self, incident_id: str, hall_id: str, data: bytes) -> dict:
        """A photo from the complainant's status page (the link is their proof; the page found the incident): the
        same checks and store as staff evidence, images only, recorded as added by `lead_complainant`. Refusals
        are EvidenceRefused with one plain Chinese line (413 too large, 422 not a photo, 409 full or archived);
        nothing is stored then."""
        if size_problem(len(data)):
            raise EvidenceRefused("photo", "照片超过 10 MB,请压缩后或换一张再上传。" if data else "请选择一张照片。",
                                  413 if data else 422)
        if (await self.incident(incident_id).describe()).status != WorkflowExecutionStatus.RUNNING:
            raise EvidenceRefused("photo", "事项已办结归档,不能再上传照片。", 409)
        table = self.attachments_table()
        if await asyncio.to_thread(table.count, incident_id) >= MAX_PER_INCIDENT:
            raise EvidenceRefused("photo", f"本事项的照片和材料已达 {MAX_PER_INCIDENT} 个上限,不能再上传。", 409)
        not_a_photo = EvidenceRefused("photo", "只能上传 JPEG、PNG 或 WebP 格式的照片。", 422)
        try:
            evidence = await asyncio.to_thread(check, data)  # their file name is not kept
        except EvidenceRefused:
            raise not_a_photo from None
        if evidence.media_type not in IMAGE_TYPES:  # a PDF is for staff
            raise not_a_photo
        try:
            row, created = await asyncio.to_thread(table.add, incident_id, hall_id, None, LEAD_COMPLAINANT,
                                                   evidence, "")
        except EvidenceRefused:  # filled meanwhile
            raise EvidenceRefused("photo", f"本事项的照片和材料已达 {MAX_PER_INCIDENT} 个上限,不能再上传。", 409) from None
        if created:
            await self.evidence_added(incident_id, row, [LEAD_COMPLAINANT])
        return row

    async def evidence_added(self, incident_id: str, row: dict, roles: list[str], created: bool = True) -> None:
        """The incident hears of a file stored for it (the `evidence_added` update): both hashes, kind, size, step
        and who, never the file's name; its timeline and, at close, its archive record list it."""
        req = EvidenceAdded(attachment_id=row["id"], original_sha256=row["original_sha256"],
                            stored_sha256=row["stored_sha256"], kind=row["media_type"], size=row["size"],
                            step=row["step"], actor=row["added_by"], roles=list(roles))
        try:
            await self.incident(incident_id).evidence_added(req)
        except RPCError as err:
            # the incident finished between the check and the update: the file and its row stay (listed, verified
            # by `archive verify`), its archive record does not name it
            log.warning("evidence not told to the incident", incident_id=incident_id, attachment=row["id"],
                        error=type(err).__name__)
        if created:
            log.info("evidence attached", incident_id=incident_id, step=row["step"], attachment=row["id"],
                     media_type=row["media_type"], stored_sha256=row["stored_sha256"][:16])

    async def evidence(self, viewer: Viewer, incident_id: str) -> list[dict]:
        """The incident's attachments, if the viewer may see the incident."""
        if problem := v.incident_id_problem(incident_id):
            raise EvidenceRefused("incident_id", problem)
        rows = await asyncio.to_thread(self.attachments_table().list, incident_id)
        if rows:  # the hall is on the rows: no need to ask Temporal (which may have forgotten the incident)
            require(viewer.may_view(rows[0]["hall_id"]), f"{viewer.id} may not see incidents of hall {rows[0]['hall_id']}")
        else:
            await self.view(viewer, incident_id)
        return rows

    async def evidence_file(self, viewer: Viewer, incident_id: str, sha: str, via: str) -> tuple[dict, bytes]:
        """One attachment and its content for a viewer who may see the incident; the download is logged."""
        if problem := v.incident_id_problem(incident_id):
            raise EvidenceRefused("incident_id", problem)
        table = self.attachments_table()
        row = await asyncio.to_thread(table.find, incident_id, sha)
        if row is None:
            raise EvidenceRefused("sha256", f"{incident_id} has no attachment {v.shown(sha[:64])}; see"
                                            f" `groupdesk attachments list {incident_id}`", 404)
        require(viewer.may_view(row["hall_id"]), f"{viewer.id} may not see incidents of hall {row['hall_id']}")
        content = await asyncio.to_thread(table.content, row, viewer.id, via)
        log.info("evidence downloaded", incident_id=incident_id, attachment=row["id"], by=viewer.id, via=via)
        return row, content
