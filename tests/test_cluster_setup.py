"""A worker pointed at a bare cluster registers groupdesk's search attributes once."""

from __future__ import annotations

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from groupdesk.engine.binaries import temporal_cli
from groupdesk.engine.client import ensure_search_attributes
from groupdesk.core import search_attributes as sa


async def test_search_attributes_registered_once():
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()), data_converter=pydantic_data_converter)
    try:
        assert await ensure_search_attributes(env.client) == sorted(key.name for key in sa.ALL)
        assert await ensure_search_attributes(env.client) == []
    finally:
        await env.shutdown()
