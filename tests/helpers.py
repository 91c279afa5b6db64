"""Driving incidents in tests the way staff do (through the workflow's Updates), and the one way a test
gets groupdesk's settings (`setup_for`, and the `settings` / `dev_setup` fixtures in conftest.py)."""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import functools
import inspect
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from temporalio.client import WorkflowHandle

from groupdesk.incidents.gateway import start_incident
from groupdesk.core.models import DecideApproval, IncidentState, RecordFollowUp, RecordOutcome
from groupdesk.messaging.outbox import Outbox
from worker import build_worker
from workflows.group_incident import GroupIncidentWorkflow

WF = GroupIncidentWorkflow

# Tests sign in with this password: the shipped example password (groupdesk-demo) opens nothing outside
# `groupdesk dev`, so a test's console has accounts of its own, as a production one must.
TEST_PASSWORD = "tests-only-password-5e1b"
# What production insists on (startup.py): the keys worker.py and `groupdesk console` need to start at all.
PRODUCTION_KEYS = {"GROUPDESK_SECRET_KEY": "test-secret-" + "s" * 40, "GROUPDESK_HASH_KEY": "test-hash-" + "h" * 40,
                   "GROUPDESK_PUBLIC_URL": "https://groupdesk.example.cn",
                   "GROUPDESK_CODEC_KEYS": "k1=" + base64.b64encode(b"groupdesk tests' payload key: 32").decode()}


