"""A listed incident's row: a closed incident is a completed workflow, whatever its last attributes still say."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from groupdesk.core import search_attributes as sa
from groupdesk.engine.client import incident_row

AT = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)


def listed(status: WorkflowExecutionStatus):
    """An incident as visibility lists it: the attributes of its last upsert, before its last task."""
    attrs = TypedSearchAttributes([
        SearchAttributePair(sa.HALL, "xicheng"), SearchAttributePair(sa.STATUS, "open"),
        SearchAttributePair(sa.STAGE, "follow_up"), SearchAttributePair(sa.CURRENT_STEPS, ["talk_with_lead"]),
        SearchAttributePair(sa.NEXT_DEADLINE, AT), SearchAttributePair(sa.OVERDUE, True),
        SearchAttributePair(sa.APPROVAL_KEY, "k1"), SearchAttributePair(sa.WARNING_TIER, 2),
    ])
    return SimpleNamespace(id="xicheng-20261207-a1", run_id="r1", typed_search_attributes=attrs, start_time=AT,
                           status=status)


def test_a_completed_incident_is_listed_closed_with_nothing_pending():
    row = incident_row(listed(WorkflowExecutionStatus.COMPLETED))
    assert (row["status"], row["stage"], row["current_steps"]) == ("closed", "closed", [])
    assert row["next_deadline"] is None and not row["overdue"] and not row["approval_pending"]
    assert (row["hall"], row["warning_tier"], row["execution"]) == ("xicheng", 2, "completed")


@pytest.mark.parametrize("status", [WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.TERMINATED])
def test_a_running_or_dead_incident_is_listed_as_its_attributes_say(status):
    row = incident_row(listed(status))
    assert (row["status"], row["stage"], row["current_steps"]) == ("open", "follow_up", ["talk_with_lead"])
    assert row["next_deadline"] == AT.isoformat() and row["overdue"] and row["approval_pending"]
