"""Which modules each named module pulls in when imported alone, for tests/test_sandbox_imports.py.

One interpreter loads what every workflow module may use (temporalio, pydantic and the named `groupdesk.core`
modules), then forks a child per named module: the child imports it and reports `sys.modules`. Loading more first
only adds modules, so a module that pulls in I/O is still caught, as in a fresh interpreter, without paying for a
new interpreter and those libraries each time; a core module that pulls in I/O shows in every child's list.
Prints {module: [modules loaded]} as JSON.
"""

from __future__ import annotations

import json
import os
import sys

import pydantic  # noqa: F401  (allowed in workflow code: loaded once, shared by every child)
import temporalio.workflow  # noqa: F401


def alone(module: str) -> list[str]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: import, report, leave without running the parent's cleanup
        os.close(read)
        try:
            __import__(module)
            out = json.dumps(sorted(sys.modules))
        except BaseException as exc:  # reported, so the test names the module that failed to import
            out = json.dumps({"error": f"{type(exc).__name__}: {exc}"})
        with os.fdopen(write, "w") as pipe:
            pipe.write(out)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        got = json.loads(pipe.read())
    os.waitpid(pid, 0)
    if isinstance(got, dict):
        raise SystemExit(f"{module}: {got['error']}")
    return got


if __name__ == "__main__":
    for name in sys.argv[1:]:
        if name.startswith("groupdesk.core."):
            __import__(name)
    print(json.dumps({module: alone(module) for module in sys.argv[1:]}))
