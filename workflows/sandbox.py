"""The workflow sandbox used by the worker and by every replay.

What is passed through (one shared copy in the worker), besides what the SDK passes by default
(the standard library, temporalio, pydantic):

- the pure core (`groupdesk.core`): one copy of its pydantic classes serves every run, so inputs
  built outside a workflow validate inside it;
- the workflow helpers (`WORKFLOW_HELPERS`: the incident machine, the checks, the board, the effects
  runner, the deadline timer, ...). They hold no state: every module-level value is immutable and nothing in them reads
  the clock, randomness or files (tests/test_sandbox_imports.py reads their source for both), so a
  shared copy behaves as a fresh one. Re-importing them for every new incident cost about half of
  the ~16 ms of CPU that creating one workflow instance took, and 100 KiB per cached incident.

The workflow modules themselves (`WORKFLOW_MODULES`, the ones with a `@workflow.defn`) are still
re-imported in a fresh sandbox for every run, as the SDK intends: their globals and class objects
are per run, and the sandbox's run-time restrictions (no wall clock, no file access, ...)
still guard them. Passing them through too would save another ~3 ms of CPU and ~30 KiB per
instance (measured with 1.35); that is not worth losing the sandbox where the workflow's own code
lives. What that re-import no longer pays is compiling the source: the worker runs with
PYTHONDONTWRITEBYTECODE (the Docker image and the dev shell set it), so every re-import compiled
the module again. `CompiledOnce` keeps the compiled code objects (immutable, keyed by path, size
and mtime) for the modules of the `workflows` package; each run still executes them afresh.

Everything else of groupdesk, the database, the outbox and Twilio included, stays out: a workflow
that imported it would be re-imported in the sandbox and fail on its restrictions, and
tests/test_sandbox_imports.py checks that no workflow module imports it at all.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
import threading
from dataclasses import dataclass
from types import CodeType

from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

WORKFLOW_MODULES = ("workflows.corrective", "workflows.group_incident", "workflows.periodic_report")
WORKFLOW_HELPERS = (
    *(f"workflows.{name}" for name in ("board", "checks", "child_runner", "deadline_timer", "effects",
                                        "promise_checks", "tell_checks", "amend_checks", "finding_checks")),
    *(f"workflows.machine.{name}" for name in ("amend", "children", "corrective", "follow_up", "incident", "lines",
                                                "messages", "ops",
                                                "outcome_kinds", "people", "periods", "plan", "progress",
                                                "promises", "record", "steps", "tell", "timers", "findings")),
)
PASSTHROUGH = ("groupdesk.core", "workflows.machine", *WORKFLOW_HELPERS)


class _CachedCodeLoader(importlib.machinery.SourceFileLoader):
    """A source loader that compiles (or unmarshals) a file once and hands out the same code object."""

    codes: dict[tuple[str, int, int], CodeType] = {}
    lock = threading.Lock()

    def get_code(self, fullname: str) -> CodeType:
        stat = os.stat(self.path)
        key = (self.path, stat.st_size, stat.st_mtime_ns)
        code = self.codes.get(key)
        if code is None:
            code = super().get_code(fullname)
            with self.lock:
                self.codes[key] = code
        return code


class CompiledOnce:
    """A meta-path finder for the `workflows` package: its modules load through `_CachedCodeLoader`."""

    @classmethod
    def find_spec(cls, name: str, path=None, target=None):
        if name != "workflows" and not name.startswith("workflows."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and type(spec.loader) is importlib.machinery.SourceFileLoader:
            spec.loader = _CachedCodeLoader(spec.loader.name, spec.loader.path)
        return spec

    @classmethod
    def install(cls) -> None:
        if cls not in sys.meta_path:
            sys.meta_path.insert(0, cls)


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
    CompiledOnce.install()
    return ContextOutside(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )
