"""The workflow code the sandbox passes through is safe to share between runs: no mutable module-level
value or class attribute, no clock, randomness or file access (what the sandbox would have refused at
run time, read from the source of every module of `workflows`); and a new run re-imports none of it."""

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
from workflows.sandbox import PASSTHROUGH, workflow_runner

# every module of the package, the workflow modules and their helpers alike: the sandbox passes them all through
WORKFLOW_CODE = sorted(".".join(p.relative_to(REPO_ROOT).with_suffix("").parts).removesuffix(".__init__")
                       for p in (REPO_ROOT / "workflows").rglob("*.py"))
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


def class_values(module: types.ModuleType) -> dict[str, object]:
    """Class attributes of the classes the module defines, as `Class.name`."""
    return {f"{cls.__name__}.{k}": v for cls in vars(module).values()
            if isinstance(cls, type) and cls.__module__ == module.__name__
            for k, v in vars(cls).items() if not k.startswith("__")}


def test_every_workflow_module_is_passed_through():
    assert "workflows" in PASSTHROUGH and len(WORKFLOW_CODE) > 30


@pytest.mark.parametrize("name", WORKFLOW_CODE)
def test_workflow_code_holds_no_mutable_module_or_class_state(name):
    module = importlib.import_module(name)
    mutable = {k: type(v).__name__ for k, v in {**own_values(module), **class_values(module)}.items()
               if isinstance(v, MUTABLE)}
    assert mutable == {}, f"{name}: one copy serves every run, so freeze these (tuple, frozenset, MappingProxyType)"


def test_the_state_check_sees_a_mutable_table_and_class_attribute():
    fake = types.ModuleType("fake")
    fake.TABLE, fake.FROZEN = {"en": "x"}, types.MappingProxyType({"en": "x"})
    fake.Machine = type("Machine", (), {"__module__": "fake", "seen": [], "limit": 3})
    assert [k for k, v in own_values(fake).items() if isinstance(v, MUTABLE)] == ["TABLE"]
    assert [k for k, v in class_values(fake).items() if isinstance(v, MUTABLE)] == ["Machine.seen"]


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


@pytest.mark.parametrize("name", [n for n in WORKFLOW_CODE if n != "workflows.sandbox"])  # the worker's, not run
def test_workflow_code_reads_no_clock_randomness_or_files(name):
    path = REPO_ROOT / name.replace(".", "/")
    source = (path / "__init__.py" if path.is_dir() else path.with_suffix(".py")).read_text(encoding="utf-8")
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


def test_a_new_run_re_imports_none_of_the_workflow_code():
    first, second = sandboxed_instances(2)
    own = {name for name, module in first.importer.new_modules.items()
           if module is not sys.modules.get(name) and not isinstance(module, RestrictedModule)}
    assert own == {"__main__"}
    assert first.importer.new_modules["workflows.group_incident"] is sys.modules["workflows.group_incident"]
    classes = [instance.globals_and_locals["__temporal_workflow_class"] for instance in (first, second)]
    assert classes[0] is classes[1] is GroupIncidentWorkflow  # the worker's own class, for every run


def test_serialization_contexts_are_read_outside_the_sandbox_and_are_the_ones_the_sdk_gives():
    """The worker asks for a payload's context ~40 times per incident; the answer is the SDK's own, read without
    entering the sandbox (an SDK whose runner is laid out differently would fail here, not in production)."""
    from temporalio.worker.workflow_sandbox._runner import _Instance

    (instance,) = sandboxed_instances(1)
    assert instance.get_serialization_context.__self__ is instance.globals_and_locals["__temporal_in_sandbox"]
    assert instance.get_serialization_context(None) == _Instance.get_serialization_context(instance, None)
    assert instance.get_serialization_context(None).workflow_id == _fake_info.workflow_id
    assert instance.get_external_store_context(None) == _Instance.get_external_store_context(instance, None)
