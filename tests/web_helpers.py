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


class EventStream:
    """GET `path` as `web`'s session, with the body read as the app writes it: httpx's ASGI transport hands a body
    over only when the response ends, so a test waits on a stream's first event here instead of on the clock."""

    def __init__(self, app, web: httpx.AsyncClient, path: str):
        self.chunks: list[bytes] = []
        self.status: int | None = None
        self._first, self._closed, self._asked = asyncio.Event(), asyncio.Event(), False
        headers = [(b"host", b"testserver"), *((k.lower().encode(), v.encode()) for k, v in web.headers.items())]
        cookies = "; ".join(f"{c.name}={c.value}" for c in web.cookies.jar)
        if cookies:
            headers.append((b"cookie", cookies.encode()))
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "https",
                 "path": path, "raw_path": path.encode(), "query_string": b"", "headers": headers, "root_path": "",
                 "server": ("testserver", 443), "client": ("127.0.0.1", 40000)}
        self.task = asyncio.create_task(app(scope, self._receive, self._send))

    async def _receive(self) -> dict:
        if not self._asked:
            self._asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._closed.wait()  # the browser stays until the server ends the stream
        return {"type": "http.disconnect"}

    async def _send(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body" and message.get("body"):
            self.chunks.append(message["body"])
            self._first.set()

    @property
    def text(self) -> str:
        return b"".join(self.chunks).decode()

    async def first(self, timeout: float = 30) -> str:
        """What the stream has sent once its first chunk is out."""
        await asyncio.wait_for(self._first.wait(), timeout)
        return self.text

    async def ended(self, timeout: float = 15) -> str:
        """Everything it sent, once the server ended it (a stream that does not end fails the test)."""
        try:
            await asyncio.wait_for(asyncio.shield(self.task), timeout)
        finally:
            self._closed.set()
        return self.text


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
