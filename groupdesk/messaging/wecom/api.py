"""WeCom's server API over HTTP (`gettoken`, `message/send`, `message/update_template_card`,
`auth/getuserinfo`), with the access token shared through groupdesk's database.

A call whose token WeCom calls expired or invalid (42001, 40014) marks that token stale and is
made once more with a fresh one; no call is retried otherwise: what a failure means is for the
caller (channel.py) to decide. The token travels only in the query of requests to WeCom and
is never logged.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from typing import Any

import httpx
import structlog

from groupdesk.messaging.wecom.settings import WHERE, WecomApp
from groupdesk.messaging.wecom.tokens import AccessTokens, Fetched, TokenUnavailable

log = structlog.get_logger("groupdesk.wecom")

STALE_TOKEN = {"42001", "40014"}  # access_token expired / invalid: fetch a new one and call again, once
# gettoken refusals that a setting causes: remembered for a minute, and said loudly with the fix
REFUSED_AT_GETTOKEN = {
    "40001": "WeCom refused GROUPDESK_WECOM_SECRET (40001 at gettoken): it is not this app's Secret; copy it"
             f" again from {WHERE['GROUPDESK_WECOM_SECRET']}",
    "40013": "WeCom does not know GROUPDESK_WECOM_CORP_ID (40013 at gettoken); copy it from"
             f" {WHERE['GROUPDESK_WECOM_CORP_ID']}",
    "60020": "WeCom refused this server's address (60020): add the server's public IP to the app's"
             " 企业可信IP (应用管理 → your app → 企业可信IP)",
}


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context (the CA bundle, read and parsed) for every call of this process: a client that built its
    own cost ~60 ms of CPU, once per message before."""
    return httpx.create_ssl_context()


class WecomUnreachable(Exception):
    """No usable answer. `maybe_sent`: the request may have reached WeCom (a timeout, a lost connection)."""

    def __init__(self, reason: str, maybe_sent: bool):
        super().__init__(reason)
        self.reason, self.maybe_sent = reason, maybe_sent


class WecomApi:
    def __init__(self, app: WecomApp, database, timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None):
        """`database`: groupdesk's database (a Database, settings, a URL or a SQLite path), where the token is shared."""
        self.app, self.timeout, self.transport = app, timeout, transport
        self.tokens = AccessTokens(database, app.key, self._gettoken)

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.app.api_base, timeout=self.timeout, transport=self.transport,
                                 trust_env=False, follow_redirects=False, verify=_tls())

    async def _request(self, method: str, path: str, params: dict[str, str], body: dict | None = None) -> dict:
        try:
            async with self._client() as client:
                response = await client.request(method, path, params=params, json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise WecomUnreachable(f"cannot connect to WeCom ({type(exc).__name__})", maybe_sent=False) from None
        except httpx.TimeoutException as exc:
            raise WecomUnreachable(f"WeCom did not answer in {self.timeout:g} s ({type(exc).__name__})",
                                   maybe_sent=True) from None
        except httpx.HTTPError as exc:
            raise WecomUnreachable(f"connection to WeCom lost ({type(exc).__name__})", maybe_sent=True) from None
        if response.status_code != 200:
            raise WecomUnreachable(f"WeCom answered HTTP {response.status_code}", maybe_sent=response.status_code >= 500)
        try:
            answer = response.json()
        except ValueError:
            raise WecomUnreachable("WeCom's answer is not JSON", maybe_sent=True) from None
        if not isinstance(answer, dict):
            raise WecomUnreachable("WeCom's answer is not a JSON object", maybe_sent=True)
        return answer

    async def _gettoken(self) -> Fetched:
        try:
            answer = await self._request("GET", "/cgi-bin/gettoken",
                                         {"corpid": self.app.corp_id, "corpsecret": self.app.secret})
        except WecomUnreachable as exc:
            raise TokenUnavailable(f"cannot fetch a WeCom access token: {exc.reason}") from None
        code = errcode(answer)
        if code == "0" and answer.get("access_token"):
            log.info("wecom token fetched", app=self.app.key, expires_in=answer.get("expires_in"))
            return Fetched(str(answer["access_token"]), float(answer.get("expires_in") or 7200))
        if code in REFUSED_AT_GETTOKEN:
            log.error("wecom gettoken refused", app=self.app.key, errcode=code, reason=REFUSED_AT_GETTOKEN[code])
            raise TokenUnavailable(REFUSED_AT_GETTOKEN[code], code=code, refused=True)
        raise TokenUnavailable(f"gettoken answered {code}: {str(answer.get('errmsg', ''))[:200]}", code=code)

    async def call(self, method: str, path: str, body: dict | None = None, params: dict | None = None) -> dict:
        """One API call with the shared token (TokenUnavailable, WecomUnreachable); WeCom's answer, errcode and all."""
        token = await self.tokens.get()
        answer = await self._request(method, path, {**(params or {}), "access_token": token}, body)
        if errcode(answer) in STALE_TOKEN:
            log.info("wecom token stale", app=self.app.key, errcode=errcode(answer))
            await asyncio.to_thread(self.tokens.stale, token)
            token = await self.tokens.get()
            answer = await self._request(method, path, {**(params or {}), "access_token": token}, body)
        return answer

    async def send(self, message: dict[str, Any]) -> dict:
        """`message/send` with the app's agentid added."""
        return await self.call("POST", "/cgi-bin/message/send", {**message, "agentid": self.app.agent_id})

    async def update_template_card(self, userid: str, response_code: str, card: dict) -> dict:
        """Replace one member's card with `card`, spending the click's (or the send's) one-time response code."""
        return await self.call("POST", "/cgi-bin/message/update_template_card", {
            "userids": [userid], "agentid": self.app.agent_id, "response_code": response_code,
            "template_card": card})

    async def user_info(self, code: str) -> dict:
        """`auth/getuserinfo`: a member's `userid`, or a non-member's `openid`, for an OAuth code."""
        return await self.call("GET", "/cgi-bin/auth/getuserinfo", params={"code": code})


def errcode(answer: dict) -> str:
    """WeCom's error code as text ("0" for success; an answer without one counts as an unknown error)."""
    value = answer.get("errcode", "missing")
    return str(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else "missing"
