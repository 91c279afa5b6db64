"""Workflow code imports only the pure core: each workflow module, loaded alone in a fresh interpreter,
pulls in no database, no Twilio and no groupdesk module outside `groupdesk.core`; the worker's sandbox
passes through only the core and the workflow code; every activity body is registered under its
declaration's name."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.worker.workflow_sandbox import SandboxRestrictions

from groupdesk.runtime.config import REPO_ROOT
from groupdesk.core import activities as declared
from groupdesk.core.activities import activity_name, implements
from groupdesk.core.models import SendMessages, SendResult
from test_sandbox_helpers import WORKFLOW_CODE
from workflows.sandbox import workflow_runner

pytestmark = pytest.mark.server  # the server tier: each module is imported in a fresh process

WORKFLOW_MODULES = [n for n in WORKFLOW_CODE if n != "workflows.sandbox"]  # the worker's, not workflow code
CORE_MODULES = sorted(f"groupdesk.core.{p.stem}" for p in (REPO_ROOT / "groupdesk" / "core").glob("*.py")
                      if p.stem != "__init__")
OUTBOX = "groupdesk.messaging.outbox"  # I/O for certain: the check must catch it
IO_LIBRARIES = ("sqlite3", "_sqlite3", "sqlalchemy", "twilio", "psycopg", "fastapi", "httpx", "structlog")


@functools.cache
def imports_alone() -> dict[str, list[str]]:
    """Every checked module imported alone (tests/imports_alone.py: one interpreter, a fork per module)."""
    script = Path(__file__).parent / "imports_alone.py"
    out = subprocess.run([sys.executable, str(script), *WORKFLOW_MODULES, *CORE_MODULES, OUTBOX], cwd=REPO_ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def imported_by(module: str) -> list[str]:
    return imports_alone()[module]


def forbidden(modules: list[str]) -> list[str]:
    return [m for m in modules
            if m.split(".")[0] in IO_LIBRARIES or m.split(".")[0] == "activities"
            or (m.startswith("groupdesk.") and not (m == "groupdesk.core" or m.startswith("groupdesk.core.")))]


def test_the_check_sees_io_modules():
    """The check itself: importing the outbox is caught (else every module below would pass vacuously)."""
    caught = forbidden(imported_by(OUTBOX))
    assert "groupdesk.messaging.outbox" in caught and "sqlalchemy" in caught


@pytest.mark.parametrize("module", WORKFLOW_MODULES + CORE_MODULES)
def test_workflow_code_imports_no_io(module):
    assert module and not forbidden(imported_by(module)), f"{module} imports I/O modules"


def test_worker_sandbox_passes_through_only_the_core_and_the_workflow_code():
    added = workflow_runner().restrictions.passthrough_modules - SandboxRestrictions.default.passthrough_modules
    assert added == {"groupdesk.core", "workflows"}, "nothing of groupdesk with I/O, nor groupdesk as a whole"


def test_activity_bodies_are_registered_under_their_declarations():
    from activities.archive import ArchiveActivities
    from activities.calendar import working_day_deadline
    from activities.reports import ReportActivities
    from activities.sms import SmsActivities

    bodies = [SmsActivities.send_messages, working_day_deadline, ArchiveActivities.archive_incident,
              ReportActivities.summaries]
    names = [activity._Definition.must_from_callable(body).name for body in bodies]
    # These names are in every committed history: renaming one breaks replay.
    assert names == ["send_messages", "working_day_deadline", "archive_incident", "periodic_report_summaries"]
    assert names == [activity_name(d) for d in (declared.send_messages, declared.working_day_deadline,
                                                declared.archive_incident, declared.periodic_report_summaries)]


def test_a_body_whose_types_differ_from_its_declaration_is_refused():
    async def send_messages(self, request: SendMessages) -> datetime:  # wrong result type
        raise AssertionError

    with pytest.raises(TypeError, match="send_messages"):
        implements(declared.send_messages)(send_messages)

    async def fine(self, request: SendMessages) -> SendResult:
        raise AssertionError

    assert activity._Definition.must_from_callable(implements(declared.send_messages)(fine)).name == "send_messages"


def test_the_core_imports_nothing_of_groupdesk_outside_it_even_lazily():
    """A lazy import inside a function would escape the fresh-interpreter check above; read the source."""
    import ast

    outside = []
    for path in (REPO_ROOT / "groupdesk" / "core").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            outside += [f"{path.name}: {n}" for n in names
                        if n.split(".")[0] in ("groupdesk", "workflows", "activities", *IO_LIBRARIES)
                        and not n.startswith("groupdesk.core")]
    assert outside == []
