"""groupdesk's database on SQLite and on a real PostgreSQL: atomic claims, forward-only reports, approval codes
and sign-in shared by every host, migrations and the import of earlier SQLite files."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import text

from groupdesk.messaging import outbox as outbox_module
from groupdesk.messaging.approval_codes import ApprovalCodes
from groupdesk.runtime.config import REPO_ROOT, Settings
from groupdesk.messaging.inbox import Inbox
from groupdesk.messaging.outbox import Outbox, OutboxRow
from groupdesk.storage import Database, migrate, open_database
from groupdesk.storage.submissions import Submissions
from groupdesk.web.sessions import SessionStore
from groupdesk.web.throttle import Limits, SignInThrottle


def message(key: str = "inc-1/talk#1/step_started/start/sun.li", **over) -> OutboxRow:
    values = dict(key=key, incident_id="inc-1", step="talk", purpose="step_started", recipient="sun.li",
                  role="hall_lead", to_number="+8613900000103", lang="zh-CN", body="请到贵宾室", drill=True,
                  provider="twilio")
    values.update(over)
    return OutboxRow(**values)


def test_a_message_is_stored_once_and_taken_by_one_sender_of_many(database_url):
    outbox = Outbox(database_url)
    barrier = threading.Barrier(8)

    def contend(n: int):
        barrier.wait()  # all eight claim at the same moment, as workers on eight hosts would
        return outbox.claim_to_send(message(), holder=f"wf-{n}/activity-{n}#1")

    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(contend, range(8)))
    assert sum(c.created for c in claims) == 1
    assert sum(c.owned for c in claims) == 1
    rows = outbox.list("inc-1")
    assert len(rows) == 1 and rows[0].status == "sending" and rows[0].body == "请到贵宾室" and rows[0].drill is True


def test_who_may_take_a_message_being_sent(database_url, monkeypatch):
    outbox = Outbox(database_url)
    first = outbox.claim_to_send(message(), "wf/act-1#1")
    assert first.owned and first.was == "queued"
    assert not outbox.claim_to_send(message(), "wf/act-2#1").owned  # another activity: not while it is fresh
    later = outbox.claim_to_send(message(), "wf/act-1#2")  # the next attempt of the same activity
    assert later.owned and later.was == "sending"  # ... takes over, and must look at the provider first
    monkeypatch.setattr(outbox_module, "HOLD", timedelta(0))
    assert outbox.claim_to_send(message(), "wf/act-2#1").owned  # a silent holder is taken over
    outbox.mark(message().key, "sent", provider_id="SM1")
    done = outbox.claim_to_send(message(), "wf/act-3#1")
    assert not done.owned and done.row.status == "sent"
    assert outbox.get(message().key).provider_id == "SM1"


def test_an_ops_retry_reopens_only_a_refused_message(database_url):
    outbox = Outbox(database_url)
    outbox.claim_to_send(message(), "wf/a#1")
    outbox.mark(message().key, "failed", "21211", "invalid To number")
    assert not outbox.claim_to_send(message(to_number="+8613900009999"), "wf/b#1").owned
    retried = outbox.claim_to_send(message(to_number="+8613900009999"), "wf/c#1", retry=True)
    assert retried.owned and retried.reopened and retried.row.to_number == "+8613900009999"
    assert retried.row.error_code is None


def test_delivery_reports_only_move_forward(database_url):
    outbox = Outbox(database_url)
    key = message().key
    outbox.claim(message())
    outbox.mark(key, "sent", provider_id="SM1")
    assert outbox.report(key, "delivered", "SM1")
    assert not outbox.report(key, "sent", "SM1")  # late and out of order
    assert not outbox.report(key, "no-such-status")
    assert not outbox.report("unknown-key", "delivered")
    assert outbox.get(key).status == "delivered"
    assert [r.key for r in outbox.list(limit=5)] == [key]


def test_inbox_and_console_forms_answer_a_redelivery_the_same(database_url):
    inbox = Inbox(database_url)
    assert inbox.claim("SM-in-1", "+86 139****0301")
    assert not inbox.claim("SM-in-1", "+86 139****0301")
    inbox.answer("SM-in-1", "已同意")
    assert inbox.reply_for("SM-in-1") == "已同意" and inbox.reply_for("SM-other") == ""
    forms = Submissions(database_url)
    assert forms.claim("tok", "xicheng-1") and not forms.claim("tok", "xicheng-2")
    assert forms.get("tok") == "xicheng-1"
    forms.release("tok")
    assert forms.get("tok") is None


def test_approval_codes_are_one_per_request_and_unique_across_hosts(database_url):
    hosts = [ApprovalCodes(Database(database_url), b"k" * 32) for _ in range(2)]  # two engines, as two hosts
    with ThreadPoolExecutor(8) as pool:
        same = list(pool.map(lambda n: hosts[n % 2].issue("inc-1/director_review#1/approval_request", "inc-1", "xicheng"),
                             range(8)))
        issued = list(pool.map(lambda n: hosts[n % 2].issue(f"inc-{n}/review#1/approval_request", f"inc-{n}", "xicheng"),
                               range(2, 40)))
    assert len(set(same)) == 1  # a retried send, on either host, renders the same code
    assert len({hashed for _, hashed in issued}) == len(issued)  # no two open approvals share a code
    code, _ = same[0]
    found = hosts[1].find(code)  # the console on another host finds what a worker issued
    assert found.incident_id == "inc-1" and found.hall_id == "xicheng" and found.status == "open"
    hosts[0].close(found.request_key, "used")
    assert hosts[1].find(code).status == "used"
    for n in range(4):
        assert hosts[n % 2].wrong("+8613900000301") is None
    assert hosts[0].wrong("+8613900000301") is not None and hosts[1].locked_until("+8613900000301")
    for host in hosts:
        host.db.dispose()


def test_sign_in_counts_and_sessions_are_shared_by_console_replicas(database_url):
    clock = [1000.0]
    throttles = [SignInThrottle(Database(database_url), Limits(per_account=3, per_address=10, window=600),
                                clock=lambda: clock[0]) for _ in range(2)]
    for n in range(3):
        throttles[n % 2].failed("sun.li", "10.0.0.1")
    assert throttles[0].retry_after("sun.li", "10.0.0.2") == 600  # locked on both replicas
    throttles[1].succeeded("sun.li")
    assert throttles[0].retry_after("sun.li", "10.0.0.2") == 0
    sessions = [SessionStore(Database(database_url)) for _ in range(2)]
    cookie = sessions[0].create("sun.li", "stamp-1")
    assert sessions[1].person(cookie, lambda person: "stamp-1") == "sun.li"
    assert sessions[1].person(cookie, lambda person: "stamp-2") is None  # the password changed
    sessions[1].end(cookie)  # signed out on one replica: gone on the other
    assert sessions[0].person(cookie, lambda person: "stamp-1") is None
    for store in throttles + sessions:
        store.db.dispose()


def test_processes_starting_together_migrate_once(empty_database_url):
    engines = []

    def start(_):
        db = Database(empty_database_url)  # each its own engine, as separate processes have
        engines.append(db)
        return db.revision()

    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(start, range(4))) == {migrate.head()}
    for db in engines:
        db.dispose()


OLD_OUTBOX = """CREATE TABLE messages (key TEXT PRIMARY KEY, incident_id TEXT NOT NULL, step TEXT, purpose TEXT NOT NULL,
    recipient TEXT NOT NULL, role TEXT NOT NULL, to_number TEXT NOT NULL, lang TEXT NOT NULL, body TEXT NOT NULL,
    drill INTEGER NOT NULL DEFAULT 0, provider TEXT NOT NULL, status TEXT NOT NULL, provider_id TEXT, error_code TEXT,
    error TEXT, attempts INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"""


def old_data_dir(path):
    path.mkdir(parents=True)
    with sqlite3.connect(path / "outbox.sqlite3") as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(OLD_OUTBOX)
        for n, status in enumerate(["sent", "sending", "failed"]):
            db.execute("INSERT INTO messages VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       (f"old-{n}", "old-incident", "talk", "step_started", "sun.li", "hall_lead", "+8613900000103",
                        "zh-CN", f"消息{n}", 1, "twilio", status, f"SM{n}" if status == "sent" else None,
                        "21211" if status == "failed" else None, None, 1, f"2026-11-2{n}T01:00:00.000+00:00",
                        f"2026-11-2{n}T01:00:01.000+00:00"))
    with sqlite3.connect(path / "inbox.sqlite3") as db:
        db.execute("CREATE TABLE inbound (message_sid TEXT PRIMARY KEY, from_masked TEXT NOT NULL, reply TEXT,"
                   " received_at TEXT NOT NULL)")
        db.execute("INSERT INTO inbound VALUES ('SM-old', '+86 139****0301', '已同意', '2026-11-20T01:00:00')")
    with sqlite3.connect(path / "web.sqlite3") as db:
        db.execute("CREATE TABLE submissions (token TEXT PRIMARY KEY, incident_id TEXT NOT NULL)")
        db.execute("INSERT INTO submissions VALUES ('form-1', 'old-incident')")
        db.execute("CREATE TABLE sign_in_sessions (id_hash TEXT PRIMARY KEY, person TEXT NOT NULL,"
                   " stamp TEXT NOT NULL, expires REAL NOT NULL)")
        db.execute("INSERT INTO sign_in_sessions VALUES (?, 'sun.li', 'stamp-1', 9e12)",
                   (hashlib.sha256(b"old-cookie").hexdigest(),))


def test_an_existing_sqlite_outbox_is_migrated_not_lost(empty_database_url, tmp_path):
    data = tmp_path / "old-data"
    old_data_dir(data)
    settings = Settings(GROUPDESK_DATA_DIR=data, GROUPDESK_DATABASE_URL=empty_database_url)
    outbox = Outbox(settings)
    rows = outbox.list("old-incident")
    assert [(r.key, r.status, r.provider_id, r.drill) for r in rows] == [
        ("old-0", "sent", "SM0", True), ("old-1", "sending", None, True), ("old-2", "failed", None, True)]
    assert rows[2].error_code == "21211" and rows[0].body == "消息0"
    assert Inbox(settings).reply_for("SM-old") == "已同意" and Submissions(settings).get("form-1") == "old-incident"
    assert not (data / "outbox.sqlite3").exists() and (data / "outbox.sqlite3.imported").exists()
    assert outbox.db.imported == {"outbox.sqlite3": 3, "inbox.sqlite3": 1, "web.sqlite3": 2}
    assert SessionStore(settings).person("old-cookie", lambda person: "stamp-1") == "sun.li"  # still signed in
    # an imported message is not sent again: it is taken only to be reconciled ("sending") or not at all
    assert not outbox.claim_to_send(rows[0], "wf/a#1").owned


def test_groupdesk_db_upgrade_imports_and_reports(postgres, tmp_path):
    data = tmp_path / "old-data"
    old_data_dir(data)
    url = postgres.create_database()
    env = {"GROUPDESK_DATA_DIR": str(data), "GROUPDESK_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    groupdesk = [sys.executable, "-m", "groupdesk.cli"]
    before = subprocess.run(groupdesk + ["db", "current"], env=env, capture_output=True, text=True, cwd=REPO_ROOT)
    assert before.returncode == 1 and "revision none" in before.stdout and "groupdesk-test-password" not in before.stdout
    done = subprocess.run(groupdesk + ["db", "upgrade"], env=env, capture_output=True, text=True, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    assert f"empty -> {migrate.head()}" in done.stdout and "imported 3 rows from outbox.sqlite3" in done.stdout
    with open_database(url).read() as c:
        assert migrate.current(c) == migrate.head()
        assert c.execute(text("SELECT count(*) FROM messages")).scalar() == 3
    bad = subprocess.run(groupdesk + ["db", "upgrade"], env={**env, "GROUPDESK_DATABASE_URL": "mysql://x@y/z"},
                         capture_output=True, text=True, cwd=REPO_ROOT)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "GROUPDESK_DATABASE_URL" in bad.stderr
