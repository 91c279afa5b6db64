"""Signing in to the console from tests, as each kind of user."""

from __future__ import annotations

import asyncio
import contextlib
import re

import httpx

from groupdesk.web.labels import EVENTS, PURPOSES
from groupdesk.core.playbook import Playbook
from groupdesk.core.roles import RECIPIENT_IDS
from helpers import TEST_PASSWORD


@contextlib.asynccontextmanager
async def signed_in(app, person: str | None):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as web:
        if person:
            response = await web.post("/api/session", json={"person": person, "password": TEST_PASSWORD})
            assert response.status_code == 200, response.text
            web.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        yield web


def identifier_pattern(playbook: Playbook) -> re.Pattern:
    """What must never show in the Chinese pages: step, outcome, role, hall ids, states, event kinds, purposes."""
    names = {*playbook.steps, *(o for s in playbook.steps.values() for o in s.outcomes), *RECIPIENT_IDS, *EVENTS,
             *PURPOSES, "active", "done", "waiting", "follow_up", "xicheng", "dongcheng", "calibration_at", "open",
             "closed", "parked"}
    return re.compile(r"\b(" + "|".join(map(re.escape, sorted(names, key=len, reverse=True))) + r")\b")


@contextlib.asynccontextmanager
async def serving(settings, client, port: int):
    """The console for `settings` served on 127.0.0.1:`port` for a browser, as `groupdesk dev` serves it (plain
    http on this machine, so its cookies are not https-only); yields its base URL."""
    import uvicorn

    from groupdesk.web.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(settings, client=client, dev=True), host="127.0.0.1", port=port,
                                           log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
