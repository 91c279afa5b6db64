"""Evidence the incident is told of (issue 29): what the gateway's `evidence_added` sends the workflow once a file is
stored for a running incident, and what the incident keeps of it (its timeline entry, `IncidentState.evidence`, the
archive record). Both hashes, the kind, the size, the step and who: never the file's name (it may name a person).

Pure: the gateway builds the request from the attachments row, and the workflow's validator checks it with
`evidence_problems`.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel

MEDIA_TYPES: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp", "application/pdf")
MAX_BYTES = 10 * 1024 * 1024  # one file
SHA256 = re.compile(r"[0-9a-f]{64}")


class EvidenceAdded(BaseModel):
    """A file newly stored for the incident (the `evidence_added` update's input)."""

    attachment_id: int
    original_sha256: str  # the file as it came
    stored_sha256: str  # the copy kept (a photo without its metadata)
    kind: str  # its media type, one of MEDIA_TYPES
    size: int  # bytes stored
    step: str | None = None
    actor: str
    roles: list[str] | None = None  # the actor's roles at the hall as the gateway read them


class EvidenceItem(BaseModel):
    """What the incident keeps of one file: its timeline says the same in words."""

    attachment_id: int
    original_sha256: str
    stored_sha256: str
    kind: str
    size: int
    step: str | None = None
    added_by: str
    added_at: datetime


def evidence_problems(req: EvidenceAdded, steps: object) -> dict[str, str]:
    """Each field of the request that is wrong, and why (empty when it may be kept); `steps`: the playbook's."""
    problems: dict[str, str] = {}
    for field in ("original_sha256", "stored_sha256"):
        if not SHA256.fullmatch(getattr(req, field)):
            problems[field] = "must be 64 lower-case hex digits (a SHA-256)"
    if req.kind not in MEDIA_TYPES:
        problems["kind"] = f"must be one of {', '.join(MEDIA_TYPES)}"
    if not 0 < req.size <= MAX_BYTES:
        problems["size"] = f"must be 1 to {MAX_BYTES} bytes"
    if req.attachment_id < 1:
        problems["attachment_id"] = "must be the attachments row's id (1 or more)"
    if req.step is not None and req.step not in steps:  # type: ignore[operator]
        problems["step"] = f"{req.step!r} is not a step of this playbook"
    return problems


def evidence_line(item: EvidenceItem) -> str:
    """The timeline entry's detail: kind, size and the stored copy's hash (labels.py says it in words)."""
    return f"{item.kind} {item.size} bytes sha256 {item.stored_sha256}"

