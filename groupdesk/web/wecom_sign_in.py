"""Sign-in with WeCom (企业微信): inside WeCom no password is typed.

`GET /auth/wecom` sends the browser to WeCom's OAuth page (scope snsapi_base) with a random
`state` kept in this browser's session: the callback must bring the same one back, once, within
10 minutes, or nothing happens (a login CSRF cannot sign someone into another's account).
`GET /auth/wecom/callback?code=&state=` exchanges the code through `auth/getuserinfo`: a member's
userid is mapped to the staff id by the staff directory; a non-member (an `openid`) is refused.
The password sign-in's throttle applies (failures per address, and per account once known) and
the same server-side session starts. Mounted only with GROUPDESK_STAFF_CHANNEL=wecom.
"""

from __future__ import annotations

import hmac
import secrets
import time
from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from groupdesk.web.auth import client_address, sign_ins, sign_out

router = APIRouter(include_in_schema=False)
log = structlog.get_logger("groupdesk.web.wecom_sign_in")

STATE_LIFETIME = 600.0  # seconds between leaving for WeCom and coming back
MAX_CODE = 512


def safe_next(target: str) -> str:
    """Only a path on this site (never another site through //host or a backslash)."""
    if not target or len(target) > 300 or not target.startswith("/") or target.startswith("//") \
            or "\\" in target or not target.isprintable():
        return "/"
    return target


def _refused(request: Request, status: int, words: str, headers: dict | None = None):
    from groupdesk.web.pages import page

    response = page(request, "login.html", None, status=status, error=words)
    response.headers.update(headers or {})
    return response


@router.get("/auth/wecom")
async def to_wecom(request: Request, next: str = "/") -> RedirectResponse:
    from groupdesk.web.wecom import side

    app = side(request).app
    settings = request.app.state.services.settings
    state = secrets.token_urlsafe(24)
    request.session.update(wecom_state=state, wecom_state_at=time.time(), wecom_next=safe_next(next))
    back = (settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")) + "/auth/wecom/callback"
    query = urlencode({"appid": app.corp_id, "redirect_uri": back, "response_type": "code", "scope": "snsapi_base",
                       "state": state, "agentid": app.agent_id})
    return RedirectResponse(f"{app.oauth_base}/connect/oauth2/authorize?{query}#wechat_redirect", status_code=302)


@router.get("/auth/wecom/callback")
async def from_wecom(request: Request, code: str = "", state: str = ""):
    from groupdesk.people.directory import current_directory
    from groupdesk.messaging.wecom.api import WecomUnreachable, errcode
    from groupdesk.messaging.wecom.tokens import TokenUnavailable
    from groupdesk.web.wecom import side

    expected = request.session.pop("wecom_state", None)
    started = float(request.session.pop("wecom_state_at", 0) or 0)
    target = safe_next(str(request.session.pop("wecom_next", "/")))
    if not expected or not hmac.compare_digest(str(expected), state[:200]) or time.time() - started > STATE_LIFETIME:
        log.warning("wecom sign-in without a matching state")
        return _refused(request, 400, "企业微信登录已过期或不是从本页发起,请重新进入 / the WeCom sign-in expired or was not"
                                      " started here; start again")
    if not code or len(code) > MAX_CODE or not code.isprintable():
        return _refused(request, 400, "企业微信未给出登录凭证 / WeCom gave no sign-in code; start again")
    signed, address = sign_ins(request), client_address(request)
    if wait := signed.throttle.retry_after("wecom:?", address):  # the address's count: no account known yet
        return _refused(request, 429, f"请稍后再试 / too many failed sign-ins; try again in {wait} s",
                        {"Retry-After": str(wait)})
    try:
        answer = await side(request).channel.api.user_info(code)
    except (TokenUnavailable, WecomUnreachable) as exc:
        log.warning("wecom sign-in: WeCom not reachable", reason=getattr(exc, "reason", str(exc))[:200])
        return _refused(request, 503, "暂时无法连接企业微信,请用工号和密码登录 / WeCom cannot be reached now; sign in"
                                      " with your staff id and password", {"Retry-After": "30"})
    userid = str(answer.get("userid") or answer.get("UserId") or "")
    if errcode(answer) != "0" or not userid:
        kind = "openid" if answer.get("openid") or answer.get("OpenId") else f"code-{errcode(answer)}"
        signed.throttle.failed(f"wecom:{kind}", address)
        log.info("wecom sign-in refused", why=kind)
        if kind == "openid":
            return _refused(request, 403, "仅限本企业成员使用企业微信登录 / only members of this organisation may sign in"
                                          " with WeCom")
        return _refused(request, 401, "企业微信登录凭证无效或已使用 / the WeCom sign-in code is not valid; start again")
    person = current_directory(request.app.state.services.settings.directory).by_wecom_userid(userid)
    if person is None:
        signed.throttle.failed(f"wecom:{userid[:64]}", address)
        log.info("wecom sign-in by a member not in the staff directory")
        return _refused(request, 403, "您的企业微信账号不在员工名录中,请联系管理员 / your WeCom account is not in the"
                                      " staff directory; ask an administrator")
    if wait := signed.throttle.retry_after(person.id, address):
        return _refused(request, 429, f"请稍后再试 / too many failed sign-ins; try again in {wait} s",
                        {"Retry-After": str(wait)})
    signed.throttle.succeeded(person.id)
    lang = request.session.get("lang")
    sign_out(request)  # a fresh session id and CSRF token: no session fixation
    request.session["sid"] = signed.sessions.create(person.id, signed.stamp(person.id) or "")
    if lang:
        request.session["lang"] = lang
    log.info("signed in with wecom", person=person.id)
    return RedirectResponse(target, status_code=303)
