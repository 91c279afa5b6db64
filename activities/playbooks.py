"""Loading a playbook for a hand-over: the child incident's snapshot, recorded in the parent's history."""

from __future__ import annotations

from pathlib import Path

from temporalio.exceptions import ApplicationError

from groupdesk.core import activities as declared
from groupdesk.core.activities import implements
from groupdesk.core.links import ChildStart
from groupdesk.core.playbook import Playbook
from groupdesk.playbooks.loader import PlaybookError, find_playbook


class PlaybookActivities:
    def __init__(self, directory: Path):
        self.directory = Path(directory)

    @implements(declared.load_playbook_snapshot)
    def load(self, request: ChildStart) -> Playbook:
        try:
            return find_playbook(self.directory, request.playbook)
        except PlaybookError as exc:  # a missing or broken playbook will not appear by retrying
            raise ApplicationError(str(exc), type="PlaybookUnavailable", non_retryable=True) from None
