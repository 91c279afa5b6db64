"""schemathesis against the console's OpenAPI as the office's roles (the hall's staff: test_openapi_fuzz.py):
no answer is a 5xx, every operation a role may call reaches a 2xx, none it may not."""

from __future__ import annotations

import pytest

from api_fuzz import fuzz_in_suite
from fuzz_coverage import OFFICE

pytestmark = pytest.mark.devserver


async def test_every_office_role_reaches_what_it_may_call_and_nothing_answers_5xx(dev_env, tmp_path):
    await fuzz_in_suite(dev_env, tmp_path, OFFICE)
