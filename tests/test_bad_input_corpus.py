"""The bad-input corpus against the real dev server: every case is refused with one clear line,
nothing answers 5xx or shows a traceback, nothing is started and no SMS is stored.

Also: a terminated incident leaves `groupdesk list` and the board, and ops see it flagged.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from twilio.request_validator import RequestValidator

import bad_input_round_two as round_two
from bad_input_cases import Case, api_cases, calendar_cases, cli_cases, with_option, yaml_cases
from groupdesk.incidents.gateway import Gateway
from groupdesk.engine.visibility import list_query
from groupdesk.runtime.config import REPO_ROOT
from groupdesk.people.directory import load_directory
from groupdesk.drills.smart_meter import wait_for
from groupdesk.messaging.outbox import Outbox
from helpers import TEST_PASSWORD, run_cli, setup_for, start, visible
from worker import build_worker
from workflows.group_incident import GroupIncidentWorkflow as WF

pytestmark = pytest.mark.devserver
PUBLIC, TOKEN = "https://groupdesk.example.org", "corpus-webhook-token"
CORPUS = Path(__file__).parent / "bad_playbooks"


@pytest_asyncio.fixture(scope="module")
async def world(dev_env, tmp_path_factory):
    data = tmp_path_factory.mktemp("corpus")
    setup = setup_for(data, dev_env, queue="corpus", GROUPDESK_PUBLIC_URL=PUBLIC, TWILIO_AUTH_TOKEN=TOKEN)
    settings = setup.settings
    from groupdesk.web.app import create_app

    app = create_app(settings, client=dev_env.client)
    async with build_worker(dev_env.client, settings):
        yield dev_env, settings, app, setup


def cli_env(setup) -> dict:
    return setup.process_env()


async def run(args: list[str], env: dict, stdin: str | None = None) -> subprocess.CompletedProcess:
    """A subprocess, waited for in a thread: the worker shares this event loop and must keep running."""
    return await asyncio.to_thread(subprocess.run, args, env=env, cwd=REPO_ROOT, input=stdin, capture_output=True,
                                   text=True, timeout=240)


async def run_cli_batch(env: dict, cases: list[Case], results_file: Path) -> None:
    """Every case through the real CLI, in one subprocess (tests/cli_batch.py)."""
    done = await run([sys.executable, str(Path(__file__).parent / "cli_batch.py"), "--out", str(results_file)], env,
                     json.dumps([c.send for c in cases]))
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(results_file.read_text(encoding="utf-8"))
    for case, result in zip(cases, results, strict=True):
        case.result = result


def judge_cli(case: Case) -> str:
    """Clear: the expected exit code and exactly one line on stderr, naming the field (or the fix)."""
    r = case.result
    if "Traceback" in r["out"] + r["err"]:
        return "broken"
    lines = [line for line in r["err"].splitlines() if line.strip()]
    if r["code"] in case.expect and len(lines) == 1 and case.says in lines[0]:
        return "clear"
    return "unclear"


async def send_http(web: httpx.AsyncClient, case: Case) -> httpx.Response:
    method, path, kwargs = case.send
    kwargs = dict(kwargs)
    if case.channel == "webhook":
        form, signed, token = kwargs["form"], kwargs["signed"], kwargs.get("token", TOKEN)
        headers = {"X-Twilio-Signature": RequestValidator(token).compute_signature(PUBLIC + path, form)} \
            if signed else {}
        return await web.request(method, path, data=form, headers=headers)
    return await web.request(method, path, **kwargs)


def judge_http(case: Case) -> str:
    status, text = case.result["status"], case.result["text"]
    if status >= 500 or "Traceback" in text:
        return "broken"
    if status not in case.expect or case.says not in text:
        return "unclear"
    if case.location is not None and case.result.get("location") != case.location:
        return "unclear"  # a redirect goes exactly where it must: a path on this site
    if case.channel == "api" and status >= 400 and case.result.get("json"):
        detail = case.result["json"].get("detail")
        if not isinstance(detail, str) or len(detail) > 400:
            return "unclear"  # one line per field, as the API's other errors
    return "clear"


async def signed_in_client(app, person: str) -> httpx.AsyncClient:
    web = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver", timeout=60)
    if person:
        response = await web.post("/api/session", json={"person": person, "password": TEST_PASSWORD})
        assert response.status_code == 200, response.text
        web.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return web


async def all_executions(client) -> int:
    return (await client.count_workflows('WorkflowType = "GroupIncident"')).count


async def test_the_bad_input_corpus(world, make_start, tmp_path):
    env, settings, app, setup = world
    handle = await start(env, settings, make_start(incident_id=f"corpus-{uuid.uuid4().hex[:8]}"))
    await wait_for(handle, lambda s: len(s.deliveries) >= 4)  # its first SMS are out; its deadline is 5 min away
    await visible(env.client, f'WorkflowId = "{handle.id}"')
    executions, stored = await all_executions(env.client), len(Outbox(settings).list(limit=100_000))
    guide = next(m for m in Outbox(settings).list(handle.id) if m.role == "guide")  # delivery reports name it
    recorded = people_entries(await handle.query(WF.state))
    began = time.monotonic()

    directory = load_directory(settings.directory)
    director = directory.person("wang.jun").mobile
    cli = cli_cases(handle.id) + yaml_cases(CORPUS, tmp_path) + calendar_cases(tmp_path) \
        + round_two.cli_cases(handle.id) + round_two.directory_cases(tmp_path)
    await run_cli_batch(cli_env(setup), cli, tmp_path / "cli-results.json")
    # and a few through the installed `groupdesk` script itself, one process each
    script = Path(sys.executable).parent / "groupdesk"
    for name, args, says in [("script: summary 100 kB", with_option("--summary", "x" * 100_000), "--summary"),
                             ("script: incident id", with_option("--incident-id", '../../x y"z'), "--incident-id"),
                             ("script: list hall quote", ["list", "--hall", 'x"'], "--hall"),
                             # bytes that are not UTF-8 arrive as lone surrogates: the text rule names them
                             ("script: note not UTF-8", ["note", handle.id, b"\xff\xfe", "--as", "sun.li"], "TEXT"),
                             ("script: sms list incident injection", ["sms", "list", "--incident", "x' OR 1=1 --"],
                              "--incident")]:
        done = await run([str(script), *args], cli_env(setup))
        case = Case("cli", name, [a if isinstance(a, str) else repr(a) for a in args], (2,), says)
        case.result = {"code": done.returncode, "out": done.stdout, "err": done.stderr}
        cli.append(case)

    http = api_cases(handle.id) + round_two.api_cases(handle.id) \
        + round_two.webhook_cases(director, "+86" + "13800138000", guide.key)
    clients: dict[str, httpx.AsyncClient] = {}
    try:
        for case in http:
            who = case.who if case.channel == "api" else ""
            if who not in clients:
                clients[who] = await signed_in_client(app, who)
            response = await send_http(clients[who], case)
            try:
                parsed = response.json()
            except ValueError:
                parsed = None
            case.result = {"status": response.status_code, "text": response.text,
                           "json": parsed if isinstance(parsed, dict) else None,
                           "location": response.headers.get("location")}
    finally:
        for web in clients.values():
            await web.aclose()
    elapsed = time.monotonic() - began

    verdicts = Counter()
    table = Counter()
    problems = []
    for case in cli + http:
        verdict = judge_cli(case) if case.channel in ("cli", "yaml") else judge_http(case)
        verdicts[verdict] += 1
        table[(case.channel, verdict)] += 1
        if verdict != "clear":
            problems.append(f"{case.channel} {case.name}: {verdict}: "
                            f"{json.dumps({k: str(v)[:300] for k, v in case.result.items()}, ensure_ascii=False)}")
    channels = ("cli", "api", "yaml", "webhook")
    lines = [f"{'channel':<10}{'tried':>7}{'refused clearly':>17}{'5xx/traceback':>15}{'unclear':>9}"]
    for ch in channels:
        tried = sum(n for (c, _), n in table.items() if c == ch)
        lines.append(f"{ch:<10}{tried:>7}{table[(ch, 'clear')]:>17}{table[(ch, 'broken')]:>15}"
                     f"{table[(ch, 'unclear')]:>9}")
    lines.append(f"{'total':<10}{sum(verdicts.values()):>7}{verdicts['clear']:>17}{verdicts['broken']:>15}"
                 f"{verdicts['unclear']:>9}   ({elapsed:.1f} s)")
    print("\nbad-input corpus\n" + "\n".join(lines))

    assert sum(verdicts.values()) >= 80
    assert verdicts["broken"] == 0, "\n".join(problems)
    assert verdicts["unclear"] == 0, "\n".join(problems)
    # visibility trails a start: one good start after the corpus, and once it is visible, so would any before it be
    barrier = await start(env, settings, make_start(incident_id=f"barrier-{uuid.uuid4().hex[:8]}", drill=True))
    await visible(env.client, f'WorkflowId = "{barrier.id}"')
    assert await all_executions(env.client) == executions + 1, "a bad input started an incident"
    assert len([m for m in Outbox(settings).list(limit=100_000) if m.incident_id != barrier.id]) == stored, \
        "a bad input stored an SMS"
    assert Outbox(settings).get(guide.key) == guide, "a refused delivery report changed the message"
    assert people_entries(await handle.query(WF.state)) == recorded, "a bad input reached the timeline"


def people_entries(state) -> list:
    """What people recorded on the incident (not the timers' reminders, which go on during the corpus)."""
    return [(e.kind, e.step, e.detail) for e in state.timeline
            if e.kind in ("outcome", "recorded", "note", "handover", "follow_up_answered", "action_skipped")]


async def test_a_terminated_incident_leaves_the_list_and_the_board(world, make_start):
    env, settings, app, setup = world
    handle = await start(env, settings, make_start(incident_id=f"dead-{uuid.uuid4().hex[:8]}", drill=True))
    await wait_for(handle, lambda s: len(s.deliveries) >= 4)
    await visible(env.client, f'WorkflowId = "{handle.id}" AND ExecutionStatus = "Running"')
    assert handle.id in {r["id"] for r in await Gateway(env.client, settings).list(list_query())}
    await handle.terminate(reason="corpus: a dead incident")
    await visible(env.client, f'WorkflowId = "{handle.id}" AND ExecutionStatus = "Terminated"')

    assert handle.id not in {r["id"] for r in await Gateway(env.client, settings).list(list_query())}
    web = await signed_in_client(app, "sun.li")
    try:
        board = (await web.get("/api/incidents")).json()
        assert handle.id not in {r["id"] for r in board}
        everything = {r["id"]: r for r in (await web.get("/api/incidents", params={"closed": "true"})).json()}
        assert everything[handle.id]["execution"] == "terminated"
        page = await web.get("/")
        assert page.status_code == 200 and handle.id not in page.text
    finally:
        await web.aclose()
    ops = await signed_in_client(app, "ma.ning")
    try:
        flagged = [r for r in (await ops.get("/api/failed")).json() if r["incident_id"] == handle.id]
        assert flagged and "terminated" in flagged[0]["error"]
    finally:
        await ops.aclose()
    env_vars = cli_env(setup)
    listed = await run_cli(env_vars, "list", "--json")
    assert listed.returncode == 0 and handle.id not in listed.stdout
    failed = await run_cli(env_vars, "ops", "failed", "--json")
    dead = [r for r in json.loads(failed.stdout) if r["incident_id"] == handle.id]
    assert dead and dead[0]["execution"] == "terminated"