@functools.cache  # made once per test process; never written to
def accounts_file(directory: Path | None = None, real_cost: bool = False, without: tuple[str, ...] = ()) -> Path:
    """A GROUPDESK_ACCOUNTS file for every person of `directory` (default: the example) but those `without` (people
    who sign in only through WeCom), all with TEST_PASSWORD;
    hashed with small argon2 parameters (verifying reads them from the hash), so signing in stays quick, unless
    `real_cost` (the production parameters, for tests that time or count a sign-in's hashing: one hash shared by
    every account, as each costs ~0.3 CPU-s and those tests never change an account)."""
    import yaml
    from argon2 import PasswordHasher

    from groupdesk.runtime.config import EXAMPLE_DIRECTORY

    people = [p["id"] for p in yaml.safe_load(Path(directory or EXAMPLE_DIRECTORY).read_text("utf-8"))["people"]
              if p["id"] not in without]
    if real_cost:
        hashed = [PasswordHasher().hash(TEST_PASSWORD)] * len(people)
    else:  # a salt each: changing one account's hash changes only it
        hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        hashed = [hasher.hash(TEST_PASSWORD) for _ in people]
    folder = Path(tempfile.mkdtemp(prefix="groupdesk-accounts-"))
    atexit.register(shutil.rmtree, folder, True)
    path = folder / "accounts.yaml"
    path.write_text(yaml.safe_dump({"accounts": dict(zip(people, hashed))}), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Setup:
    """One test's groupdesk settings, once: `env` (the variables) for the processes it runs (the CLI, worker.py,
    `groupdesk console`), `settings` for the same in this process."""

    env: dict[str, str] = field(default_factory=dict)

    @functools.cached_property
    def settings(self):
        from groupdesk.runtime.config import Settings

        return Settings(**self.env)

    def but(self, **variables) -> "Setup":
        """The same with some variables changed (a value of None removes one)."""
        env = dict(self.env)
        for name, value in variables.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = str(value)
        return Setup(env)

    def process_env(self) -> dict[str, str]:
        """A whole environment for a subprocess: this one's, with nothing groupdesk reads from the runner's."""
        outside = {k: v for k, v in os.environ.items() if not k.startswith(("GROUPDESK_", "TWILIO_", "TEMPORAL_"))}
        return outside | self.env


def seed_database(data_dir: Path) -> None:
    """A data dir without a database starts with a copy of the one this process migrated once (to the head: it
    holds no row of anyone's), as a deployment's is after its first start. Migrating a fresh SQLite file took
    0.1-0.2 CPU-s, in hundreds of tests; the migrations themselves are tested in test_storage on both backends."""
    from groupdesk.storage import DEFAULT_FILE

    data_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
    migrated_sqlite(data_dir / DEFAULT_FILE)


def migrated_sqlite(path: Path) -> Path:
    """`path`, a SQLite file at the schema's head (a copy of the one this process migrated), unless it exists."""
    if not path.exists():
        shutil.copyfile(_migrated_database(), path)
        path.chmod(0o600)
    return path


@functools.cache
def _migrated_database() -> Path:
    from groupdesk.storage import DEFAULT_FILE, Database
    from groupdesk.storage.engine import sqlite_url

    folder = Path(tempfile.mkdtemp(prefix="groupdesk-migrated-"))
    atexit.register(shutil.rmtree, folder, True)
    database = Database(sqlite_url(folder / DEFAULT_FILE))
    database.engine.dispose()  # the last connection closed: the WAL is checkpointed into the file
    return folder / DEFAULT_FILE


def setup_for(data_dir: Path, temporal=None, *, queue: str = "test", production: bool = False,
              **variables) -> Setup:
    """Settings for a test: its data dir, a task queue of its own, the example directory with test accounts,
    the Temporal of `temporal` (a WorkflowEnvironment, or an address) if given, and with `production` the keys
    worker.py and `groupdesk console` insist on; `variables` (GROUPDESK_...=value) add or override."""
    from groupdesk.runtime.config import EXAMPLE_DIRECTORY

    directory = Path(variables.get("GROUPDESK_DIRECTORY") or EXAMPLE_DIRECTORY)
    seed_database(Path(data_dir))
    env = {"GROUPDESK_DATA_DIR": str(data_dir), "GROUPDESK_TASK_QUEUE": f"{queue}-{uuid.uuid4().hex[:6]}",
           "GROUPDESK_DIRECTORY": str(EXAMPLE_DIRECTORY), "GROUPDESK_ACCOUNTS": str(accounts_file(directory))}
    if temporal is not None:
        env["TEMPORAL_ADDRESS"] = temporal if isinstance(temporal, str) else \
            temporal.client.service_client.config.target_host
    if production:
        env.update(PRODUCTION_KEYS)
    return Setup(env).but(**variables)


@contextlib.asynccontextmanager
async def running_worker(env, settings):
    async with build_worker(env.client, settings):
        yield


async def start(env, settings, request) -> WorkflowHandle:
    return await start_incident(env.client, settings, request)


async def outcome(handle, step, name, actor, note="", finding=True, **data):
    """Record an outcome; one that closes a real incident and is refused for want of a finding gets an unfounded
    finding recorded by the incident's owner first (`finding=False`: as refused)."""
    req = RecordOutcome(step=step, outcome=name, actor=actor, note=note, data=data)
    return await with_finding(handle, lambda: handle.execute_update(WF.record_outcome, req), finding)


async def decide(handle, actor, approve=True, reason="", finding=True):
    req = DecideApproval(decision="approve" if approve else "reject", actor=actor, reason=reason)
    return await with_finding(handle, lambda: handle.execute_update(WF.decide_approval, req), finding)


async def record_finding(handle, actor=None, founded="no", cause="other", people=(), unit="",
                         reason="经核实投诉不属实"):
    """Record the incident's finding (by default: unfounded, by its owner)."""
    from groupdesk.core.finding import RecordFinding

    actor = actor or (await state(handle)).owner
    return await handle.execute_update(WF.finding, RecordFinding(
        actor=actor, founded=founded, cause=cause, responsible_people=list(people), responsible_unit=unit,
        reason=reason))


async def with_finding(handle, call, finding: bool = True):
    from temporalio.client import WorkflowUpdateFailedError

    try:
        return await call()
    except WorkflowUpdateFailedError as exc:
        if not finding or not getattr(exc.cause, "message", "").startswith("finding: "):
            raise
    await record_finding(handle)
    return await call()


async def answer_follow_up(handle, score, actor="sun.li", comment=""):
    return await handle.execute_update(WF.record_follow_up, RecordFollowUp(score=score, actor=actor, comment=comment))


async def state(handle) -> IncidentState:
    return await handle.query(WF.state)


async def settle(env, handle, seconds: float = 1) -> IncidentState:
    """Let a little workflow time pass so queued messages are sent, then read the state."""
    await skip(env, timedelta(seconds=seconds), handle)
    return await state(handle)


WAKE_GUARD = timedelta(seconds=20)


async def skip(env, delta: timedelta, *handles) -> None:
    """Skip `delta` on the time-skipping server, then on past any of the workflows' timers due within
    WAKE_GUARD of where it lands, so that what the test sends next cannot race a timer.

    Between skips that server's clock runs at real pace. A deadline counted from a step that started as the
    last skip ended falls due a few milliseconds after the next one lands; the task of the test's next signal
    or update fires it itself (its clock is past it) and cancels the timer, which the server fired meanwhile.
    The server refuses that completion and strands the run: no retry, no timeout (temporalio/sdk-java#3088,
    open). Each workflow's `wakes_at` query says when its timer is due.
    """
    await env.sleep(delta)
    for _ in range(20):
        now = await env.get_current_time()
        wakes = [await h.query("wakes_at", result_type=datetime | None) for h in handles]
        near = [at for at in wakes if at is not None and at - now <= WAKE_GUARD]
        if not near:
            return
        await env.sleep(max(max(near) - now, timedelta(0)) + timedelta(seconds=1))
    raise AssertionError(f"the workflows' timers kept falling due within {WAKE_GUARD} of each skip")


async def through_talk(handle):
    await outcome(handle, "move_to_vip_room", "done", "zhao.min")
    await outcome(handle, "keep_order", "done", "qian.lei")


def messages(settings, incident_id):
    return Outbox(settings).list(incident_id=incident_id)


def timeline(st: IncidentState, kind: str, step: str | None = None):
    return [e for e in st.timeline if e.kind == kind and (step is None or e.step == step)]


def local(dt: datetime):
    from groupdesk.core.workcal import LOCAL_TZ

    return dt.astimezone(LOCAL_TZ)


async def visible(client, query: str, tries: int = 60) -> None:
    """Wait until Temporal visibility answers `query` (it trails the workflow by a moment)."""
    import asyncio

    for _ in range(tries):
        if [w async for w in client.list_workflows(query, limit=1)]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"visibility never showed: {query}")


