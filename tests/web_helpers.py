"""Signing in to the console from tests, as each kind of user."""

from __future__ import annotations

import contextlib

import httpx

PASSWORD = "groupdesk-demo"


@contextlib.asynccontextmanager
async def signed_in(app, person: str | None):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as web:
        if person:
            response = await web.post("/api/session", json={"person": person, "password": PASSWORD})
            assert response.status_code == 200, response.text
            web.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        yield web
