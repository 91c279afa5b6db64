"""One door to running incidents: no module outside the package groupdesk/incidents/gateway/ holds a workflow handle."""

from __future__ import annotations

import re

from groupdesk.runtime.config import REPO_ROOT

GATEWAY = REPO_ROOT / "groupdesk" / "incidents" / "gateway"  # a package: the handles, the start, the Gateway
# bench/baseline.py drives its own bare workflow (the engine's baseline, not groupdesk), so it keeps its handle
NOT_GROUPDESK = {REPO_ROOT / "bench" / "baseline.py"}
# describe(), result() and the like need a handle, which only get_workflow_handle and start_workflow give
HANDLE_CALLS = re.compile(
    r"get_workflow_handle|start_workflow|execute_workflow|signal_with_start|execute_update|start_update"
    r"|fetch_history|reset_workflow_execution|(?<!signal)\.signal\(|\.query\(")


def sources() -> list:
    files = [*(REPO_ROOT / "groupdesk").rglob("*.py"), *(REPO_ROOT / "bench").glob("*.py"), REPO_ROOT / "worker.py"]
    return sorted(f for f in files if GATEWAY not in f.parents and f not in NOT_GROUPDESK)


def handle_calls(path) -> list[str]:
    return [f"{path.relative_to(REPO_ROOT)}:{n}: {line.strip()}"
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if HANDLE_CALLS.search(line)]


def test_no_module_but_the_gateway_holds_a_workflow_handle():
    found = [hit for path in sources() for hit in handle_calls(path)]
    assert not found, "only the package groupdesk/incidents/gateway/ may touch a workflow; use it instead:\n" + "\n".join(found)


def test_the_check_finds_what_it_looks_for():
    """The pattern catches each kind of call (so the test above can fail), and not signal.signal."""
    sample = ["h = client.get_workflow_handle(i)", "await h.execute_update(u, p)", "await h.signal(s, x)",
              "await h.query(q)", "await client.start_workflow(r)", "signal.signal(n, f)"]
    assert [bool(HANDLE_CALLS.search(line)) for line in sample] == [True] * 5 + [False]
    assert len(sources()) > 40 and GATEWAY.is_dir()
    assert not [p for p in sources() if GATEWAY in p.parents]  # the package is let off, its neighbours are not:
    assert {GATEWAY.parent / "promises.py", GATEWAY.parent / "amend.py", REPO_ROOT / "worker.py"} <= set(sources())


def test_the_gateway_package_is_where_the_handles_are():
    """The package itself does touch workflows (so the rule above exempts what it should, and only that)."""
    inside = [hit for path in sorted(GATEWAY.glob("*.py")) for hit in handle_calls(path)]
    assert any("handles.py" in hit for hit in inside) and any("starting.py" in hit for hit in inside)
