"""schemathesis against the console's API, as each role, from the app's own OpenAPI (with its links).

For each role: the examples of every operation, then generated valid and invalid requests, aimed at incidents
prepared in the states where that role's operations apply (fresh, awaiting the director, at the follow-up,
with a promise, with a parked failed SMS); then a start followed through the OpenAPI links (from `POST
/api/incidents` to every operation on `{incident_id}`, from a new promise to its operations), and
schemathesis's stateful scenarios, which follow the same links. Every answer is counted by role and operation:
no 5xx anywhere, and every operation a role may call reaches a 2xx.

    make test runs a short one (tests/test_openapi_fuzz.py and ..._office.py); a longer one writes the committed report:
    .venv/bin/python tests/api_fuzz.py --generated 60 --stateful 40 --out docs/security/fuzz-coverage.md
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
import schemathesis  # noqa: E402
import uvicorn  # noqa: E402
from hypothesis import HealthCheck, given, settings as hsettings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402

from evidence_files import photo_jpeg  # noqa: E402
from fuzz_coverage import ROLES, SIGNED_BY_TWILIO, Coverage, state_for  # noqa: E402

UPLOAD = "POST /api/incidents/{incident_id}/attachments"


class ConsoleThread:
    """The console served by uvicorn on its own thread (its own loop and Temporal connection), for real HTTP."""

    def __init__(self, app, port: int):
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "the console did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)


async def prepare(client, settings, role: str) -> dict[str, str]:
    """Incidents for one role's operations: fresh (a failed SMS parked at its first step), awaiting the director,
    at the follow-up, with promise p1 of the hall lead's."""
    from groupdesk.core.models import PromiseChange
    from groupdesk.people.directory import load_directory
    from groupdesk.drills.smart_meter import _to_director, talk_accepted, wait_for
    from groupdesk.incidents.gateway import Incident, start_incident
    from groupdesk.incidents.registration import prepare_start
    from groupdesk.playbooks.loader import find_playbook

    directory = load_directory(settings.directory)
    playbook = find_playbook(settings.playbooks_dir, "smart-meter-group-complaint")
    made = {}
    for n, state in enumerate(("fresh", "approval", "follow_up", "promise")):
        request = prepare_start(directory=directory, playbook=playbook, hall_id="xicheng", headcount=12,
                                lead_name="张建国", lead_phone=f"1390013{uuid.uuid4().int % 10000:04d}",
                                summary="电量异常", started_by="sun.li", drill=True,
                                incident_id=f"fuzz-{role.replace('_', '-')}-{state.replace('_', '-')}-"
                                            f"{uuid.uuid4().hex[:6]}")
        handle = Incident(await start_incident(client, settings, request))
        if state == "approval":
            await _to_director(handle, {"guide": "zhao.min", "security_guard": "qian.lei", "hall_lead": "sun.li"})
            await wait_for(handle, lambda st: "director_review" in st.current_steps)
        elif state == "follow_up":
            await talk_accepted(handle)
            await wait_for(handle, lambda st: st.stage == "follow_up")
        elif state == "promise":
            for what in ("一小时内回电", "今天下班前提供电量明细"):
                await handle.promise(PromiseChange(kind="add", actor="sun.li", what=what, owner="sun.li",
                                                   owner_role="hall_lead", due="2h"))
        else:
            await wait_for(handle, lambda st: any(f.step == "move_to_vip_room" for f in st.failed_actions))
        made[state] = handle.id
    # evidence to download: a meter photo attached by the hall lead to the fresh incident
    from groupdesk.incidents.gateway import Gateway
    from groupdesk.people.permissions import acting_as

    row, _ = await Gateway(client, settings).attach(acting_as(directory, "sun.li"), made["fresh"], photo_jpeg(),
                                                    "meter.jpg")
    made["sha"] = row["stored_sha256"]
    # corrective actions: one the role's own person may record done (the hall lead's for roles outside the hall),
    # and one done by the hall lead for the director to verify
    gateway, lead = Gateway(client, settings), acting_as(directory, "sun.li")
    owner = ROLES[role] if directory.roles_of("xicheng", ROLES[role]) else "sun.li"
    made["corrective"] = await gateway.add_corrective(lead, made["fresh"], "更换表计", owner, "2h")
    made["corrective_done"] = await gateway.add_corrective(lead, made["fresh"], "复核电量", "sun.li", "2h")
    await gateway.corrective_done(lead, made["corrective_done"], "已复核")
    return made


