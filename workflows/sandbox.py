"""The workflow sandbox used by the worker and by every replay.

Only the pure core (`groupdesk.core`) is passed through, besides what the SDK passes by default
(the standard library, temporalio, pydantic) and the pure incident machine that
`workflows/group_incident.py` imports in its `imports_passed_through()` block. One copy of the core's pydantic classes serves every
run, so inputs built outside a workflow validate inside it. Everything else of groupdesk, the
database, the outbox and Twilio included, stays out: a workflow that imported it would be
re-imported in the sandbox and fail on its restrictions, and tests/test_sandbox_imports.py checks
that no workflow module imports it at all.
"""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

PASSTHROUGH = ("groupdesk.core",)


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )
