"""Runs many `groupdesk` command lines in one process, each through `groupdesk.cli.run` as the script does.

With --out PATH it reads a JSON list of argument lists (or of {"args": [...], "env": {NAME: value}} for a
command that runs with some settings changed) on stdin and writes a JSON list of {args, code, out, err} to PATH:
a file, not stdout, where the Temporal core's own lines could land among the results. The
imports are paid once instead of once per case; an exception that escapes a command is printed
as its traceback, as the real script would print it.

With --serve FD it stays up for a test process (helpers.run_cli): one JSON request per line on stdin,
{"args": [...], "env": {...}} where env is the command's whole environment, and one JSON answer line per
request on file descriptor FD (a pipe of its own: the Temporal core may write to stdout). Each command sees
exactly its own environment and argv, as a new process would.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import traceback


def run_one(run, case: list[str] | dict) -> dict:
    args, env = (case["args"], case.get("env", {})) if isinstance(case, dict) else (case, {})
    out, err = io.StringIO(), io.StringIO()
    code = 0
    before = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    sys.argv = ["groupdesk", *args]  # as the script sees it (`--help` is looked for there)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = run(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001 - what a user would see
            traceback.print_exc()
            code = 1
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    return {"args": args, "code": code, "out": out.getvalue(), "err": err.getvalue()}


def serve(run, fd: int) -> None:
    """One command per line of stdin, each in exactly the environment it names; an answer line per command."""
    answers = os.fdopen(fd, "w", encoding="utf-8")
    for line in sys.stdin:
        request = json.loads(line)
        os.environ.clear()
        os.environ.update(request["env"])
        answers.write(json.dumps(run_one(run, request["args"]), ensure_ascii=False) + "\n")
        answers.flush()


def main() -> None:
    from groupdesk.cli import run

    if sys.argv[1:2] == ["--serve"]:
        serve(run, int(sys.argv[2]))
        os._exit(0)
    if sys.argv[1:2] != ["--out"] or len(sys.argv) != 3:
        sys.exit("usage: cli_batch.py --out PATH < cases.json, or cli_batch.py --serve FD")
    path = sys.argv[2]  # each command sets sys.argv as the script would see it
    cases = json.load(sys.stdin)
    results = [run_one(run, args) for args in cases]
    with open(path, "w", encoding="utf-8") as out:
        json.dump(results, out, ensure_ascii=False)
    os._exit(0)  # as the real script leaves: the Temporal client's threads can abort a normal teardown


if __name__ == "__main__":
    main()