def with_vocabulary(raw: dict, settings) -> dict:
    """The console's schema with this deployment's words as enums (halls, staff, step and outcome ids, promise
    ids) and the form of a mobile: generated requests then name things that exist, as staff would, so they get
    past the first check into the workflow. Invalid ones still come from the negative phase."""
    import copy

    from groupdesk.core import validation as v
    from groupdesk.people.directory import load_directory
    from groupdesk.playbooks.loader import load_playbooks

    directory, playbooks = load_directory(settings.directory), load_playbooks(settings.playbooks_dir).values()
    staff = sorted(p.id for p in directory.people)
    words = {"hall": sorted(h.id for h in directory.halls), "to": staff, "owner": staff, "person": staff,
             "step": sorted({s for pb in playbooks for s in pb.steps}),
             "outcome": sorted({o for pb in playbooks for st in pb.steps.values() for o in st.outcomes}),
             "promise": ["p1", "p2"], "category": list(v.CATEGORIES), "complainant_type": list(v.COMPLAINANT_TYPES)}
    plain = "^[\u4e00-\u9fa5A-Za-z0-9]{1,30}$"  # a few words on one line, as typed
    forms = {"lead_phone": {"pattern": "^1[3-9][0-9]{9}$"}, "account_no": {"pattern": "^[0-9]{4,12}$"},
             "headcount": {"minimum": 2, "maximum": 10_000}, "drill": {"enum": [True]},
             "time_scale": {"anyOf": [{"type": "number", "minimum": 1, "maximum": 1000}, {"type": "null"}]},
             "person_involved": {"enum": [""]}, "due": {"pattern": "^[1-9][0-9]?[hm]$"},
             "score": {"minimum": 1, "maximum": 5}, "submit_token": {"pattern": "^[a-z0-9]{8,16}$"},
             **{name: {"pattern": plain} for name in ("lead_name", "summary", "address", "demands", "what", "reason",
                                                      "text", "note", "comment")}}
    schema = copy.deepcopy(raw)
    for component in schema.get("components", {}).get("schemas", {}).values():
        for name, prop in component.get("properties", {}).items():
            if name in words and prop.get("type") == "string":
                prop["enum"] = words[name]
            elif name in forms:
                prop.update(forms[name])
    return schema


def sign_in(base_url: str, person: str, password: str) -> dict[str, str]:
    """The session as headers: the cookie is Secure (production), so it is sent by hand over this plain http."""
    answer = requests.post(f"{base_url}/api/session", json={"person": person, "password": password}, timeout=30)
    assert answer.status_code == 200, answer.text
    return {"Cookie": f"groupdesk={answer.cookies['groupdesk']}", "X-CSRF-Token": answer.json()["csrf_token"]}