async def approval_code_by_sms(client, settings, incident_id: str, tries: int = 300) -> str:
    """The code the director's approval SMS carries, once visibility knows it by its keyed hash.

    The director reads it on the phone; tests read it from the outbox row that sent that SMS.
    """
    import asyncio
    import re

    from groupdesk.runtime.keyed import code_key
    from groupdesk.core import search_attributes as sa

    for _ in range(tries):
        sent = [m for m in Outbox(settings).list(incident_id)
                if m.purpose == "approval_request" and m.role == "centre_director"]
        if sent:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"{incident_id}: no approval request SMS to the director")
    code = re.search(r"(?:同意|Y) (\d{6})", sent[-1].body).group(1)
    await visible(client, f'{sa.APPROVAL_KEY.name} = "{code_key(settings.hash_key(), code)}"')
    return code


PROVIDER_PREFIXES = ("GROUPDESK_", "TWILIO_", "ALIBABA_", "TENCENTCLOUD_")  # what a command takes from `env` only


class _CliProcess:
    """A warm `groupdesk` (tests/cli_batch.py --serve): one command at a time, each with its own environment and
    argv through `groupdesk.cli.run`, as the script runs it; the imports are paid once per test process."""

    def __init__(self):
        from groupdesk.runtime.config import REPO_ROOT

        read, write = os.pipe()
        self.process = subprocess.Popen([sys.executable, str(Path(__file__).parent / "cli_batch.py"), "--serve",
                                         str(write)], stdin=subprocess.PIPE, pass_fds=(write,), cwd=REPO_ROOT,
                                        stdout=subprocess.DEVNULL, text=True, encoding="utf-8")
        os.close(write)
        self.answers = os.fdopen(read, encoding="utf-8")

    def run(self, env: dict, args: list[str]) -> subprocess.CompletedProcess:
        self.process.stdin.write(json.dumps({"args": args, "env": env}) + "\n")
        self.process.stdin.flush()
        line = self.answers.readline()
        if not line:
            raise RuntimeError(f"the warm groupdesk process ended (exit {self.process.wait()}) on {args}")
        done = json.loads(line)
        return subprocess.CompletedProcess(args, done["code"], done["out"], done["err"])

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


_IDLE_CLI: list[_CliProcess] = []
atexit.register(lambda: [p.close() for p in _IDLE_CLI])


