"""groupdesk's ASGI app: the Twilio webhooks now, the console later."""

from __future__ import annotations

from fastapi import FastAPI
from temporalio.client import Client

from groupdesk.config import Settings
from groupdesk.web.twilio_webhooks import router as twilio_router


class Services:
    """What request handlers share: settings and one lazily connected Temporal client."""

    def __init__(self, settings: Settings, client: Client | None = None):
        self.settings = settings
        self._client = client

    async def client(self) -> Client:
        if self._client is None:
            from groupdesk.client import connect

            self._client = await connect(self.settings)
        return self._client


def create_app(settings: Settings | None = None, client: Client | None = None) -> FastAPI:
    app = FastAPI(title="groupdesk", version="0.1.0")
    app.state.services = Services(settings or Settings(), client)
    app.include_router(twilio_router)

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    return app
