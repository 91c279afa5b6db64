"""GROUPDESK_STAFF_CHANNEL=wecom and the WeCom app's settings: a missing or malformed one stops the worker, the
console and every command at start, one line naming it (never repeating a secret), exit 2; the directory's
wecom_userid is held to WeCom's format, and `groupdesk directory` shows who is reached on WeCom."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fake_wecom import SECRET, settings_env
from groupdesk.cli.gate import PROCESSES
from groupdesk.runtime.config import EXAMPLE_DIRECTORY, REPO_ROOT, Settings
from groupdesk.people.directory import DirectoryError, load_directory
from groupdesk.messaging.wecom.settings import wecom_problems
from helpers import groupdesk_cli
from test_startup import COMMANDS, PRODUCTION, environment

pytestmark = pytest.mark.server  # the server tier: each case runs in a groupdesk process (a warm one for commands)

GOOD = settings_env("https://qyapi.weixin.qq.com")
DIRECTORY = ["-m", "groupdesk.cli", "directory"]
LIST = ["-m", "groupdesk.cli", "list"]

CASES = [  # command, what differs from a good WeCom app, the one setting the error names
    (DIRECTORY, {"GROUPDESK_WECOM_SECRET": ""}, "GROUPDESK_WECOM_SECRET"),
    (DIRECTORY, {"GROUPDESK_WECOM_AES_KEY": "tooShortKey"}, "GROUPDESK_WECOM_AES_KEY"),
    (LIST, {"GROUPDESK_WECOM_AES_KEY": "!" * 43}, "GROUPDESK_WECOM_AES_KEY"),
    (LIST, {"GROUPDESK_WECOM_CORP_ID": ""}, "GROUPDESK_WECOM_CORP_ID"),
    (DIRECTORY, {"GROUPDESK_WECOM_AGENT_ID": "app-2"}, "GROUPDESK_WECOM_AGENT_ID"),
    (DIRECTORY, {"GROUPDESK_WECOM_TOKEN": "t" * 33}, "GROUPDESK_WECOM_TOKEN"),
    (DIRECTORY, {"GROUPDESK_WECOM_API_BASE": "https://qyapi.weixin.qq.com/cgi-bin"}, "GROUPDESK_WECOM_API_BASE"),
    (DIRECTORY, {"GROUPDESK_WECOM_API_BASE": "http://qyapi.weixin.qq.com"}, "GROUPDESK_WECOM_API_BASE"),
    (DIRECTORY, {"GROUPDESK_STAFF_CHANNEL": "dingtalk"}, "GROUPDESK_STAFF_CHANNEL"),
    (COMMANDS["worker"], {"GROUPDESK_WECOM_SECRET": "has spaces in it!"}, "GROUPDESK_WECOM_SECRET"),
    (COMMANDS["console"], {"GROUPDESK_WECOM_TOKEN": ""}, "GROUPDESK_WECOM_TOKEN"),
    (COMMANDS["dev"], {"GROUPDESK_WECOM_AGENT_ID": ""}, "GROUPDESK_WECOM_AGENT_ID"),
]


def run(command: list[str], env: dict) -> subprocess.CompletedProcess:
    """A command in this test process's warm groupdesk, as the script runs it (helpers.groupdesk_cli: a new process
    costs ~1.5 CPU-s of imports); the worker, the console and `groupdesk dev` as processes of their own (they check
    their settings before loading the commands)."""
    if command[:2] == ["-m", "groupdesk.cli"] and command[2] not in PROCESSES:
        return groupdesk_cli(env, *command[2:])
    return subprocess.run([sys.executable, *command], env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("command,change,named", CASES, ids=[f"{c[-1]}-{n}" for c, _, n in CASES])
def test_a_missing_or_malformed_wecom_setting_stops_every_process(command, change, named, tmp_path):
    env = environment(tmp_path, **{**GOOD, **PRODUCTION, "GROUPDESK_PUBLIC_URL": "https://gd.example.org", **change})
    done = run(command, env)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: ") and named in lines[0], \
        done.stderr
    assert "Traceback" not in done.stderr and not done.stdout.strip()
    for secret in (SECRET, "has spaces in it!", "tooShortKey"):
        assert secret not in done.stderr, "a secret was echoed"
    assert not (tmp_path / "data" / "temporal.sqlite3").exists()


def test_every_problem_is_named_at_once_and_sms_needs_none_of_them():
    settings = Settings(GROUPDESK_STAFF_CHANNEL="wecom")
    named = [line.split(" ", 1)[0] for line in wecom_problems(settings)]
    assert named == ["GROUPDESK_WECOM_CORP_ID", "GROUPDESK_WECOM_AGENT_ID", "GROUPDESK_WECOM_SECRET",
                     "GROUPDESK_WECOM_TOKEN", "GROUPDESK_WECOM_AES_KEY"]
    assert wecom_problems(Settings()) == [] and wecom_problems(Settings(**GOOD)) == []
    assert wecom_problems(Settings(**{**GOOD, "GROUPDESK_WECOM_API_BASE": "http://127.0.0.1:9100"})) == []


def test_a_production_console_on_wecom_needs_an_https_public_url(tmp_path):
    env = environment(tmp_path, **GOOD, **{**PRODUCTION, "GROUPDESK_PUBLIC_URL": ""})
    done = subprocess.run([sys.executable, *COMMANDS["console"]], env=env, cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "GROUPDESK_PUBLIC_URL" in done.stderr and "WeCom sign-in" in done.stderr


def test_wecom_userids_are_held_to_wecoms_format_and_are_one_persons(tmp_path):
    text = EXAMPLE_DIRECTORY.read_text(encoding="utf-8")
    path = tmp_path / "directory.yaml"
    for bad, words in (("wecom_userid: WangJun", "wecom_userid: _WangJun"), ("wecom_userid: WangJun",
                                                                             "wecom_userid: 'Wang Jun'")):
        path.write_text(text.replace(bad, words), encoding="utf-8")
        with pytest.raises(DirectoryError, match="wang.jun|people.7.wecom_userid.*not a WeCom userid"):
            load_directory(path)
    path.write_text(text.replace("wecom_userid: SunLi", "wecom_userid: wangjun"), encoding="utf-8")
    with pytest.raises(DirectoryError, match="wecom_userid 'WangJun' is also 'sun.li''s"):
        load_directory(path)
    directory = load_directory(EXAMPLE_DIRECTORY)
    assert directory.by_wecom_userid("wangjun").id == "wang.jun" and directory.by_wecom_userid("nobody") is None


def test_the_directory_command_shows_who_is_reached_on_wecom(tmp_path):
    env = environment(tmp_path, **GOOD)
    done = run([*DIRECTORY, "--json"], env)
    assert done.returncode == 0, done.stderr
    assert '"wecom_userid": "WangJun"' in done.stdout and '"wecom_userid": null' in done.stdout
    table = run(DIRECTORY, {**env, "COLUMNS": "200"}).stdout
    rows = {line.split("│")[1].strip(): line for line in table.splitlines() if line.count("│") == 5}
    assert "WeCom, SMS if WeCom fails" in rows["wang.jun"] and "WangJun" in rows["wang.jun"]
    assert "SMS" in rows["qian.lei"] and "WeCom" not in rows["qian.lei"]
    assert "GROUPDESK_STAFF_CHANNEL=wecom" in table
