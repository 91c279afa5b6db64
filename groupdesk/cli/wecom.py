"""`groupdesk wecom check`: whether the WeCom app's settings work, before staff depend on them."""

from __future__ import annotations

import asyncio

import typer

from groupdesk.cli.common import fail, settings

wecom_app = typer.Typer(no_args_is_help=True, help="The WeCom (企业微信) app staff messages go through.")


def register(app: typer.Typer) -> None:
    app.add_typer(wecom_app, name="wecom")


@wecom_app.command("check")
def check() -> None:
    """Fetch the app's access token (shared with every process) and say whether WeCom took the settings."""
    from groupdesk.messaging.wecom.api import WecomApi
    from groupdesk.messaging.wecom.settings import wecom_app as configured
    from groupdesk.messaging.wecom.tokens import TokenUnavailable

    s = settings()
    if s.staff_channel != "wecom":
        fail("GROUPDESK_STAFF_CHANNEL is not wecom: staff messages go by SMS; set it and the GROUPDESK_WECOM_*"
             " settings first")
    api = WecomApi(configured(s), s)
    try:
        asyncio.run(api.tokens.get())
    except TokenUnavailable as exc:
        fail(exc.reason, code=1)
    typer.echo(f"ok: WeCom took the settings of app {api.app.agent_id} of corp {api.app.corp_id}"
               f" ({api.app.api_base}); the access token is shared through groupdesk's database")
