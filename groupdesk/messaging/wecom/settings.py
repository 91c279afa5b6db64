"""The WeCom app's settings, checked at every start: one line naming each missing or malformed one.

With GROUPDESK_STAFF_CHANNEL=wecom every process (worker, console, every CLI command) refuses to
start without a complete, well-formed app; a line never repeats a secret's value.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# Where each value is found in the WeCom admin console (管理后台), for the fix in each line.
WHERE = {
    "GROUPDESK_WECOM_CORP_ID": "我的企业 → 企业信息 → 企业ID",
    "GROUPDESK_WECOM_AGENT_ID": "应用管理 → your app → AgentId",
    "GROUPDESK_WECOM_SECRET": "应用管理 → your app → Secret",
    "GROUPDESK_WECOM_TOKEN": "your app → 接收消息 → 设置API接收 → Token",
    "GROUPDESK_WECOM_AES_KEY": "your app → 接收消息 → 设置API接收 → EncodingAESKey",
}
_CORP_ID = re.compile(r"[A-Za-z0-9]{6,64}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{16,128}")
_TOKEN = re.compile(r"[A-Za-z0-9]{1,32}")  # WeCom: letters or digits, at most 32
_AES_KEY = re.compile(r"[A-Za-z0-9]{43}")
# A member's userid: 1-64 bytes of letters, digits and _-@. starting with a letter or digit (WeCom's rule).


class WecomSettingsError(ValueError):
    pass


@dataclass(frozen=True)
class WecomApp:
    """One self-built WeCom app (自建应用): who it is, its secrets, and where its API is."""

    corp_id: str
    agent_id: int
    secret: str
    token: str
    aes_key: str
    api_base: str
    oauth_base: str

    @property
    def key(self) -> str:
        """Which app a shared access token belongs to."""
        return f"{self.corp_id}/{self.agent_id}"

    def __repr__(self) -> str:  # never the secrets, wherever the app is printed
        return f"WecomApp(corp_id={self.corp_id!r}, agent_id={self.agent_id}, api_base={self.api_base!r})"


def _base_problem(name: str, value: str) -> str | None:
    """Scheme and host (and port) only; plain http only to this machine (a local fake)."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") or parts.query \
            or parts.fragment or parts.username:
        return (f"{name}={value[:60]!r} is not a scheme and host: give it like https://qyapi.weixin.qq.com"
                " (groupdesk appends /cgi-bin/...)")
    try:
        loopback = parts.hostname == "localhost" or ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme == "http" and not loopback:
        return f"{name}={value[:60]!r} must be https:// (the app's secret and tokens travel to it)"
    return None


def wecom_problems(settings) -> list[str]:
    """What is wrong with the WeCom settings, one line each; nothing when the staff channel is SMS."""
    if settings.staff_channel != "wecom":
        return []
    values = {
        "GROUPDESK_WECOM_CORP_ID": settings.wecom_corp_id.strip(),
        "GROUPDESK_WECOM_AGENT_ID": settings.wecom_agent_id.strip(),
        "GROUPDESK_WECOM_SECRET": settings.wecom_secret.strip(),
        "GROUPDESK_WECOM_TOKEN": settings.wecom_token.strip(),
        "GROUPDESK_WECOM_AES_KEY": settings.wecom_aes_key.strip(),
    }
    found = [f"{name} is not set: GROUPDESK_STAFF_CHANNEL=wecom needs it; copy it from {WHERE[name]}"
             for name, value in values.items() if not value]
    corp, agent, secret, token, aes = values.values()
    if corp and not _CORP_ID.fullmatch(corp):
        found.append(f"GROUPDESK_WECOM_CORP_ID={corp[:40]!r} is not a corp id: letters and digits, like"
                     f" ww0123456789abcdef ({WHERE['GROUPDESK_WECOM_CORP_ID']})")
    if agent and not (agent.isascii() and agent.isdigit() and 0 < int(agent) < 2**31):
        found.append(f"GROUPDESK_WECOM_AGENT_ID={agent[:20]!r} is not an AgentId: a whole number like 1000002"
                     f" ({WHERE['GROUPDESK_WECOM_AGENT_ID']})")
    if secret and not _SECRET.fullmatch(secret):
        found.append(f"GROUPDESK_WECOM_SECRET is malformed ({len(secret)} characters): the app's Secret is"
                     f" letters, digits, '-' and '_' (43 of them); copy it again from {WHERE['GROUPDESK_WECOM_SECRET']}")
    if token and not _TOKEN.fullmatch(token):
        found.append(f"GROUPDESK_WECOM_TOKEN is malformed ({len(token)} characters): WeCom's Token is at most 32"
                     f" letters or digits; copy it from {WHERE['GROUPDESK_WECOM_TOKEN']}")
    if aes and not _aes_key_ok(aes):
        found.append(f"GROUPDESK_WECOM_AES_KEY is malformed ({len(aes)} characters): the EncodingAESKey is exactly"
                     f" 43 letters and digits; copy it from {WHERE['GROUPDESK_WECOM_AES_KEY']}")
    for name, value in (("GROUPDESK_WECOM_API_BASE", settings.wecom_api_base),
                        ("GROUPDESK_WECOM_OAUTH_BASE", settings.wecom_oauth_base)):
        if problem := _base_problem(name, value):
            found.append(problem)
    return found


def _aes_key_ok(value: str) -> bool:
    if not _AES_KEY.fullmatch(value):
        return False
    try:
        return len(base64.b64decode(value + "=", validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


def wecom_app(settings) -> WecomApp:
    """The configured app; WecomSettingsError (every problem, one per line) if it is incomplete."""
    if settings.staff_channel != "wecom":
        raise WecomSettingsError("GROUPDESK_STAFF_CHANNEL is not wecom: no WeCom app is configured")
    if problems := wecom_problems(settings):
        raise WecomSettingsError("\n".join(problems))
    return WecomApp(corp_id=settings.wecom_corp_id.strip(), agent_id=int(settings.wecom_agent_id.strip()),
                    secret=settings.wecom_secret.strip(), token=settings.wecom_token.strip(),
                    aes_key=settings.wecom_aes_key.strip(), api_base=settings.wecom_api_base.strip().rstrip("/"),
                    oauth_base=settings.wecom_oauth_base.strip().rstrip("/"))
