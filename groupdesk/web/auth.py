"""Sign-in (throttled, with bounded argon2 work), server-side sessions and CSRF protection."""

from __future__ import annotations

import asyncio
import hmac
import secrets
from pathlib import Path

from fastapi import HTTPException, Request

import structlog

from groupdesk.people.accounts import check_password, is_example_password, load_accounts
from groupdesk.web.permissions import Viewer, viewer_for
from groupdesk.web.proxies import client_address as forwarded_for_client
from groupdesk.web.sessions import SessionStore, account_stamp, wecom_stamp
from groupdesk.web.throttle import SignInThrottle

MAX_HASHES = 2  # argon2id takes 64 MiB a hash: at most this many at once
SLOT_WAIT = 3.0  # seconds a sign-in waits for a free slot before 503
MAX_PASSWORD = 1024
log = structlog.get_logger("groupdesk.web.sign_in")


class SignIns:
    """The console's sign-in state: the throttle, the sessions, the accounts file and the hashing slots."""

    def __init__(self, settings, directory, dev: bool = False):
        self.settings, self._directory, self.dev = settings, directory, dev
        self._path = settings.accounts_file(dev)
        self.proxies = settings.proxies()  # GROUPDESK_TRUSTED_PROXIES: whose X-Forwarded-For counts
        self.throttle = SignInThrottle(settings)
        self.sessions = SessionStore(settings)
        self._slots: asyncio.Semaphore | None = None
        self._accounts: tuple[tuple[int, int], dict[str, str]] | None = None

    def accounts(self) -> dict[str, str]:
        """GROUPDESK_ACCOUNTS, read again whenever the file changes (a new password takes effect at once).

        None set (only an in-process production app; `groupdesk console` refuses to start so): nobody. A file
        that stops parsing keeps the accounts it last held, and the log says why."""
        if self._path is None:
            return {}
        path = Path(self._path)
        try:
            info = path.stat()
            version = (info.st_mtime_ns, info.st_size)
            if self._accounts is None or self._accounts[0] != version:
                self._accounts = (version, load_accounts(path))
        except (OSError, ValueError) as exc:
            log.warning("accounts file unreadable; keeping the accounts read before", error=str(exc)[:200])
            if self._accounts is None:
                self._accounts = ((0, 0), {})
        return self._accounts[1]

    def stamp(self, person: str) -> str | None:
        stored = self.accounts().get(person)
        if stored:
            return account_stamp(stored)
        return self._wecom_stamp(person)

    def _wecom_stamp(self, person: str) -> str | None:
        """Someone without a password, signed in through WeCom: their session lasts while the directory gives them
        the same wecom_userid (and the staff channel is WeCom)."""
        if self.settings.staff_channel != "wecom":
            return None
        from groupdesk.people.directory import current_directory

        found = current_directory(self.settings.directory).person(person)
        return wecom_stamp(found.wecom_userid) if found and found.wecom_userid else None

    async def verify(self, person: str, password: str, address: str) -> bool:
        """True for the right password of a person in the directory; 429 when throttled, 503 when saturated."""
        wait = self.throttle.retry_after(person, address)
        if wait:
            raise HTTPException(status_code=429, headers={"Retry-After": str(wait)},
                                detail=f"too many failed sign-ins; try again in {_minutes(wait)}")
        if self._slots is None:
            self._slots = asyncio.Semaphore(MAX_HASHES)
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout=SLOT_WAIT)
        except asyncio.TimeoutError:
            raise HTTPException(status_code=503, headers={"Retry-After": "2"},
                                detail="too many sign-ins at once; try again in a few seconds") from None
        try:
            # An unknown account costs one hash too (check_password), so timing does not tell who exists.
            ok = await asyncio.to_thread(check_password, self.accounts(), person, password[:MAX_PASSWORD])
        finally:
            self._slots.release()
        ok = ok and len(password) <= MAX_PASSWORD and self._directory().person(person) is not None
        # a shipped example password (the README prints it) opens nothing outside `groupdesk dev`
        ok = ok and (self.dev or not is_example_password(password))
        if ok:
            self.throttle.succeeded(person)
        else:
            self.throttle.failed(person, address)
        return ok


def _minutes(seconds: int) -> str:
    return f"{seconds} s" if seconds < 120 else f"{(seconds + 59) // 60} min"


def sign_ins(request: Request) -> SignIns:
    return request.app.state.sign_ins


def client_address(request: Request) -> str:
    """The address the sign-in throttle counts: the peer, or behind a trusted proxy whom it forwarded for."""
    return forwarded_for_client(request, sign_ins(request).proxies)


async def sign_in(request: Request, person: str, password: str) -> bool:
    """Check the password (throttled) and, if right, start a new server-side session for the cookie."""
    if not await sign_ins(request).verify(person, password, client_address(request)):
        return False
    lang = request.session.get("lang")
    sign_out(request)  # a fresh session id and CSRF token: no session fixation
    request.session["sid"] = sign_ins(request).sessions.create(person, sign_ins(request).stamp(person) or "")
    if lang:
        request.session["lang"] = lang
    return True


def sign_out(request: Request) -> None:
    """End the session on the server too: the old cookie, wherever it is copied, opens nothing."""
    sign_ins(request).sessions.end(request.session.get("sid", ""))
    request.session.clear()
    request.state.viewer = _UNKNOWN


_UNKNOWN = object()


def current_viewer(request: Request) -> Viewer | None:
    known = getattr(request.state, "viewer", _UNKNOWN)
    if known is not _UNKNOWN:
        return known
    signed = sign_ins(request)
    person = signed.sessions.person(request.session.get("sid", ""), signed.stamp)
    viewer = viewer_for(request.app.state.console.directory(), person) if person else None
    request.state.viewer = viewer
    return viewer


def session_live(request: Request) -> bool:
    """Asked again, not cached: a long stream stops when its session ends (sign-out, a new password)."""
    signed = sign_ins(request)
    return signed.sessions.person(request.session.get("sid", ""), signed.stamp) is not None


def require_viewer(request: Request) -> Viewer:
    viewer = current_viewer(request)
    if viewer is None:
        raise HTTPException(status_code=401, detail="sign in first")
    return viewer


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return token


async def check_csrf(request: Request) -> None:
    """Every change carries the session's token: a form field, or the X-CSRF-Token header."""
    expected = request.session.get("csrf", "")
    given = request.headers.get("X-CSRF-Token", "")
    if not given and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        given = str((await request.form()).get("csrf_token", ""))
    if not expected or not hmac.compare_digest(expected, given):
        raise HTTPException(status_code=403, detail="missing or wrong CSRF token; reload the page")
