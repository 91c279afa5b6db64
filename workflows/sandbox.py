"""The workflow sandbox used by the worker and by every replay.

groupdesk's models are always passed through: a module the sandbox re-imports would
otherwise get its own copies of the pydantic classes, and inputs built from one copy fail
validation against the other.
"""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("groupdesk")
    )
