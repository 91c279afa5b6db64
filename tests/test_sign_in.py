"""Sign-in: throttled per account and per address, bounded argon2 work, sessions that sign-out revokes."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import statistics
import time

import httpx
import pytest
import structlog

from groupdesk.people.accounts import hash_password
from groupdesk.runtime.config import EXAMPLE_ACCOUNTS
from groupdesk.runtime.logs import configure_logging
from groupdesk.web import auth
from groupdesk.web.app import create_app
from groupdesk.web.throttle import Limits, SignInThrottle, mask_address
from helpers import TEST_PASSWORD as PASSWORD, accounts_file, setup_for
from web_helpers import signed_in

pytestmark = pytest.mark.server  # the server tier: argon2 at its production cost (an unknown account, the timed tests)


@pytest.fixture
def accounts(tmp_path):
    """Accounts in a file a test may change, hashed with small argon2 parameters (an unknown account is still
    hashed at the production cost)."""
    path = tmp_path / "accounts.yaml"
    shutil.copy(accounts_file(), path)
    return path


@pytest.fixture
def app(tmp_path, accounts):
    # No Temporal here: signing in never talks to it.
    return create_app(setup_for(tmp_path / "data", "127.0.0.1:9", GROUPDESK_ACCOUNTS=accounts).settings)


@pytest.fixture
def costly_app(tmp_path):
    """Accounts hashed as production hashes them: for the tests that time a sign-in or count the hashing."""
    return create_app(setup_for(tmp_path / "data", "127.0.0.1:9",
                                GROUPDESK_ACCOUNTS=accounts_file(real_cost=True)).settings)


def client(app, address: str = "203.0.113.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="https://testserver")


async def attempt(web, person, password="wrong"):
    return await web.post("/api/session", json={"person": person, "password": password})


async def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(app):
    buffer = io.StringIO()
    configure_logging("json")
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=buffer))
    try:
        async with client(app) as web:
            for _ in range(5):
                assert (await attempt(web, "sun.li")).status_code == 401
            locked = await attempt(web, "sun.li", PASSWORD)
            assert locked.status_code == 429, locked.text
            assert 800 <= int(locked.headers["Retry-After"]) <= 900 and "try again" in locked.json()["detail"]
            # the page says so too, with the same header
            page = await web.get("/login")
            form = {"person": "sun.li", "password": PASSWORD,
                    "csrf_token": page.text.split('name="csrf_token" value="')[1].split('"')[0]}
            refused = await web.post("/login", data=form)
            assert refused.status_code == 429 and "Retry-After" in refused.headers and "try again" in refused.text
            # another account from the same address is not locked by this one
            assert (await attempt(web, "wang.jun", PASSWORD)).status_code == 200
    finally:
        configure_logging("console")
    events = [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]
    locks = [e for e in events if e["event"] == "sign-in locked"]
    assert len(locks) == 1 and locks[0]["account"] == "sun.li" and locks[0]["address"] == "203.0.*.*"
    assert PASSWORD not in buffer.getvalue() and "wrong" not in buffer.getvalue()
    assert "203.0.113.7" not in buffer.getvalue()


async def test_twenty_failures_from_one_address_lock_the_address(app):
    people = ["sun.li", "zhao.min", "qian.lei", "wang.jun", "lin.yue", "ma.ning", "wu.fang", "nobody"]
    async with client(app, "198.51.100.20") as web:
        for i in range(20):
            assert (await attempt(web, people[i % len(people)])).status_code == 401
        assert (await attempt(web, "anna.lee", PASSWORD)).status_code == 429
    async with client(app, "198.51.100.21") as elsewhere:  # the same person from another address
        assert (await attempt(elsewhere, "anna.lee", PASSWORD)).status_code == 200


def test_the_window_slides_and_a_success_clears_the_account(tmp_path):
    now = [1_000_000.0]
    throttle = SignInThrottle(tmp_path / "t.sqlite3", Limits(per_account=3, per_address=5, window=600),
                              clock=lambda: now[0])
    for _ in range(3):
        assert throttle.retry_after("sun.li", "10.0.0.1") == 0
        throttle.failed("sun.li", "10.0.0.1")
        now[0] += 60
    assert throttle.retry_after("sun.li", "10.0.0.1") == 600 - 180  # until the first failure leaves the window
    now[0] += 420
    assert throttle.retry_after("sun.li", "10.0.0.1") == 0
    throttle.failed("sun.li", "10.0.0.2")
    throttle.succeeded("sun.li")
    assert throttle.retry_after("sun.li", "10.0.0.3") == 0
    assert throttle.retry_after("SUN.LI", "10.0.0.1") == 0  # the address 10.0.0.1 had 3, below its 5
    assert mask_address("2001:db8:85a3::8a2e:370:7334") == "2001:0db8:85a3:*" and mask_address("x") == "?"


async def test_argon2_work_is_bounded_and_a_flood_gets_503(costly_app, monkeypatch):
    app = costly_app
    running, peak = 0, 0
    real = auth.check_password

    def counted(*args):
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        try:
            return real(*args)
        finally:
            running -= 1

    monkeypatch.setattr(auth, "check_password", counted)
    monkeypatch.setattr(auth, "SLOT_WAIT", 60.0)  # first: everyone waits for a slot, two hash at a time
    addresses = [f"192.0.2.{i}" for i in range(6)]
    clients = [client(app, a) for a in addresses]
    results = await asyncio.gather(*(attempt(c, "sun.li" if i % 2 else "nobody") for i, c in enumerate(clients)))
    assert peak == auth.MAX_HASHES and all(r.status_code == 401 for r in results)
    monkeypatch.setattr(auth, "SLOT_WAIT", 0.01)  # a flood: nobody waits long for a slot
    flood = await asyncio.gather(*(attempt(c, "ma.ning") for c in clients))
    assert {r.status_code for r in flood} == {401, 503} and peak == auth.MAX_HASHES
    busy = next(r for r in flood if r.status_code == 503)
    assert busy.headers["Retry-After"] and "try again" in busy.json()["detail"]
    for c in clients:
        await c.aclose()


async def test_an_unknown_account_costs_as_much_as_a_known_one(costly_app):
    app = costly_app
    async def timed(person):  # the CPU the attempt costs (the hashing): a loaded host stretches wall time, not this
        async with client(app, f"192.0.2.{hash(person) % 200}") as web:
            started = time.process_time()
            assert (await attempt(web, person)).status_code == 401
            return time.process_time() - started

    known = statistics.median([await timed("sun.li") for _ in range(3)])
    unknown = statistics.median([await timed("no.such.person") for _ in range(3)])
    assert 0.33 < unknown / known < 3, (known, unknown)


async def test_sign_out_revokes_a_copied_cookie(app):
    async with signed_in(app, "sun.li") as web:
        cookie = web.cookies["groupdesk"]
        assert (await web.get("/api/me")).status_code == 200
        assert (await web.delete("/api/session")).status_code == 200
    async with client(app) as thief:
        thief.cookies.set("groupdesk", cookie, domain="testserver")
        assert (await thief.get("/api/me")).status_code == 401
        board = await thief.get("/")
        assert board.status_code == 303 and board.headers["location"] == "/login"


async def test_a_password_change_ends_every_session_of_that_account(app, accounts):
    async with signed_in(app, "sun.li") as laptop, signed_in(app, "wang.jun") as other:
        assert (await laptop.get("/api/me")).status_code == 200
        accounts.write_text(accounts.read_text(encoding="utf-8").replace(
            accounts.read_text(encoding="utf-8").split("sun.li:")[1].splitlines()[0].strip().strip("'\""),
            hash_password("a-new-long-password")), encoding="utf-8")
        assert (await laptop.get("/api/me")).status_code == 401
        assert (await other.get("/api/me")).status_code == 200  # others stay signed in
    async with client(app) as web:
        assert (await attempt(web, "sun.li", PASSWORD)).status_code == 401
        assert (await attempt(web, "sun.li", "a-new-long-password")).status_code == 200


async def test_production_cookies_are_secure_and_dev_cookies_are_not(app, tmp_path):
    async with client(app) as web:
        response = await attempt(web, "sun.li", PASSWORD)
        assert "secure" in response.headers["set-cookie"].lower()
    dev = create_app(setup_for(tmp_path / "dev").settings, dev=True)
    async with client(dev) as web:
        response = await attempt(web, "sun.li", PASSWORD)
        assert response.status_code == 200 and "secure" not in response.headers["set-cookie"].lower()


async def test_the_shipped_accounts_open_only_groupdesk_dev(tmp_path, monkeypatch):
    """The example accounts' password is in the README: a production console refuses it even when an operator
    points GROUPDESK_ACCOUNTS at the example file; only the dev app (`groupdesk dev`) falls back to them."""
    monkeypatch.setenv("GROUPDESK_DEV_MODE", "true")  # a variable turns nothing on: dev is create_app's argument
    copied = setup_for(tmp_path / "prod", GROUPDESK_ACCOUNTS=EXAMPLE_ACCOUNTS).settings
    unset = setup_for(tmp_path / "unset", GROUPDESK_ACCOUNTS=None).settings
    for production in (create_app(copied), create_app(unset)):
        async with client(production) as web:
            assert (await attempt(web, "ma.ning", "groupdesk-demo")).status_code == 401
            assert (await web.get("/phone")).status_code == 404  # no phone simulator
            assert (await web.get("/docs")).status_code == 303  # docs for signed-in ops only
    async with client(create_app(unset, dev=True)) as web:
        assert (await attempt(web, "ma.ning", "groupdesk-demo")).status_code == 200
        assert (await web.get("/phone")).status_code == 200


async def test_health_says_only_ok_or_not(app):
    async with client(app) as web:
        response = await web.get("/healthz")
    assert response.status_code == 503 and response.json() == {"status": "unavailable"}


async def test_x_forwarded_for_counts_only_from_a_trusted_proxy(tmp_path, accounts):
    """By default the header is ignored: a client cannot dodge the address throttle by writing one. Behind a
    proxy in GROUPDESK_TRUSTED_PROXIES each client is counted by the address the proxy saw."""
    def console(name: str, **variables):
        app = create_app(setup_for(tmp_path / name, "127.0.0.1:9", GROUPDESK_ACCOUNTS=accounts, **variables).settings)
        app.state.sign_ins.throttle.limits = Limits(per_account=5, per_address=3)  # 3 per address, not 20: quick
        return app

    STAFF = ["sun.li", "zhao.min", "qian.lei", "wang.jun", "lin.yue", "ma.ning", "wu.fang"]  # 3 tries each at most

    async def failures_until_locked(app, peer: str, forwarded) -> int:
        async with client(app, peer) as web:
            for n in range(1, 8):
                response = await web.post("/api/session", json={"person": STAFF[n - 1], "password": "x"},
                                          headers={"X-Forwarded-For": forwarded(n)})
                if response.status_code == 429:
                    return n
        return 0

    # a spoofer changing the header on every try is still one address: locked after 3
    assert await failures_until_locked(console("plain"), "127.0.0.1", lambda n: f"198.51.100.{n}") == 4
    behind = console("proxy", GROUPDESK_TRUSTED_PROXIES="10.0.0.0/8, 192.0.2.1")
    # through the trusted proxies, 7 different clients: nobody is locked
    assert await failures_until_locked(behind, "10.1.2.3", lambda n: f"203.0.113.{n}, 192.0.2.1") == 0
    # one client behind them, whatever it writes left of what the proxy appended: locked after 3
    assert await failures_until_locked(behind, "10.1.2.3", lambda n: f"1.1.1.{n}, 203.0.113.99") == 4
    # a peer that is not a trusted proxy: its header counts for nothing
    assert await failures_until_locked(behind, "198.51.100.77", lambda n: f"203.0.113.{n}") == 4


def test_the_forwarded_address_walks_from_the_right():
    from groupdesk.runtime.config import networks
    from groupdesk.web.proxies import forwarded_for

    trusted = networks("10.0.0.0/8,2001:db8::/32")
    assert forwarded_for("10.0.0.2", "203.0.113.5, 10.0.0.9", trusted) == "203.0.113.5"
    assert forwarded_for("10.0.0.2", "", trusted) == "10.0.0.2"
    assert forwarded_for("10.0.0.2", "junk", trusted) == "10.0.0.2"
    assert forwarded_for("198.51.100.1", "203.0.113.5", trusted) == "198.51.100.1"
    assert forwarded_for("2001:db8::1", "2001:0db8:0::7, 198.51.100.3", trusted) == "198.51.100.3"
    with pytest.raises(ValueError, match="'10.0.0.0/33' is not an address"):
        networks("10.0.0.0/33")
