"""A fake of the Twilio Messages API for the real `twilio` client: records every request,
keeps the messages it accepted, and answers with scripted failures when told to."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field

from werkzeug import Request, Response

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token"
FROM_NUMBER = "+15005550006"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def twilio_env(fake: "FakeTwilio") -> dict[str, str]:
    """The Twilio settings of a groupdesk whose SMS go to this fake (add them to helpers.setup_for)."""
    return dict(GROUPDESK_SMS_PROVIDER="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                TWILIO_FROM_NUMBER=FROM_NUMBER, GROUPDESK_TWILIO_API_BASE=fake.base_url,
                GROUPDESK_PUBLIC_URL="https://groupdesk.example.org", GROUPDESK_TWILIO_TIMEOUT="2")


@dataclass
class FakeTwilio:
    server: object
    posts: list[dict] = field(default_factory=list)
    gets: list[dict] = field(default_factory=list)
    accepted: list[dict] = field(default_factory=list)
    # per POST: None (accept), an int status, ("hang", s) or ("hold", a threading.Event: answered once it is set)
    script: list[object] = field(default_factory=list)
    refuse: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # To -> (status, code, message)
    auth_headers: list[str] = field(default_factory=list)
    delay: float = 0.0  # a slow gateway: accept the message, then take this long to answer
    in_flight: dict[str, int] = field(default_factory=dict)  # by From: which sender is mid-request
    hanging: int = 0  # scripted ("hang", s) requests not yet answered (the fake serves one request at a time)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> "FakeTwilio":
        self.server.expect_request(MESSAGES_PATH, method="POST").respond_with_handler(self._create)
        self.server.expect_request(MESSAGES_PATH, method="GET").respond_with_handler(self._list)
        return self

    @property
    def base_url(self) -> str:
        return self.server.url_for("").rstrip("/")

    async def answered(self, timeout: float = 10) -> None:
        """Wait until a hung request has had its (late) answer: until then the fake serves nothing else."""
        deadline = time.monotonic() + timeout
        while self.hanging and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    def _create(self, request: Request) -> Response:
        form = request.form.to_dict()
        self.posts.append(form)
        self.auth_headers.append(request.headers.get("Authorization", ""))
        action = self.script.pop(0) if self.script else None
        if isinstance(action, tuple) and action[0] in ("hang", "hold"):
            self._accept(form)  # accepted, but the answer never arrives in time
            self.hanging += 1
            if action[0] == "hang":
                time.sleep(action[1])
            else:
                action[1].wait(60)
            self.hanging -= 1
            return Response("{}", status=201, content_type="application/json")
        if self.delay and action is None and form.get("To") not in self.refuse:
            sender = form.get("From", "")
            with self._lock:
                self.in_flight[sender] = self.in_flight.get(sender, 0) + 1
            message = self._accept(form)  # Twilio has it; the sender does not know yet
            time.sleep(self.delay)
            with self._lock:
                self.in_flight[sender] -= 1
            return Response(json.dumps(message), status=201, content_type="application/json")
        if form.get("To") in self.refuse:
            status, code, message = self.refuse[form["To"]]
            return _error(status, code, message)
        if isinstance(action, int):
            code = {429: 20429, 503: 0}.get(action, 0)
            return _error(action, code, "scripted failure")
        return Response(json.dumps(self._accept(form)), status=201, content_type="application/json")

    def _accept(self, form: dict) -> dict:
        message = {"sid": "SM" + uuid.uuid4().hex, "account_sid": ACCOUNT_SID, "to": form.get("To"),
                   "from": form.get("From"), "body": form.get("Body"), "status": "queued",
                   "messaging_service_sid": form.get("MessagingServiceSid"),
                   # as Twilio: created now, no date_sent while the message is queued
                   "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()), "date_sent": None}
        self.accepted.append(message)
        return message

    def _list(self, request: Request) -> Response:
        self.gets.append(request.args.to_dict())
        to = request.args.get("To")
        found = [m for m in reversed(self.accepted) if m["to"] == to]  # newest first
        if "DateSent>" in request.args:  # as Twilio: a DateSent filter leaves out what was never sent
            found = [m for m in found if m["date_sent"]]
        return Response(json.dumps({"messages": found, "page": 0, "page_size": 50, "start": 0, "end": len(found),
                                    "uri": MESSAGES_PATH, "first_page_uri": MESSAGES_PATH, "next_page_uri": None,
                                    "previous_page_uri": None}), status=200, content_type="application/json")


def _error(status: int, code: int, message: str) -> Response:
    body = {"code": code or None, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}
    return Response(json.dumps(body), status=status, content_type="application/json")


def basic_auth() -> str:
    return "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
