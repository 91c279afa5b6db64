"""The workflow helpers the sandbox passes through are safe to share between runs: no mutable
module-level value, no clock, randomness or file access (what the sandbox would have refused at run
time, read from their source); and a new run re-imports only its workflow module, without compiling it."""

from __future__ import annotations

import ast
import asyncio
import importlib
import sys
import types

import pytest
import temporalio.converter
import temporalio.workflow
from temporalio.api.common.v1.message_pb2 import Payloads
from temporalio.api.failure.v1.message_pb2 import Failure
from temporalio.worker._workflow_instance import WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox._restrictions import RestrictedModule
from temporalio.worker.workflow_sandbox._runner import _fake_info

from groupdesk.runtime.config import REPO_ROOT
from workflows.group_incident import GroupIncidentWorkflow
from workflows.sandbox import WORKFLOW_HELPERS, workflow_runner

IMMUTABLE = (str, bytes, int, float, bool, type(None), tuple, frozenset, types.MappingProxyType)
MUTABLE = (list, dict, set, bytearray)
# calls the sandbox forbids in workflow code, which a passed-through module would make unchecked
CLOCK = {"now", "utcnow", "today"}  # datetime.now() and the like; workflow.now() is the one allowed
IO_MODULES = {"os", "time", "uuid", "random", "secrets", "socket", "threading", "subprocess", "pathlib", "io",
              "logging"}  # `from random import Random` is allowed: a generator seeded by the workflow


def own_values(module: types.ModuleType) -> dict[str, object]:
    """Module-level values the module defines itself (not imported modules, functions or classes)."""
    return {k: v for k, v in vars(module).items() if not k.startswith("__")
            and not isinstance(v, (types.ModuleType, types.FunctionType, type))}


@pytest.mark.parametrize("name", WORKFLOW_HELPERS)
def test_helper_holds_no_mutable_module_state(name):
    mutable = {k: type(v).__name__ for k, v in own_values(importlib.import_module(name)).items()
               if isinstance(v, MUTABLE)}
    assert mutable == {}, f"{name}: one copy serves every run, so freeze these (tuple, frozenset, MappingProxyType)"


def test_the_state_check_sees_a_mutable_table():
    fake = types.ModuleType("fake")
    fake.TABLE, fake.FROZEN = {"en": "x"}, types.MappingProxyType({"en": "x"})
    assert [k for k, v in own_values(fake).items() if isinstance(v, MUTABLE)] == ["TABLE"]


def forbidden_calls(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            receiver = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            if (isinstance(func, ast.Attribute) and func.attr in CLOCK and receiver != "workflow"
                    or receiver in IO_MODULES):
                found.append(f"{ast.unparse(func)}() at line {node.lineno}")
            elif isinstance(func, ast.Name) and func.id in ("open", "input", "print"):
                found.append(f"{func.id}() at line {node.lineno}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if isinstance(node, ast.ImportFrom) and node.module == "random" and [a.name for a in node.names] == [
                    "Random"]:
                continue
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"import {n} at line {node.lineno}" for n in names if n.split(".")[0] in IO_MODULES]
    return found


@pytest.mark.parametrize("name", WORKFLOW_HELPERS)
def test_helper_reads_no_clock_randomness_or_files(name):
    source = (REPO_ROOT / (name.replace(".", "/") + ".py")).read_text(encoding="utf-8")
    assert forbidden_calls(source) == [], f"{name}: use workflow.now() / workflow.random(), or take `now` as input"


def test_the_source_check_sees_a_clock():
    source = ("import time\nfrom random import Random, randint\nx = datetime.now()\ny = workflow.now()\n"
              "z = random.random()\n")
    assert forbidden_calls(source) == ["import time at line 1", "import random at line 2",
                                       "datetime.now() at line 3", "random.random() at line 5"]


def sandboxed_instances(count: int) -> list:
    """`count` fresh sandboxed GroupIncident instances, made as the worker makes them (not yet activated)."""
    runner = workflow_runner()
    defn = temporalio.workflow._Definition.must_from_class(GroupIncidentWorkflow)
    converter = temporalio.converter.DataConverter.default
    details = WorkflowInstanceDetails(
        payload_converter_factory=converter._new_payload_converter,
        failure_converter_class=converter.failure_converter_class,
        interceptor_classes=[], defn=defn, info=_fake_info, randomness_seed=-1, extern_functions={},
        disable_eager_activity_execution=False, worker_level_failure_exception_types=[],
        patch_activation_callback=None, last_completion_result=Payloads(), last_failure=Failure())

    async def make() -> list:
        return [runner.create_instance(details) for _ in range(count)]

    return asyncio.run(make())


def test_a_new_run_re_imports_only_its_workflow_module_and_does_not_compile_it_again():
    first, second = sandboxed_instances(2)
    own = {name for name, module in first.importer.new_modules.items()
           if module is not sys.modules.get(name) and not isinstance(module, RestrictedModule)}
    assert own == {"__main__", "workflows", "workflows.group_incident"}
    for helper in ("workflows.machine.incident", "workflows.board", "workflows.effects", "workflows.checks"):
        assert first.importer.new_modules[helper] is sys.modules[helper]
    classes = [instance.globals_and_locals["__temporal_workflow_class"] for instance in (first, second)]
    assert classes[0] is not classes[1] and classes[0] is not GroupIncidentWorkflow  # each run its own module
    assert classes[0].run.__code__ is classes[1].run.__code__  # compiled once


def test_serialization_contexts_are_read_outside_the_sandbox_and_are_the_ones_the_sdk_gives():
    """The worker asks for a payload's context ~40 times per incident; the answer is the SDK's own, read without
    entering the sandbox (an SDK whose runner is laid out differently would fail here, not in production)."""
    from temporalio.worker.workflow_sandbox._runner import _Instance

    (instance,) = sandboxed_instances(1)
    assert instance.get_serialization_context.__self__ is instance.globals_and_locals["__temporal_in_sandbox"]
    assert instance.get_serialization_context(None) == _Instance.get_serialization_context(instance, None)
    assert instance.get_serialization_context(None).workflow_id == _fake_info.workflow_id
    assert instance.get_external_store_context(None) == _Instance.get_external_store_context(instance, None)
