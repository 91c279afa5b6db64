"""Who may read the console's operational endpoints (/metrics, /docs, /openapi.json)."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

from groupdesk.web.auth import current_viewer


def bearer(request: Request) -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ").strip()


def token_matches(given: str, expected: str) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def ops_or_token(request: Request) -> None:
    """A signed-in ops person, or a scraper with GROUPDESK_METRICS_TOKEN as its bearer token."""
    if token_matches(bearer(request), request.app.state.services.settings.metrics_token):
        return
    viewer = current_viewer(request)
    if viewer is None:
        raise HTTPException(status_code=401, detail="sign in as ops, or send the metrics bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
    if not viewer.ops:
        raise HTTPException(status_code=403, detail="only the ops team reads metrics and the API schema")
