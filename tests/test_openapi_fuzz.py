"""schemathesis against the console's OpenAPI, as each role (tests/api_fuzz.py): whatever it sends, no answer is
a 5xx, every operation a role may call reaches a 2xx, and the OpenAPI links a started incident to every
operation on it. A short run here; docs/security/fuzz-coverage.md is a longer one's report."""

from __future__ import annotations

import pytest

from api_fuzz import run
from fuzz_coverage import MAY, ROLES, SIGNED_BY_TWILIO

pytestmark = pytest.mark.devserver
GENERATED = 2  # valid requests per operation and role, besides its examples (the committed run uses 60)
STATEFUL = 2  # link-following scenarios per role


async def test_every_role_reaches_what_it_may_call_and_nothing_answers_5xx(dev_env, tmp_path):
    coverage = await run(dev_env, tmp_path, generated=GENERATED, stateful=STATEFUL)
    total = sum(sum(c.values()) for c in coverage.statuses.values())
    print(f"\nschemathesis: {total} requests as {len(ROLES)} roles, {coverage.seconds:.0f} s")
    assert not coverage.server_errors(), coverage.server_errors()
    assert not coverage.missing(), coverage.missing()
    assert not coverage.unauthorised(), f"a role got a 2xx from an operation it may not call: {coverage.unauthorised()}"
    assert {label for _, label in coverage.statuses} >= set(MAY), "every operation was tried"


def test_every_operation_of_the_api_says_who_may_call_it(tmp_path):
    """A new operation joins the fuzzer's table (fuzz_coverage.MAY), so it is fuzzed as every role."""
    from groupdesk.web.app import create_app
    from helpers import setup_for

    schema = create_app(setup_for(tmp_path).settings).openapi()
    operations = {f"{method.upper()} {path}" for path, item in schema["paths"].items() for method in item}
    assert not operations - set(MAY) - SIGNED_BY_TWILIO, operations - set(MAY) - SIGNED_BY_TWILIO


def test_a_started_incident_links_to_every_operation_on_it(tmp_path):
    from groupdesk.web.app import create_app
    from helpers import setup_for

    schema = create_app(setup_for(tmp_path).settings).openapi()
    on_an_incident = {op["operationId"] for path, item in schema["paths"].items() if "{incident_id}" in path
                      for op in item.values()}
    links = schema["paths"]["/api/incidents"]["post"]["responses"]["201"]["links"]
    assert set(links) == on_an_incident and len(on_an_incident) >= 12
    assert all(link["parameters"]["incident_id"] == "$response.body#/id" for link in links.values())
    promise = schema["paths"]["/api/incidents/{incident_id}/promises"]["post"]["responses"]["201"]["links"]
    assert {link["parameters"]["promise_id"] for link in promise.values()} == {"$response.body#/id"}
