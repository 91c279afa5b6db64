"""The workflow sandbox used by the worker and by every replay.

What is passed through (one shared copy in the worker), besides what the SDK passes by default
(the standard library, temporalio, pydantic):

- the pure core (`groupdesk.core`): one copy of its pydantic classes serves every run, so inputs
  built outside a workflow validate inside it;
- the `workflows` package, the workflow modules (the ones with a `@workflow.defn`) and their helpers
  (the incident machine, the checks, the board, the effects runner, the deadline timer, ...).

A passed-through module is imported once per worker, not once per run: its module-level values and
class attributes are shared by every incident the worker runs, and its own imports (`datetime`, ...)
are the real modules, not the sandbox's restricted proxies. So what the sandbox would refuse at run
time in that code is checked in its source instead (tests/test_sandbox_helpers.py, for every module
of the package): no mutable module-level value or class attribute, no wall clock, randomness or file
access. The sandbox still runs every activation under its thread-local builtins and import guard.
Re-importing the workflow modules for every new incident cost 15 to 20 % of the worker's CPU per
incident in a mass event (bench/results/profile.md, "Who waits in a surge") and their helpers about
half of creating an instance before that.

Everything else of groupdesk, the database, the outbox and Twilio included, stays out: a workflow
that imported it would be re-imported in the sandbox and fail on its restrictions, and
tests/test_sandbox_imports.py checks that no workflow module imports it at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

PASSTHROUGH = ("groupdesk.core", "workflows")


@dataclass(frozen=True)
class ContextOutside(SandboxedWorkflowRunner):
    """The SDK's sandboxed runner, except that a payload's serialization context is read without entering the
    sandbox.

    The worker asks an instance for that context for every payload of every activation and completion, in
    each of its three encoding passes (about 40 times per incident), even without a payload codec. The SDK
    answers each time by executing a line of code in the sandbox under its import guard, only for the SDK's
    own `_WorkflowInstanceImpl` to read its info and pending activities: about a quarter of the workflow
    side's CPU. No workflow code runs in those calls, so asking the instance directly changes nothing that
    the sandbox guards; activations (every line of workflow code) still run in it, under its restrictions.
    """

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        instance = super().create_instance(det)
        inside = getattr(instance, "globals_and_locals", {}).get("__temporal_in_sandbox")
        if inside is not None:  # the SDK's layout as pinned in constraints.txt; otherwise its own way
            instance.get_serialization_context = inside.get_serialization_context  # type: ignore[method-assign]
            instance.get_external_store_context = inside.get_external_store_context  # type: ignore[method-assign]
        return instance


def workflow_runner() -> SandboxedWorkflowRunner:
    return ContextOutside(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )
