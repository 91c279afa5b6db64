"""Starting the console, the worker and `groupdesk dev`: a bad or missing setting is one line naming it,
exit 2, nothing started; production (anything but `groupdesk dev`) insists on its secrets."""

from __future__ import annotations

import base64
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER
from groupdesk.runtime.config import EXAMPLE_ACCOUNTS, REPO_ROOT
from groupdesk.engine.devserver import port_open
from helpers import accounts_file, quiet_port

pytestmark = pytest.mark.server  # the server tier: each case starts a groupdesk process

CODEC_KEYS = "k1=" + base64.b64encode(os.urandom(32)).decode()
SECRET = "s" * 40
PRODUCTION = {"GROUPDESK_SECRET_KEY": SECRET, "GROUPDESK_CODEC_KEYS": CODEC_KEYS, "GROUPDESK_HASH_KEY": SECRET,
              "GROUPDESK_ACCOUNTS": str(accounts_file()), "GROUPDESK_PUBLIC_URL": "https://groupdesk.example.org"}
TWILIO = {"GROUPDESK_SMS_PROVIDER": "twilio", "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
          "TWILIO_FROM_NUMBER": FROM_NUMBER, "GROUPDESK_PUBLIC_URL": "https://groupdesk.example.org"}
COMMANDS = {"console": ["-m", "groupdesk.cli", "console"], "worker": ["worker.py"], "dev": ["-m", "groupdesk.cli", "dev"]}


def environment(tmp_path, **settings) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GROUPDESK_", "TWILIO_", "TEMPORAL_"))}
    env.update(TEMPORAL_ADDRESS=f"127.0.0.1:{quiet_port()}", GROUPDESK_DATA_DIR=str(tmp_path / "data"),
               GROUPDESK_WEB_PORT=str(quiet_port()), GROUPDESK_DEV_UI_PORT=str(quiet_port()))
    env.update(settings)
    return env


CASES = [  # process, settings, the settings each error line must name (one line each)
    ("console", {"GROUPDESK_WEB_PORT": "eighty"}, ["GROUPDESK_WEB_PORT"]),
    ("console", {}, ["GROUPDESK_ACCOUNTS", "GROUPDESK_SECRET_KEY", "GROUPDESK_HASH_KEY", "GROUPDESK_CODEC_KEYS"]),
    # the shipped example accounts (password in the README): refused, the accounts named
    ("console", {**PRODUCTION, "GROUPDESK_ACCOUNTS": str(EXAMPLE_ACCOUNTS)}, ["zhao.min, qian.lei, sun.li"]),
    # no variable makes a production process a dev one
    ("console", {**PRODUCTION, "GROUPDESK_DEV_MODE": "true"}, ["GROUPDESK_DEV_MODE"]),
    ("worker", {**PRODUCTION, "GROUPDESK_DEV_MODE": "1"}, ["GROUPDESK_DEV_MODE"]),
    ("console", {**PRODUCTION, "GROUPDESK_TRUSTED_PROXIES": "10.0.0.0/33"}, ["GROUPDESK_TRUSTED_PROXIES"]),
    ("console", {**PRODUCTION, "GROUPDESK_SECRET_KEY": "short"}, ["GROUPDESK_SECRET_KEY"]),
    ("console", {**PRODUCTION, **TWILIO, "GROUPDESK_PUBLIC_URL": "http://groupdesk.example.org"},
     ["GROUPDESK_PUBLIC_URL"]),
    ("console", {**PRODUCTION, "GROUPDESK_CODEC_KEYS": "k1=not-base64"}, ["GROUPDESK_CODEC_KEYS"]),
    ("console", {**PRODUCTION, "GROUPDESK_ACCOUNTS": "/nonexistent/accounts.yaml"}, ["GROUPDESK_ACCOUNTS"]),
    ("worker", {**PRODUCTION, **TWILIO, "TWILIO_ACCOUNT_SID": ""}, ["TWILIO_ACCOUNT_SID"]),
    ("worker", {"GROUPDESK_CODEC_KEYS": "k1=c2hvcnQ=", "GROUPDESK_HASH_KEY": SECRET},
     ["GROUPDESK_CODEC_KEYS", "GROUPDESK_PUBLIC_URL"]),
    ("worker", {}, ["GROUPDESK_HASH_KEY", "GROUPDESK_CODEC_KEYS", "GROUPDESK_PUBLIC_URL"]),
    ("worker", {**PRODUCTION, "GROUPDESK_PUBLIC_URL": ""}, ["GROUPDESK_PUBLIC_URL"]),  # complainants get links to it
    ("worker", {**PRODUCTION, "GROUPDESK_HASH_KEY": "short"}, ["GROUPDESK_HASH_KEY"]),
    ("worker", {"GROUPDESK_WEB_PORT": "8800.5", "GROUPDESK_SMS_PROVIDER": "sms"},
     ["GROUPDESK_SMS_PROVIDER", "GROUPDESK_WEB_PORT"]),
    ("worker", {**PRODUCTION, "TEMPORAL_TLS_CERT": "/nonexistent/client.pem"},
     ["TEMPORAL_TLS_CERT", "TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY"]),
    ("dev", {**TWILIO, "TWILIO_ACCOUNT_SID": ""}, ["TWILIO_ACCOUNT_SID"]),
    ("dev", {"GROUPDESK_CODEC_KEYS": "k1"}, ["GROUPDESK_CODEC_KEYS"]),
    ("dev", {"GROUPDESK_WEB_PORT": "80x"}, ["GROUPDESK_WEB_PORT"]),
    ("dev", {"GROUPDESK_PUBLIC_URL": "https://groupdesk.example.org"}, ["GROUPDESK_PUBLIC_URL"]),
    ("dev", {"GROUPDESK_WEB_HOST": "0.0.0.0"}, ["GROUPDESK_WEB_HOST"]),
]


