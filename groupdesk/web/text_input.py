"""Requests whose text is not text, refused before any handler reads them: bytes that are not UTF-8 in the
path, the query or a form or JSON body (400), and lone surrogates (`"\\ud800"`) in a JSON body (422, naming
the field), which would otherwise fail wherever the text is stored or sent on."""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def undecodable(raw: bytes, *, plus_is_space: bool = False) -> str | None:
    """The first `name=value` piece of a query or form whose percent-decoded bytes are not UTF-8, or None."""
    for part in raw.split(b"&"):
        for piece in part.split(b"=", 1):
            try:
                unquote_to_bytes(piece.replace(b"+", b" ") if plus_is_space else piece).decode("utf-8")
            except UnicodeDecodeError:
                return part.split(b"=", 1)[0][:40].decode("ascii", "replace") or "?"
    return None


def _lone(text: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in text)


def surrogate_at(value, where: str = "") -> str | None:
    """Where in a parsed JSON document a string holds a lone surrogate, as `a.b.0` (a key holding one is
    named by where it sits, never repeated); None if nowhere."""
    if isinstance(value, str):
        return (where or "body") if _lone(value) else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and _lone(key):
            return where or "body"
        if found := surrogate_at(item, f"{where}.{key}" if where else str(key)):
            return found
    return None


def _refuse(field: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"detail": f"{field}: {message}", "errors": {field: message}}, status_code=status)


class TextInput:
    """The middleware: checks the path and query of every request, and buffers and checks a form or JSON body."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._address_problem(scope)
        kind = dict(scope.get("headers") or []).get(b"content-type", b"").split(b";")[0].strip().lower()
        checked = kind in (b"application/json", b"application/x-www-form-urlencoded")
        if refusal is None and checked and scope["method"] in BODY_METHODS:
            body, messages = await _read_all(receive)
            refusal = _body_problem(body, kind)
            receive = _replay(messages, receive)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _address_problem(scope: Scope) -> JSONResponse | None:
        try:
            unquote_to_bytes(scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")) \
                .decode("utf-8")
        except UnicodeDecodeError:
            return _refuse("path", "not UTF-8 text; use the links the console gives", 400)
        if name := undecodable(scope.get("query_string") or b"", plus_is_space=True):
            return _refuse(name, "not UTF-8 text in the query; send UTF-8, percent-encoded", 400)
        return None


def _body_problem(body: bytes, kind: bytes) -> JSONResponse | None:
    if kind == b"application/x-www-form-urlencoded":
        name = undecodable(body, plus_is_space=True)
        return _refuse(name, "not UTF-8 text; send the form as UTF-8", 400) if name else None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _refuse("body", f"not UTF-8 (byte {exc.start}); send UTF-8 JSON", 400)
    try:
        parsed = json.loads(text)
    except RecursionError:
        return _refuse("body", "nested too deeply; send a flat JSON object", 400)
    except ValueError:
        return None  # not JSON: FastAPI answers 422 naming the body
    if field := surrogate_at(parsed):
        return _refuse(field, "contains a lone surrogate, which is not text; send valid UTF-8", 422)
    return None


async def _read_all(receive: Receive) -> tuple[bytes, list[Message]]:
    messages, chunks = [], []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


def _replay(messages: list[Message], then: Receive) -> Receive:
    """The body as it was read, then whatever the client sends next (its disconnect)."""
    pending = list(messages)

    async def receive() -> Message:
        return pending.pop(0) if pending else await then()

    return receive