def groupdesk_cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    """`groupdesk ARGS` with only the given groupdesk/Twilio settings, in a warm groupdesk process of this test
    process's (a second one if two commands run at once): what the script prints and its exit code."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(PROVIDER_PREFIXES)} | env
    runner = _IDLE_CLI.pop() if _IDLE_CLI else None
    try:
        runner = runner or _CliProcess()
        done = runner.run(full, list(args))
    except BaseException:
        if runner is not None:
            runner.close()  # half-way through a command: never reused
        raise
    _IDLE_CLI.append(runner)
    return done


async def run_cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    """groupdesk_cli without blocking the loop."""
    return await asyncio.to_thread(groupdesk_cli, env, *args)


async def until(check, what, seconds: float = 60):
    """Wait for `check()` (a value, or an awaitable one) to be truthy, within `seconds`; return what it gave.

    `what` says what did not happen: a string, or a function that tells it from the state at the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if inspect.isawaitable(found):
            found = await found
        if found:
            return found
        assert time.monotonic() < deadline, what() if callable(what) else what
        await asyncio.sleep(0.05)


def ahead(days: float = 2) -> datetime:
    """An agreed time that makes sense today (ahead, within 90 days): Asia/Shanghai, on the hour."""
    from groupdesk.core.workcal import LOCAL_TZ

    return (datetime.now(timezone.utc) + timedelta(days=days)).astimezone(LOCAL_TZ).replace(minute=0, second=0,
                                                                                             microsecond=0)


def patient_follow_ups(root: Path, days: int = 60) -> Path:
    """A copy of the shipped playbooks (under `root`) whose follow-ups wait `days` for an answer. A drill at 200000x
    runs the shipped 3 days in 1.3 s of wall time, which a loaded machine can spend between seeing the survey sent
    and answering it: the incident then closes as expired and the answer finds nothing to answer."""
    from groupdesk.runtime.config import REPO_ROOT

    copy = root / "playbooks-patient"
    shutil.copytree(REPO_ROOT / "playbooks", copy)
    return made_patient(copy, days)


def made_patient(playbooks: Path, days: int = 60) -> Path:
    """The playbooks in this folder, changed in place so that their follow-ups wait `days` (patient_follow_ups)."""
    for path in playbooks.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("expires_after: 3d", f"expires_after: {days}d"), encoding="utf-8")
    return playbooks


async def survey_sent(handle):
    """The state once the follow-up survey has gone out: waited for until its moment (a scaled working day after
    the close, which a holiday can stretch to 9 days: 78 s at 10,000x) and a minute more."""
    from groupdesk.drills.smart_meter import wait_for

    st = await wait_for(handle, lambda s: s.follow_up is not None and s.follow_up.send_at is not None, timeout=60)
    send_at = st.follow_up.send_at if st.follow_up.send_at.tzinfo else st.follow_up.send_at.replace(tzinfo=timezone.utc)
    left = (send_at - datetime.now(timezone.utc)).total_seconds()
    return await wait_for(handle, lambda s: s.follow_up.sent, timeout=max(0.0, left) + 60)


def patient_playbook(root: Path):
    """The smart-meter playbook of patient_follow_ups, for a start (`make_start(playbook=...)`)."""
    from groupdesk.playbooks.loader import find_playbook

    return find_playbook(patient_follow_ups(root), "smart-meter-group-complaint")


def split_by_query(events) -> int:
    """How many of a history's workflow tasks ended with a batch's marker and left what follows from it to a
    task of its own (what core does when it answers a query while the batch's result waits): the marker is
    followed at once by a new task whose first command is neither an update nor a signal's."""
    from temporalio.api.enums.v1 import EventType as T

    kinds = [e.event_type for e in events]
    return sum(1 for k in range(len(kinds) - 4)
               if kinds[k] == T.EVENT_TYPE_MARKER_RECORDED and kinds[k + 1] == T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED
               and kinds[k + 3] == T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
               and kinds[k + 4] not in (T.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
                                        T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED))


def quiet_port() -> int:
    """A free port that no other test can be given meanwhile: below the kernel's ephemeral range, which every
    port-0 bind of the suite draws from. (A port-0 port, released, was once taken by another test's server
    before the check that nothing listens on it.)"""
    first_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    while True:
        port = random.randrange(20000, first_ephemeral) if first_ephemeral > 21000 else 0
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