def cases_for(schema, generated: int, cases: dict) -> dict[str, list]:
    """Every operation's requests: its examples, then generated valid and invalid ones (aimed: True when its
    path is then pointed at a prepared incident). Made once and sent as each role in turn: generation is
    derandomized, so each role would be given the very same requests, and making them is most of the fuzz's CPU."""
    if cases:
        return cases
    for operation in (r.ok() for r in schema.get_all_operations()):
        label = f"{operation.method.upper()} {operation.path}"
        if label in SIGNED_BY_TWILIO or label == "DELETE /api/session":
            continue
        runs = [(s, 1, True) for s in schema.get_strategies_from_examples(operation)] or \
            [(operation.as_strategy(), 2, True)]
        runs += [(operation.as_strategy(generation_mode=GenerationMode.POSITIVE), generated, True),
                 (operation.as_strategy(generation_mode=GenerationMode.NEGATIVE), max(1, generated // 2), False)]
        made = cases.setdefault(label, [])
        for strategy, examples, aim in runs:
            @given(case=strategy)
            @hsettings(max_examples=examples, deadline=None, database=None, derandomize=True,
                       suppress_health_check=list(HealthCheck))
            def collect(case):
                made.append((case, aim))

            try:
                collect()
            except Unsatisfiable:
                pass  # nothing in this operation can be made invalid (e.g. no parameters)
    return cases


def fuzz_role(schema, base_url: str, role: str, world: dict[str, str], password: str, generated: int,
              stateful: int, coverage: Coverage, cases: dict) -> None:
    from schemathesis.checks import not_a_server_error

    session = requests.Session()
    headers = sign_in(base_url, ROLES[role], password)
    aims = {"incident_id": None, "step": "move_to_vip_room", "promise_id": None}

    def call(case, label: str, aim: bool) -> None:
        if aim:
            for name in case.path_parameters or {}:
                if name == "promise_id":  # kept: p1; a new due time: p2 (a kept promise keeps its time)
                    case.path_parameters[name] = "p2" if label.endswith("/due") else "p1"
                elif name == "sha":
                    case.path_parameters[name] = world["sha"]
                elif name == "cid":  # done: one the role's person owns; verify: one recorded done
                    case.path_parameters[name] = world["corrective_done" if label.endswith("/verify") else "corrective"]
                elif name in aims:
                    case.path_parameters[name] = aims[name] or world[state_for(label)]
        if label == UPLOAD and aim:  # a real photo: only a file that is what it says reaches a 2xx
            case.body = {"file": photo_jpeg()}
        if label == "POST /api/session" and aim:
            case.body = {"person": ROLES[role], "password": password}
        # signing in again ends the session it is sent with: sign-ins go without ours
        response = case.call(base_url=base_url, session=session,
                             headers={} if label == "POST /api/session" else headers)
        coverage.record(role, label, response.status_code)
        case.validate_response(response, checks=[not_a_server_error])

    for label, made in cases_for(schema, generated, cases).items():
        for case, aim in made:
            call(case.derive(keep_auth=True), label, aim)
    follow_links(schema, base_url, role, session, headers, coverage)
    if stateful:
        # signing in or out would end the session the scenario runs in; Twilio's webhooks are signed by Twilio
        machine = schema.exclude(path_regex="^/(api/session|twilio/)").as_state_machine()

        class AsRole(machine):
            def get_call_kwargs(self, case):
                return {"base_url": base_url, "session": session, "headers": headers}

            def after_call(self, response, case):
                label = f"{case.operation.method.upper()} {case.operation.path}"
                coverage.record(role, label, response.status_code)
                # a 2xx on an incident in a scenario: its id came from a start, through the OpenAPI links
                if "{incident_id}" in label and 200 <= response.status_code < 300:
                    coverage.linked[(role, label)] += 1

            def validate_response(self, response, case, additional_checks=None, **kwargs):
                assert response.status_code < 500, f"{case.operation.label}: {response.status_code}"

        AsRole.run(settings=hsettings(max_examples=stateful, stateful_step_count=6, deadline=None, database=None,
                                      derandomize=True, suppress_health_check=list(HealthCheck)))
    signed_out = requests.delete(f"{base_url}/api/session", headers=headers, timeout=30)  # last: it ends the session
    coverage.record(role, "DELETE /api/session", signed_out.status_code)


def example_body(raw: dict, operation) -> object:
    """The first example of an operation's JSON body, as the OpenAPI gives it (None: it takes no body)."""
    spec = raw["paths"][operation.path][operation.method.lower()]
    body = spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body is None:
        return None
    if "$ref" in body:
        body = raw["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return (body.get("examples") or [{}])[0]


def follow_links(schema, base_url: str, role: str, session, headers: dict, coverage: Coverage) -> None:
    """Start an incident with the example, then follow every link of the 201 (and of a new promise's 201) with
    each target's example body: the OpenAPI alone leads from a start to every operation on it."""
    raw = schema.raw_schema

    def call(operation, path_parameters: dict, body) -> requests.Response:
        case = schema.make_case(operation=operation, path_parameters=path_parameters,
                                **({} if body is None else {"body": body, "media_type": "application/json"}))
        response = case.call(base_url=base_url, session=session, headers=headers)
        label = f"{operation.method.upper()} {operation.path}"
        coverage.record(role, label, response.status_code)
        if path_parameters and 200 <= response.status_code < 300:
            coverage.linked[(role, label)] += 1
        assert response.status_code < 500, f"{label}: {response.status_code} {response.text[:200]}"
        return response

    def follow(operation, response, request_path: dict) -> None:
        spec = raw["paths"][operation.path][operation.method.lower()]
        links = spec.get("responses", {}).get(str(response.status_code), {}).get("links", {})
        for link in links.values():
            if "operationId" not in link:  # one schemathesis inferred from a response (operationRef): not ours
                continue
            target = schema.find_operation_by_id(link["operationId"])
            values = {name: (response.json()[source.rsplit("/", 1)[1]] if source.startswith("$response.body")
                             else request_path[source.rsplit(".", 1)[1]]) for name, source in link["parameters"].items()}
            for name, value in (("step", "move_to_vip_room"), ("promise_id", "p1")):  # what the link leaves open
                if "{" + name + "}" in target.path:
                    values.setdefault(name, value)
            if "{sha}" in target.path and "sha" not in values:
                continue  # a download is reached from its upload's link, which gives the sha
            got = call(target, values, example_body(raw, target))
            if 200 <= got.status_code < 300:
                follow(target, got, values)

    start = schema.find_operation_by_id(raw["paths"]["/api/incidents"]["post"]["operationId"])
    body = dict(example_body(raw, start), lead_phone=f"1350013{uuid.uuid4().int % 10000:04d}")  # a new lead
    started = call(start, {}, body)
    if started.status_code == 201:
        follow(start, started, {})
    elif started.status_code == 403 and role == "centre_director":  # a director starts only the dispute ladder
        ladder = call(start, {}, dict(body, playbook="dispute-ladder"))
        if ladder.status_code == 201:
            follow(start, ladder, {})


def twilio_refusing_the_guide():
    """A fake Twilio (real client, local HTTP) that refuses the xicheng guide's number: every incident parks it."""
    from pytest_httpserver import HTTPServer

    from fake_twilio import FakeTwilio

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    fake = FakeTwilio(server).install()
    fake.refuse["+8613900000101"] = (400, 21211, "The 'To' number is not a valid phone number.")
    return server, fake


async def run(temporal, data_dir: Path, *, generated: int, stateful: int, roles=tuple(ROLES)) -> Coverage:
    """The whole fuzz against `temporal` (a WorkflowEnvironment): a worker here, the console on its thread."""
    from fake_twilio import twilio_env
    from groupdesk.web.app import create_app
    from groupdesk.web.throttle import Limits
    from helpers import TEST_PASSWORD, quiet_port, setup_for
    from worker import build_worker

    server, fake = twilio_refusing_the_guide()
    try:
        settings = setup_for(data_dir, temporal, queue="fuzz", **twilio_env(fake)).settings
        app = create_app(settings)  # production: it connects to Temporal itself, on the server thread's loop
        # the fuzzer signs in with wrong passwords by the hundred from one address: not what the throttle is for
        app.state.sign_ins.throttle.limits = Limits(per_account=5, per_address=1_000_000)
        schema = schemathesis.openapi.from_dict(with_vocabulary(app.openapi(), settings))
        coverage, began = Coverage(), time.monotonic()
        async with build_worker(temporal.client, settings):
            worlds = {role: await prepare(temporal.client, settings, role) for role in roles}
            port = quiet_port()
            with ConsoleThread(app, port):
                cases: dict[str, list] = {}  # made for the first role, sent as every role
                for role in roles:
                    await asyncio.to_thread(fuzz_role, schema, f"http://127.0.0.1:{port}", role, worlds[role],
                                            TEST_PASSWORD, generated, stateful, coverage, cases)
        coverage.seconds = time.monotonic() - began
        return coverage
    finally:
        server.clear()
        server.stop()


GENERATED = 1  # valid requests per operation and role in the suite, besides its examples (the committed run uses 60)
STATEFUL = 1  # link-following scenarios per role in the suite


async def fuzz_in_suite(temporal, data_dir: Path, roles: tuple[str, ...]) -> None:
    """The suite's short run as `roles`: no 5xx, every operation a role may call reaches a 2xx, none it may not."""
    from fuzz_coverage import MAY

    coverage = await run(temporal, data_dir, generated=GENERATED, stateful=STATEFUL, roles=roles)
    total = sum(sum(c.values()) for c in coverage.statuses.values())
    print(f"\nschemathesis: {total} requests as {len(roles)} roles, {coverage.seconds:.0f} s")
    assert not coverage.server_errors(), coverage.server_errors()
    assert not coverage.missing(), coverage.missing()
    assert not coverage.unauthorised(), f"a role got a 2xx from an operation it may not call: {coverage.unauthorised()}"
    assert {label for _, label in coverage.statuses} >= set(MAY), "every operation was tried"


async def main() -> None:
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import WorkflowEnvironment

    from groupdesk.engine.binaries import temporal_cli
    from groupdesk.core import search_attributes as sa

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", type=int, default=60, help="generated valid requests per operation and role")
    parser.add_argument("--stateful", type=int, default=40, help="stateful scenarios (following links) per role")
    parser.add_argument("--out", type=Path, help="write the coverage report (markdown) here")
    args = parser.parse_args()
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=str(temporal_cli()), search_attributes=sa.ALL,
                                                data_converter=pydantic_data_converter)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            coverage = await run(env, Path(tmp), generated=args.generated, stateful=args.stateful)
    finally:
        await env.shutdown()
    command = f".venv/bin/python tests/api_fuzz.py --generated {args.generated} --stateful {args.stateful}" \
              + (f" --out {args.out}" if args.out else "")
    text = coverage.report(command)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    print(text)
    problems = coverage.server_errors() + [f"never 2xx: {m}" for m in coverage.missing()]
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    asyncio.run(main())
