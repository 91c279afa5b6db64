"""Before a long-running process starts: settings that parse, and what production requires.

Production is every process but `groupdesk dev`: the kind of process decides, no setting does. Every
problem is one line naming the setting and the fix; the process then exits 2 having started nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Literal, NoReturn

from pydantic import ValidationError

from groupdesk.runtime.config import Settings

Process = Literal["console", "worker", "dev"]
NEW_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
NEW_CODEC_KEY = "k1=$(python -c 'import os, base64; print(base64.b64encode(os.urandom(32)).decode())')"
_EXPECTED = {"int_parsing": "a whole number", "float_parsing": "a number", "bool_parsing": "true or false",
             "greater_than_equal": None, "literal_error": None}


class SettingsProblems(Exception):
    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


def load_settings(**overrides) -> Settings:
    """Settings from the environment; a value that does not parse is one line naming its variable."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise SettingsProblems([_line(error) for error in exc.errors()]) from None
    if channel_lines := _staff_channel_problems(settings):
        raise SettingsProblems(channel_lines)
    return settings


def _staff_channel_problems(settings: Settings) -> list[str]:
    """GROUPDESK_STAFF_CHANNEL=wecom and its app: checked here, so every CLI command refuses a bad one too."""
    from groupdesk.messaging.wecom.settings import wecom_problems

    return wecom_problems(settings)


def _line(error: dict) -> str:
    name = ".".join(str(part) for part in error["loc"]) or "settings"
    if error["type"] == "value_error":  # a validator's own words (config.py): already name the fix
        return f"{name}={str(error.get('input'))[:40]!r}: {error['msg'].removeprefix('Value error, ')}"
    wanted = _EXPECTED.get(error["type"]) or error["msg"].removeprefix("Input should be ").rstrip(".")
    return f"{name}={str(error.get('input'))[:40]!r} is not valid: it should be {wanted}; fix it in the environment"


def problems(settings: Settings, process: Process) -> list[str]:
    """What stops this process from starting safely, one line each (empty: start)."""
    from groupdesk.engine.codec import CodecSettingsError, codec_from_settings
    from groupdesk.people.directory import DirectoryError, load_directory

    found: list[str] = []
    try:
        codec = codec_from_settings(settings)
    except CodecSettingsError as exc:
        codec = None
        found.append(str(exc))
    found += _tls_problems(settings)
    try:
        staff = load_directory(settings.directory)
    except DirectoryError as exc:
        found.append(f"GROUPDESK_DIRECTORY: {exc}")
    else:
        found += _calendar_problems(settings, staff)
    if process != "worker":
        found += _accounts_problems(settings, process)
    if settings.sms_provider == "twilio":
        from groupdesk.messaging.twilio import TwilioProvider, TwilioSettingsError

        try:
            TwilioProvider.from_settings(settings)
        except TwilioSettingsError as exc:
            found.append(str(exc))
    found += [line for line in _messaging_problems(settings, process) if line not in found]
    if process == "dev":
        return found
    if _truthy(os.environ.get("GROUPDESK_DEV_MODE", "")):
        found.append("GROUPDESK_DEV_MODE is set, but only `groupdesk dev` runs in dev mode (the phone simulator,"
                     f" the example accounts); a {process} always runs as production: remove the variable")
    if process == "console":
        if not settings.secret_key:
            found.append(f"GROUPDESK_SECRET_KEY is not set: the console signs its session cookies with it;"
                         f" set it to a long random value ({NEW_SECRET})")
        elif len(settings.secret_key) < 32:
            found.append(f"GROUPDESK_SECRET_KEY is too short ({len(settings.secret_key)} characters):"
                         f" use at least 32 ({NEW_SECRET})")
    if not settings.hash_key_value:
        found.append(f"GROUPDESK_HASH_KEY is not set: it keys the hashes of phones and approval codes, and the"
                     f" console and every worker must share it; set it to a long random value ({NEW_SECRET})")
    if codec is None and not any(line.startswith("GROUPDESK_CODEC_KEY") for line in found):
        found.append("GROUPDESK_CODEC_KEYS is not set: outside `groupdesk dev` complainants' names and phones are"
                     f" encrypted before Temporal stores them; set GROUPDESK_CODEC_KEYS={NEW_CODEC_KEY}")
    if settings.sms_provider == "twilio" and not settings.public_url.startswith("https://") and \
            not any(line.startswith("GROUPDESK_PUBLIC_URL") for line in found):
        found.append(f"GROUPDESK_PUBLIC_URL={settings.public_url!r} must be an https:// address when"
                     " GROUPDESK_SMS_PROVIDER=twilio (Twilio posts replies and delivery reports to it)")
    if process == "worker" and not settings.public_url.startswith(("https://", "http://")) and \
            not any(line.startswith("GROUPDESK_PUBLIC_URL") for line in found):
        found.append(f"GROUPDESK_PUBLIC_URL={settings.public_url!r} must be the console's public address: the worker"
                     " sends every message to a complainant with the link to their status page (…/s/...)")
    if settings.staff_channel == "wecom" and not settings.public_url.startswith("https://") and \
            not any(line.startswith("GROUPDESK_PUBLIC_URL") for line in found):
        found.append(f"GROUPDESK_PUBLIC_URL={settings.public_url!r} must be an https:// address when"
                     " GROUPDESK_STAFF_CHANNEL=wecom (WeCom sign-in returns to it; approval cards link to it)")
    return found


