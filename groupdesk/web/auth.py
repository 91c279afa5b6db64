"""Sign-in sessions and CSRF protection for the console and the API."""

from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request

from groupdesk.web.permissions import Viewer, viewer_for


def current_viewer(request: Request) -> Viewer | None:
    person_id = request.session.get("person")
    if not person_id:
        return None
    return viewer_for(request.app.state.console.directory(), person_id)


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
