"""Writing a finished incident to the archive (idempotent: keyed by incident and run)."""

from __future__ import annotations

import structlog
from temporalio import activity

from groupdesk.core import activities as declared
from groupdesk.core.activities import implements
from groupdesk.record.chain import append
from groupdesk.record.archive_record import build_record, corrective_record
from groupdesk.core.corrective import ArchiveCorrective
from groupdesk.core.models import ArchiveIncident
from groupdesk.storage import Database

log = structlog.get_logger("groupdesk.activities.archive")


class ArchiveActivities:
    def __init__(self, db: Database, hash_key: bytes):
        self.db = db
        self.hash_key = hash_key

    @implements(declared.archive_incident)
    def archive_incident(self, request: ArchiveIncident) -> int:
        """The record's sequence number in the archive (the same one if this run was archived before)."""
        info = activity.info()
        with structlog.contextvars.bound_contextvars(incident_id=request.state.id, workflow_id=info.workflow_id,
                                                     attempt=info.attempt):
            record = build_record(request.start, request.state, request.run_id, self.hash_key)
            seq, new = append(self.db, self.hash_key, record)
            log.info("incident archived" if new else "incident already archived", seq=seq)
            return seq

    @implements(declared.archive_corrective)
    def archive_corrective(self, request: ArchiveCorrective) -> int:
        """A verified corrective action's own row in the same hash chain (once: keyed by its id and run)."""
        with structlog.contextvars.bound_contextvars(corrective_id=request.state.id,
                                                     incident_id=request.state.incident_id):
            seq, new = append(self.db, self.hash_key, corrective_record(request.start, request.state, request.run_id))
            log.info("corrective action archived" if new else "corrective action already archived", seq=seq)
            return seq
