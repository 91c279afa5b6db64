"""Sign-in with WeCom under the password sign-in's rules: the throttle, the session, and its end.

Failed WeCom sign-ins count against the client's address like wrong passwords (20 in 15 minutes,
then 429, before WeCom is even asked); an account locked by wrong passwords is locked for WeCom too;
a session of someone without a password lasts while the directory gives them the same userid.
"""

from __future__ import annotations

import httpx
import pytest

from fake_wecom import FakeWecom, settings_env
from groupdesk.runtime.config import EXAMPLE_DIRECTORY
from helpers import accounts_file, setup_for
from groupdesk.web.app import create_app

pytestmark = pytest.mark.server  # the server tier: a fake WeCom HTTP API on its own thread


@pytest.fixture
def fake():
    server = FakeWecom().start()
    yield server
    server.stop()


def make(fake, tmp_path, **more):
    directory = tmp_path / "directory.yaml"
    directory.write_text(EXAMPLE_DIRECTORY.read_text(encoding="utf-8"), encoding="utf-8")
    accounts = accounts_file(directory, without=("wang.jun",))  # the director has no password
    settings = setup_for(tmp_path / "data", GROUPDESK_DIRECTORY=directory, GROUPDESK_ACCOUNTS=accounts,
                         GROUPDESK_PUBLIC_URL="http://testserver", **settings_env(fake.base_url), **more).settings
    return create_app(settings, dev=True), directory


async def through_wecom(web: httpx.AsyncClient, fake: FakeWecom, who: dict) -> httpx.Response:
    """Tap 企业微信登录: to WeCom's page and back, as the browser follows the redirects."""
    fake.signing_in = who
    to_wecom = (await web.get("/auth/wecom")).headers["location"].split("#")[0]
    async with httpx.AsyncClient() as outside:
        back = (await outside.get(to_wecom)).headers["location"]
    return await web.get(back.removeprefix("http://testserver"))


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_failed_wecom_sign_ins_lock_the_address_before_wecom_is_asked(fake, tmp_path):
    app, _ = make(fake, tmp_path)
    async with client(app) as web:
        for _ in range(20):
            refused = await through_wecom(web, fake, {"openid": "o-stranger"})
            assert refused.status_code == 403 and "仅限本企业成员" in refused.text
        asked = len(fake.calls("auth/getuserinfo"))
        locked = await through_wecom(web, fake, {"userid": "WangJun"})
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
        assert len(fake.calls("auth/getuserinfo")) == asked, "a locked address still reached WeCom"


async def test_an_account_locked_by_wrong_passwords_is_locked_for_wecom_too(fake, tmp_path):
    app, _ = make(fake, tmp_path)
    async with client(app) as web:
        form = await web.get("/login")
        token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        for _ in range(5):
            wrong = await web.post("/login", data={"person": "sun.li", "password": "wrong", "csrf_token": token})
            assert wrong.status_code == 401
        locked = await through_wecom(web, fake, {"userid": "SunLi"})
        assert locked.status_code == 429


async def test_a_wecom_session_without_a_password_lasts_while_the_userid_does(fake, tmp_path):
    app, directory = make(fake, tmp_path)
    async with client(app) as web:
        signed = await through_wecom(web, fake, {"userid": "wangjun"})  # WeCom ignores a userid's case
        assert signed.status_code == 303 and signed.headers["location"] == "/"
        session = await web.get("/api/me")
        assert session.status_code == 200 and session.json()["id"] == "wang.jun"
        spent = await web.get("/auth/wecom/callback", params={"code": "code-x", "state": "whatever"})
        assert spent.status_code == 400  # the state was used once
        assert (await web.get("/api/me")).status_code == 200, "a bad callback ended a good session"
        directory.write_text(directory.read_text(encoding="utf-8").replace("wecom_userid: WangJun",
                                                                          "wecom_userid: WangJun2"), encoding="utf-8")
        assert (await web.get("/api/me")).status_code == 401, "the old WeCom account still signs in"


async def test_a_missing_or_unknown_code_is_refused(fake, tmp_path):
    app, _ = make(fake, tmp_path)
    async with client(app) as web:
        to_wecom = (await web.get("/auth/wecom")).headers["location"].split("#")[0]
        state = httpx.URL(to_wecom).params["state"]
        empty = await web.get("/auth/wecom/callback", params={"code": "", "state": state})
        assert empty.status_code == 400 and "未给出登录凭证" in empty.text
        to_wecom = (await web.get("/auth/wecom")).headers["location"].split("#")[0]
        state = httpx.URL(to_wecom).params["state"]
        forged = await web.get("/auth/wecom/callback", params={"code": "code-not-issued", "state": state})
        assert forged.status_code == 401 and "登录凭证无效" in forged.text
        assert (await web.get("/api/me")).status_code == 401
