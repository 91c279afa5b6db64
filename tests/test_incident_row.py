"""A listed incident's row: a closed incident is a completed workflow, whatever its last attributes still say;
an open one is overdue once its step's deadline has passed, without waiting for the incident to say so."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from groupdesk.core import search_attributes as sa
from groupdesk.engine.client import incident_row

AT = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)


def listed(status: WorkflowExecutionStatus, overdue: bool | None = None):
    """An incident as visibility lists it: the attributes of its last upsert, before its last task. This release's
    incidents publish their step's deadline and no overdue flag; the previous release's published the flag."""
    flag = [] if overdue is None else [SearchAttributePair(sa.OVERDUE, overdue)]
    attrs = TypedSearchAttributes([
        SearchAttributePair(sa.HALL, "xicheng"), SearchAttributePair(sa.STATUS, "open"),
        SearchAttributePair(sa.STAGE, "follow_up"), SearchAttributePair(sa.CURRENT_STEPS, ["talk_with_lead"]),
        SearchAttributePair(sa.NEXT_DEADLINE, AT), *flag,
        SearchAttributePair(sa.APPROVAL_KEY, "k1"), SearchAttributePair(sa.WARNING_TIER, 2),
    ])
    return SimpleNamespace(id="xicheng-20261207-a1", run_id="r1", typed_search_attributes=attrs, start_time=AT,
                           status=status)


def test_a_completed_incident_is_listed_closed_with_nothing_pending():
    row = incident_row(listed(WorkflowExecutionStatus.COMPLETED), AT + timedelta(hours=1))
    assert (row["status"], row["stage"], row["current_steps"]) == ("closed", "closed", [])
    assert row["next_deadline"] is None and not row["overdue"] and not row["approval_pending"]
    assert (row["hall"], row["warning_tier"], row["execution"]) == ("xicheng", 2, "completed")


@pytest.mark.parametrize("status", [WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.TERMINATED])
def test_a_running_or_dead_incident_is_listed_as_its_attributes_say(status):
    row = incident_row(listed(status), AT + timedelta(seconds=1))
    assert (row["status"], row["stage"], row["current_steps"]) == ("open", "follow_up", ["talk_with_lead"])
    assert row["next_deadline"] == AT.isoformat() and row["overdue"] and row["approval_pending"]


def test_an_open_incident_is_overdue_from_the_moment_its_deadline_passes():
    running = listed(WorkflowExecutionStatus.RUNNING)
    assert not incident_row(running, AT - timedelta(seconds=1))["overdue"]
    assert incident_row(running, AT)["overdue"]
    assert incident_row(running, AT + timedelta(days=3))["overdue"]


@pytest.mark.parametrize("flag", [True, False])
def test_an_incident_of_the_previous_release_is_overdue_as_its_flag_says(flag):
    """Its deadline attribute was the next timer (a reminder's or an escalation's), not the step's deadline."""
    row = incident_row(listed(WorkflowExecutionStatus.RUNNING, overdue=flag), AT + timedelta(hours=1))
    assert row["overdue"] is flag