def _messaging_problems(settings: Settings, process: Process) -> list[str]:
    """The SMS providers in use (GROUPDESK_SMS_PROVIDER, GROUPDESK_SMS_ROUTES): their settings, their push
    addresses' token in production, and an approved template for every message a domestic one sends."""
    from groupdesk.messaging import channels

    found = channels.settings_problems(settings)
    if process != "dev":
        found += channels.production_problems(settings)
    return found + (channels.template_problems(settings) if not found else [])


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


MAKE_HASH = "python -c \"from groupdesk.people.accounts import hash_password; print(hash_password(input()))\""


def _accounts_problems(settings: Settings, process: Process) -> list[str]:
    """Accounts that parse; outside `groupdesk dev` given explicitly, and none opened by a shipped password."""
    from groupdesk.people.accounts import load_accounts, with_example_passwords

    path = settings.accounts_file(dev=process == "dev")
    if path is None:
        return ["GROUPDESK_ACCOUNTS is not set: a production console signs in only the accounts you made; point it"
                f" at a YAML file `accounts: {{staff_id: argon2 hash}}` (a hash: {MAKE_HASH})"]
    try:
        accounts = load_accounts(path)
    except (OSError, ValueError) as exc:
        return [f"GROUPDESK_ACCOUNTS: {str(exc).splitlines()[0][:300]}"]
    bad = [person for person, stored in accounts.items() if not stored.startswith("$argon2")]
    if bad:
        return [f"GROUPDESK_ACCOUNTS: {', '.join(bad[:3])} has no argon2 hash; make one with {MAKE_HASH}"]
    if process == "dev":
        return []
    shipped = with_example_passwords(accounts)
    return [f"GROUPDESK_ACCOUNTS: {', '.join(shipped[:5])}{' and others' if len(shipped) > 5 else ''}"
            f" {'has' if len(shipped) == 1 else 'have'} a password shipped with groupdesk's examples (the README"
            f" prints it); give {'it' if len(shipped) == 1 else 'them'} a password of their own ({MAKE_HASH})"
            ] if shipped else []


def _calendar_problems(settings: Settings, staff) -> list[str]:
    from groupdesk.playbooks.periods import PeriodError, load_calendar

    try:
        load_calendar(settings.sensitive_periods, staff)
    except PeriodError as exc:
        return [f"GROUPDESK_SENSITIVE_PERIODS: {exc}"]
    return []


def _tls_problems(settings: Settings) -> list[str]:
    found = [f"{name}={path!r}: no such file" for name, path in (
        ("TEMPORAL_TLS_CERT", settings.temporal_tls_cert), ("TEMPORAL_TLS_KEY", settings.temporal_tls_key),
        ("TEMPORAL_TLS_CA", settings.temporal_tls_ca)) if path and not Path(path).is_file()]
    if bool(settings.temporal_tls_cert) != bool(settings.temporal_tls_key):
        found.append("TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together (the client certificate and its key)")
    return found


def settings_or_exit(process: Process, **overrides) -> Settings:
    """The settings if this process may start with them; else each problem on stderr and exit 2. Checked once per
    process and environment (groupdesk/cli/gate.py checks before the command does; the accounts' check hashes)."""
    key = (process, tuple(sorted(os.environ.items())))  # the same environment: a warm process may change it
    if not overrides and key in _passed:
        return _passed[key]
    try:
        settings = load_settings(**overrides)
        lines = problems(settings, process)
    except SettingsProblems as exc:
        lines = exc.lines
    if lines:
        refuse(lines)
    if not overrides:
        _passed[key] = settings
    return settings


_passed: dict[tuple, Settings] = {}  # settings that passed, by process and environment


def refuse(lines: list[str]) -> NoReturn:
    for line in lines:
        print(f"error: {line}", file=sys.stderr)
    sys.stderr.flush()
    raise SystemExit(2)
