"""What workflow code calls: each activity's name and signature, without its body or its I/O.

Workflows pass these to `workflow.execute_activity`, so the result type comes from the signature.
The bodies live in `activities/` and are registered with `@implements(...)`, which takes the name
from here (the names are in every committed history: never rename one) and refuses a body whose
types differ from the declaration.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from temporalio import activity

from groupdesk.core.batch import BatchResult, SendBatch
from groupdesk.core.corrective import ArchiveCorrective
from groupdesk.core.links import ChildStart
from groupdesk.core.models import ArchiveIncident, ReportPeriod, SendMessages, SendResult, WorkingDeadline
from groupdesk.core.playbook import Playbook

F = TypeVar("F", bound=Callable)


def _declared(body: str) -> typing.NoReturn:
    raise NotImplementedError(f"a declaration; the worker runs {body}")


@activity.defn(name="send_messages")
def send_messages(request: SendMessages) -> SendResult:
    """Render each message, store it once in the outbox, hand it to the provider."""
    _declared("activities.sms.SmsActivities.send_messages")


@activity.defn(name="send_batch")
def send_batch(request: SendBatch) -> BatchResult:
    """send_messages for each request of one transition (a local activity); a failure is returned, not raised."""
    _declared("activities.sms.SmsActivities.send_batch")


@activity.defn(name="working_day_deadline")
def working_day_deadline(request: WorkingDeadline) -> datetime:
    """The moment a number of working days (holidays and make-up days counted) after a start."""
    _declared("activities.calendar.working_day_deadline")


@activity.defn(name="archive_incident")
def archive_incident(request: ArchiveIncident) -> int:
    """The record's sequence number in the archive (the same one if this run was archived before)."""
    _declared("activities.archive.ArchiveActivities.archive_incident")


@activity.defn(name="archive_corrective")
def archive_corrective(request: ArchiveCorrective) -> int:
    """A verified corrective action's sequence number in the archive (its own row in the same hash chain)."""
    _declared("activities.archive.ArchiveActivities.archive_corrective")


@activity.defn(name="periodic_report_summaries")
def periodic_report_summaries(period: ReportPeriod) -> list[SendMessages]:
    """One summary per hall for the period, built from the archive and stored as a report."""
    _declared("activities.reports.ReportActivities.summaries")


@activity.defn(name="load_playbook_snapshot")
def load_playbook_snapshot(request: ChildStart) -> Playbook:
    """The current version of a playbook, as the snapshot a child incident (a hand-over) runs."""
    _declared("activities.playbooks.PlaybookActivities.load")


def activity_name(declared: Callable) -> str:
    return activity._Definition.must_from_callable(declared).name


def _types(fn: Callable) -> tuple[list[object], object]:
    hints = typing.get_type_hints(fn)
    params = [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]
    return [hints.get(p.name) for p in params], hints.get("return")


def implements(declared: Callable) -> Callable[[F], F]:
    """Register an activity body under a declaration's name; TypeError if their types differ."""

    def register(body: F) -> F:
        if _types(body) != _types(declared):
            raise TypeError(f"{body.__qualname__} does not match the declaration of {activity_name(declared)!r}: "
                            f"{_types(body)} != {_types(declared)}")
        return activity.defn(name=activity_name(declared))(body)

    return register
