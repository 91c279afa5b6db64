"""schemathesis against the console's OpenAPI: whatever it generates, no answer is a 5xx.

The console runs in uvicorn on its own thread (its own event loop and Temporal connection), signed
in as a hall lead with the CSRF header; a worker serves the task queue in case an input starts an
incident. The schema comes from the app object, so it does not matter who may read /openapi.json.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid

import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings as hsettings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.checks import not_a_server_error

from groupdesk.runtime.config import EXAMPLE_DIRECTORY, Settings
from web_helpers import PASSWORD
from worker import build_worker

pytestmark = pytest.mark.devserver
MAX_EXAMPLES = 20  # per operation: about a minute for the whole API on two cores
SKIPPED = {("DELETE", "/api/session")}  # signing out would leave the rest of the run unauthenticated


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ConsoleThread:
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


def fuzz(schema, base_url: str, session: requests.Session, headers: dict) -> dict[str, int]:
    """Valid-looking requests (MAX_EXAMPLES per operation), then some that break the schema on purpose."""
    tried: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        label = f"{operation.method.upper()} {operation.path}"
        tried[label] = 0
        for mode, examples in ((GenerationMode.POSITIVE, MAX_EXAMPLES), (GenerationMode.NEGATIVE, MAX_EXAMPLES // 2)):
            @given(case=operation.as_strategy(generation_mode=mode))
            @hsettings(max_examples=examples, deadline=None, database=None, derandomize=True,
                       suppress_health_check=list(HealthCheck))
            def check(case):
                tried[label] += 1
                case.call_and_validate(base_url=base_url, session=session, headers=headers,
                                       checks=[not_a_server_error])

            try:
                check()
            except Unsatisfiable:
                pass  # nothing in this operation can be made invalid (e.g. no parameters)
    return tried


async def test_no_server_errors_anywhere_in_the_api(dev_env, tmp_path):
    settings = Settings(GROUPDESK_DATA_DIR=tmp_path, GROUPDESK_DIRECTORY=EXAMPLE_DIRECTORY,
                        TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
                        GROUPDESK_TASK_QUEUE=f"fuzz-{uuid.uuid4().hex[:6]}")
    from groupdesk.web.app import create_app

    app = create_app(settings)  # connects to Temporal itself, on the server thread's loop
    schema = schemathesis.openapi.from_dict(app.openapi())
    port = free_port()
    began = time.monotonic()
    async with build_worker(dev_env.client, settings):
        with ConsoleThread(app, port):
            base_url = f"http://127.0.0.1:{port}"
            session = requests.Session()
            signed = session.post(f"{base_url}/api/session", json={"person": "sun.li", "password": PASSWORD},
                                  timeout=30)
            assert signed.status_code == 200, signed.text
            headers = {"X-CSRF-Token": signed.json()["csrf_token"]}
            tried = await asyncio.to_thread(fuzz, schema, base_url, session, headers)
    print(f"\nschemathesis: {sum(tried.values())} requests over {len(tried)} operations, no 5xx,"
          f" {time.monotonic() - began:.0f} s")
    assert len(tried) >= 10 and all(n > 0 for n in tried.values()), tried
