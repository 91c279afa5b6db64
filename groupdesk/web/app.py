"""groupdesk's ASGI app: the console, its JSON API, the Twilio webhooks and the codec endpoint."""

from __future__ import annotations

from pathlib import Path

import structlog
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from groupdesk.engine.client import IncidentUnavailable
from groupdesk.runtime.config import Settings
from groupdesk.runtime.datafiles import private_dir
from groupdesk.web.api import router as api_router
from groupdesk.web.auth import SignIns
from groupdesk.web.codec_server import router as codec_router
from groupdesk.web.limits import install as install_limits
from groupdesk.web import board_page
from groupdesk.web.pages import SignInRequired, router as pages_router
from groupdesk.web.operations import ops_or_token
from groupdesk.web.permissions import Forbidden
from groupdesk.web.errors import Rejected
from groupdesk.web.service import Console
from groupdesk.web.twilio_webhooks import router as twilio_router

log = structlog.get_logger("groupdesk.web")


class Services:
    """What request handlers share: settings and one lazily connected Temporal client."""

    def __init__(self, settings: Settings, client: Client | None = None):
        self.settings = settings
        self._client = client

    async def client(self) -> Client:
        if self._client is None:
            from groupdesk.engine.client import connect

            self._client = await connect(self.settings)
        return self._client

    def channels(self):
        """The SMS providers in use (built once, when a reply is first answered through one)."""
        if getattr(self, "_channels", None) is None:
            from groupdesk.messaging.channels import make_channels

            self._channels = make_channels(self.settings)
        return self._channels

    async def gateway(self):
        """The one door to running incidents, over this app's client."""
        from groupdesk.incidents.gateway import Gateway

        return Gateway(await self.client(), self.settings)


def create_app(settings: Settings | None = None, client: Client | None = None, *, dev: bool = False) -> FastAPI:
    """The console. `dev` (only `groupdesk dev` and tests pass it, in code: no setting turns it on) adds the
    phone simulator, open API docs, cookies over plain http and the example accounts when none are set."""
    settings = settings or Settings()
    private_dir(settings.data_dir)
    # Outside `groupdesk dev` the API's schema and docs are for ops only (see operations.py).
    open_docs = {} if dev else {"docs_url": None, "openapi_url": None, "redoc_url": None}
    app = FastAPI(title="groupdesk", version="0.1.0", **open_docs)
    app.state.dev = dev
    app.state.services = Services(settings, client)
    app.state.console = Console(settings, app.state.services.client)
    app.state.sign_ins = SignIns(settings, app.state.console.directory, dev=dev)
    # The cookie holds a server-side session id (auth.py); in production it travels over https only.
    app.add_middleware(SessionMiddleware, secret_key=settings.session_secret(), session_cookie="groupdesk",
                       same_site="lax", https_only=not dev, max_age=12 * 3600)
    app.include_router(twilio_router)
    from groupdesk.web import aliyun_webhooks, tencent_webhooks

    app.include_router(aliyun_webhooks.router)  # Aliyun's and Tencent Cloud's pushes, behind a path token
    app.include_router(tencent_webhooks.router)
    app.include_router(api_router)
    app.include_router(pages_router)
    app.include_router(board_page.router)
    from groupdesk.web import promises

    app.include_router(promises.api)
    app.include_router(promises.pages)
    from groupdesk.web.reports_page import router as reports_router

    app.include_router(reports_router)
    from groupdesk.web import attachments

    app.include_router(attachments.api)
    app.include_router(attachments.pages)
    from groupdesk.web import correctives

    app.include_router(correctives.api)
    from groupdesk.web import tell

    app.include_router(tell.api)
    app.include_router(tell.pages)
    from groupdesk.web import amend

    app.include_router(amend.api)
    app.include_router(amend.pages)
    from groupdesk.web import finding

    app.include_router(finding.api)
    app.include_router(finding.pages)
    from groupdesk.web import status_page

    app.include_router(status_page.router)  # the complainant's status page: no sign-in
    app.include_router(codec_router)
    if settings.staff_channel == "wecom":  # WeCom's callback URL and sign-in with WeCom
        from groupdesk.web import wecom, wecom_sign_in

        app.include_router(wecom.router)
        app.include_router(wecom_sign_in.router)
    if dev:  # the phone simulator can reply as the director: never outside `groupdesk dev`
        from groupdesk.web.phone import router as phone_router

        app.include_router(phone_router)
    from fastapi.middleware.cors import CORSMiddleware

    app.add_middleware(CORSMiddleware, allow_origins=[o.strip() for o in settings.codec_cors_origins.split(",") if o],
                       allow_credentials=True, allow_methods=["POST", "OPTIONS"],
                       allow_headers=["Content-Type", "Authorization", "X-Namespace"])
    # outermost: a body over the limit is refused before anything reads it (an evidence upload's limit is the file's)
    install_limits(app, larger=((attachments.UPLOAD_PATH, attachments.UPLOAD_LIMIT, attachments.TOO_LARGE),
                                (status_page.INFO_PATH, status_page.INFO_LIMIT, status_page.TOO_LARGE)))
    from groupdesk.web import openapi_links

    openapi_links.install(app)  # from a started incident to every operation on it
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith(("/api", "/twilio", "/aliyun", "/tencent", "/events", "/codec"))

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, exc: SignInRequired):
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden):
        if wants_json(request):
            return JSONResponse({"detail": f"forbidden: {exc}"}, status_code=403)
        return HTMLResponse(f"<!doctype html><meta charset=utf-8><link rel=stylesheet href=/static/style.css>"
                            f"<main><h1>403</h1><p>无权操作 / not allowed: {exc}</p><p><a href='/'>←</a></p></main>",
                            status_code=403)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if exc.status_code == 401 and request.url.path == "/docs":
            return RedirectResponse("/login", status_code=303)
        if exc.status_code == 403 and not wants_json(request):
            return HTMLResponse(f"<!doctype html><meta charset=utf-8><main><h1>403</h1><p>{exc.detail}</p></main>",
                                status_code=403)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Rejected)
    async def rejected(request: Request, exc: Rejected):
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(RPCError)
    async def temporal_error(request: Request, exc: RPCError):
        if exc.status == RPCStatusCode.NOT_FOUND:
            return JSONResponse({"detail": "no such incident"}, status_code=404)
        return JSONResponse({"detail": f"Temporal: {exc.message}"}, status_code=502)

    @app.exception_handler(IncidentUnavailable)
    async def unavailable(request: Request, exc: IncidentUnavailable):
        return JSONResponse({"detail": str(exc)}, status_code=410)

    @app.get("/healthz")
    async def healthz():
        """ok or not ok, nothing more: the reason goes to the log, not to whoever asks."""
        try:
            client = await app.state.services.client()
            await client.service_client.check_health()
        except Exception as exc:  # noqa: BLE001 - any failure means: not ready
            log.warning("health check failed", error=str(exc)[:200])
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return {"status": "ok"}

    @app.get("/metrics", include_in_schema=False, dependencies=[Depends(ops_or_token)])
    async def metrics():
        from groupdesk.web.metrics import render_metrics

        return await render_metrics(app.state.console)

    if not dev:
        @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(ops_or_token)])
        async def openapi():
            return JSONResponse(app.openapi())

        @app.get("/docs", include_in_schema=False, dependencies=[Depends(ops_or_token)])
        async def docs():
            return get_swagger_ui_html(openapi_url="/openapi.json", title="groupdesk API")

    return app
