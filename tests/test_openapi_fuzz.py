"""schemathesis against the console's OpenAPI as the hall's staff (tests/api_fuzz.py; the office's roles:
test_openapi_fuzz_office.py): whatever it sends, no answer is a 5xx, every operation a role may call reaches a 2xx,
and the OpenAPI links a started incident to every operation on it. A short run here; docs/security/fuzz-coverage.md is a longer one's report."""

from __future__ import annotations

import pytest

from api_fuzz import fuzz_in_suite
from fuzz_coverage import HALL_STAFF, MAY, OFFICE, ROLES, SIGNED_BY_TWILIO

pytestmark = pytest.mark.devserver


async def test_every_hall_role_reaches_what_it_may_call_and_nothing_answers_5xx(dev_env, tmp_path):
    assert set(HALL_STAFF) | set(OFFICE) == set(ROLES)  # the two files fuzz every role
    await fuzz_in_suite(dev_env, tmp_path, HALL_STAFF)


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