@pytest.mark.parametrize("process,settings,named", CASES,
                         ids=[f"{p}-{'+'.join(n)}" for p, _, n in CASES])
def test_a_bad_setting_is_one_line_and_nothing_starts(process, settings, named, tmp_path):
    env = environment(tmp_path, **settings)
    done = subprocess.run([sys.executable, *COMMANDS[process]], env=env, cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and all(line.startswith("error: ") for line in lines), done.stderr
    assert len(lines) == len(named), done.stderr
    for name in named:
        assert any(name in line for line in lines), (name, lines)
    ports = [env[k].rpartition(":")[2] for k in ("TEMPORAL_ADDRESS", "GROUPDESK_WEB_PORT", "GROUPDESK_DEV_UI_PORT")]
    assert not any(port_open("127.0.0.1", int(p)) for p in ports if p.isdigit())
    assert not (tmp_path / "data" / "temporal.sqlite3").exists()


def test_one_account_with_the_example_password_is_named(tmp_path):
    """An accounts file of the operator's own, where one account kept the README's password."""
    import yaml

    mine = yaml.safe_load(accounts_file().read_text(encoding="utf-8"))["accounts"]
    shipped = yaml.safe_load(EXAMPLE_ACCOUNTS.read_text(encoding="utf-8"))["accounts"]
    mixed = tmp_path / "accounts.yaml"
    mixed.write_text(yaml.safe_dump({"accounts": {**mine, "ma.ning": shipped["ma.ning"]}}), encoding="utf-8")
    env = environment(tmp_path, **{**PRODUCTION, "GROUPDESK_ACCOUNTS": str(mixed)})
    done = subprocess.run([sys.executable, *COMMANDS["console"]], env=env, cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert lines[0].startswith("error: GROUPDESK_ACCOUNTS: ma.ning has a password shipped"), lines
    assert "sun.li" not in lines[0] and "groupdesk-demo" not in lines[0]


def test_dev_allow_public_is_the_explicit_way_out(tmp_path):
    env = environment(tmp_path, GROUPDESK_PUBLIC_URL="https://groupdesk.example.org", GROUPDESK_CODEC_KEYS="k1")
    done = subprocess.run([sys.executable, *COMMANDS["dev"], "--allow-public"], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    # past the public-URL check, it stops at the next problem, the malformed key
    assert done.returncode == 2 and "GROUPDESK_PUBLIC_URL" not in done.stderr and "GROUPDESK_CODEC_KEYS" in done.stderr


def test_a_production_console_with_its_settings_starts_with_secure_cookies(tmp_path):
    env = environment(tmp_path, **PRODUCTION)
    port = env["GROUPDESK_WEB_PORT"]
    console = subprocess.Popen([sys.executable, *COMMANDS["console"]], env=env, cwd=REPO_ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not port_open("127.0.0.1", int(port)):
            assert console.poll() is None and time.monotonic() < deadline, console.stdout.read()
            time.sleep(0.2)
        login = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10)
        assert login.status == 200 and "secure" in login.headers["set-cookie"].lower()
        for path in ("/metrics", "/openapi.json"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10)
            assert refused.value.code == 401
        with pytest.raises(urllib.error.HTTPError) as health:  # Temporal is not running: not ok, and no reason
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30)
        assert health.value.code == 503 and health.value.read() == b'{"status":"unavailable"}'
        assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
        for name in ("groupdesk.sqlite3",):
            assert (tmp_path / "data" / name).stat().st_mode & 0o777 == 0o600
        assert not (tmp_path / "data" / "secret_key").exists()  # the key from the environment, none made
    finally:
        console.terminate()
        console.wait(timeout=20)


def test_data_files_are_created_private_and_old_ones_are_tightened(tmp_path):
    from groupdesk.runtime.config import Settings
    from groupdesk.messaging.inbox import Inbox
    from groupdesk.messaging.outbox import Outbox
    from groupdesk.web.sessions import SessionStore

    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    old = data / "outbox.sqlite3"
    with sqlite3.connect(old) as db:  # an outbox from before, as it was made: world-readable
        db.execute("CREATE TABLE messages (key TEXT PRIMARY KEY)")
    old.chmod(0o644)
    data.chmod(0o755)
    settings = Settings(GROUPDESK_DATA_DIR=data)
    outbox = Outbox(settings)  # groupdesk's database in the data dir; the old outbox imported and kept
    outbox.list()
    Inbox(settings)
    SessionStore(settings).create("sun.li", "stamp")
    settings.session_secret()
    assert data.stat().st_mode & 0o777 == 0o700
    files = sorted(p.name for p in data.iterdir())
    assert {"groupdesk.sqlite3", "outbox.sqlite3.imported", "secret_key"} <= set(files), files
    for path in data.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, (path.name, oct(path.stat().st_mode))
