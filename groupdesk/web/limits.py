"""What the console refuses before any work: bodies over the limit (413, while reading), malformed
requests (422, one line per field) and filter values that cannot enter a visibility query (400)."""

from __future__ import annotations

import re

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from groupdesk.engine.visibility import QueryValueError

MAX_BODY_BYTES = 64 * 1024
TOO_LARGE = (f"request body is over {MAX_BODY_BYTES // 1024} KiB; send less (a summary is at most 500 characters,"
             " a note 2,000)")


WANTED = {"int_type": "a whole number (not text, not true/false)", "bool_type": "true or false (not 1, not text)",
          "string_type": "text", "float_type": "a number (not text, not true/false)", "dict_type": "an object",
          "list_type": "a list", "model_type": "an object", "model_attributes_type": "an object"}


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=413, detail=TOO_LARGE)


class BodyLimit:
    """Refuse a declared Content-Length over the limit unread; count the bytes of any other body as it comes."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES,
                 larger: tuple[tuple[str, int, str], ...] = ()):
        self.app = app
        self.max_bytes = max_bytes
        # (path pattern, limit, the line when over it) for the POSTs that carry a file (evidence uploads)
        self.larger = [(re.compile(pattern), size, line) for pattern, size, line in larger]

    def limit(self, scope: Scope) -> tuple[int, str]:
        if scope.get("method") == "POST":
            for pattern, size, line in self.larger:
                if pattern.match(scope.get("path", "")):
                    return size, line
        return self.max_bytes, TOO_LARGE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes, too_large = self.limit(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
            await JSONResponse({"detail": too_large}, status_code=413)(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge()
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if started:
                raise
            await JSONResponse({"detail": too_large}, status_code=413)(scope, receive, send)


def field_name(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


def describe(error: dict) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "required; give it"
    if kind == "json_invalid":
        return "not valid JSON; send a JSON object"
    if kind in WANTED:
        return f"should be {WANTED[kind]}"
    return str(error.get("msg", "invalid")).removeprefix("Value error, ")


def install(app: FastAPI, larger: tuple[tuple[str, int, str], ...] = ()) -> None:
    """Add the body limit (`larger`: paths whose POST may carry more) and the handlers that turn bad input into one
    line per field."""
    from groupdesk.web.errors import Invalid
    from groupdesk.web.text_input import TextInput

    app.add_middleware(TextInput)  # inside the limit: it reads only bodies the limit let through
    app.add_middleware(BodyLimit, larger=larger)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError):
        lines: dict[str, str] = {}
        for error in exc.errors():
            where = "body" if error.get("type") == "json_invalid" else field_name(tuple(error.get("loc", ())))
            lines.setdefault(where, describe(error))
        return JSONResponse({"detail": "\n".join(f"{f}: {m}" for f, m in lines.items()), "errors": lines},
                            status_code=422)

    @app.exception_handler(Invalid)
    async def invalid(request: Request, exc: Invalid):
        return JSONResponse({"detail": str(exc), "errors": {exc.field: str(exc).split(": ", 1)[-1]}},
                            status_code=exc.status)

    @app.exception_handler(QueryValueError)
    async def bad_filter(request: Request, exc: QueryValueError):
        return JSONResponse({"detail": str(exc)}, status_code=400)
