"""A fake of WeCom's server API and OAuth page for groupdesk's real client, and WeCom's callback crypto.

The fake answers `gettoken`, `message/send`, `message/update_template_card`, `auth/getuserinfo` and
the OAuth authorize redirect the way WeCom documents them: it records every request, issues
tokens it can expire, applies `enable_duplicate_check` (the same content to the same member within
the interval is dropped), knows which members exist, and answers with any error code, slowly, when
told to. The callback helpers encrypt and sign a message exactly as WeCom does, written here from
WeCom's published algorithm (not groupdesk's code): AES-256-CBC, key = base64(EncodingAESKey + "="),
IV = the key's first 16 bytes, PKCS#7 padding to 32 bytes, plaintext = 16 random bytes + the
message's length (4 bytes, network order) + the message + the receiver id (the corp id), and
msg_signature = SHA-1 of the sorted [token, timestamp, nonce, ciphertext] joined.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

CORP_ID = "ww0123456789abcdef"
AGENT_ID = "1000002"
SECRET = "Sb7mQw2Zx9Lk4Tr1Vn8Hc3Jd6Fp0Gy5Ue2Ai7Oo4Ws"  # 43 characters, like WeCom's
TOKEN = "gdTestToken2026"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 letters and digits
TASK_ID = re.compile(r"[A-Za-z0-9_\-@]{1,128}")
INVALID_PARAMETER = 40058  # WeCom's "invalid parameter": a bad or reused task_id, a spent response_code


def settings_env(api_base: str, **more: str) -> dict[str, str]:
    """The settings of the fake's app, by variable name (for Settings(**...) or a process's environment)."""
    return {"GROUPDESK_STAFF_CHANNEL": "wecom", "GROUPDESK_WECOM_CORP_ID": CORP_ID,
            "GROUPDESK_WECOM_AGENT_ID": AGENT_ID, "GROUPDESK_WECOM_SECRET": SECRET, "GROUPDESK_WECOM_TOKEN": TOKEN,
            "GROUPDESK_WECOM_AES_KEY": AES_KEY, "GROUPDESK_WECOM_API_BASE": api_base,
            "GROUPDESK_WECOM_OAUTH_BASE": api_base, **more}


# ---- WeCom's callback crypto, as WeCom's documentation gives it ---------------------------------

def _key(aes_key: str = AES_KEY) -> bytes:
    return base64.b64decode(aes_key + "=")


def encrypt(message: str, receiver: str = CORP_ID, aes_key: str = AES_KEY) -> str:
    text = message.encode("utf-8")
    plain = os.urandom(16) + struct.pack(">I", len(text)) + text + receiver.encode("utf-8")
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    key = _key(aes_key)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def sign(encrypted: str, timestamp: str, nonce: str, token: str = TOKEN) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def signed_query(encrypted: str, token: str = TOKEN, timestamp: str | None = None) -> dict[str, str]:
    timestamp = timestamp or str(int(time.time()))
    nonce = uuid.uuid4().hex[:10]
    return {"msg_signature": sign(encrypted, timestamp, nonce, token), "timestamp": timestamp, "nonce": nonce}


def callback_post(xml: str, receiver: str = CORP_ID, aes_key: str = AES_KEY, token: str = TOKEN,
                  to: str = CORP_ID) -> tuple[dict[str, str], bytes]:
    """(query, body) of a POST to the callback URL carrying `xml`, as WeCom sends it."""
    encrypted = encrypt(xml, receiver, aes_key)
    body = (f"<xml><ToUserName><![CDATA[{to}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<AgentID><![CDATA[{AGENT_ID}]]></AgentID></xml>").encode()
    return signed_query(encrypted, token), body


def card_click_xml(userid: str, task_id: str, button: str, response_code: str, selected: dict | None = None,
                   create_time: int | None = None, corp: str = CORP_ID, agent: str = AGENT_ID) -> str:
    """A template_card_event, as WeCom's event push documents it."""
    items = "".join(
        f"<SelectedItem><QuestionKey><![CDATA[{q}]]></QuestionKey><OptionIds>"
        + "".join(f"<OptionId><![CDATA[{o}]]></OptionId>" for o in options) + "</OptionIds></SelectedItem>"
        for q, options in (selected or {}).items())
    return (f"<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[{userid}]]></FromUserName>"
            f"<CreateTime>{create_time or int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[{button}]]></EventKey>"
            f"<TaskId><![CDATA[{task_id}]]></TaskId><CardType><![CDATA[button_interaction]]></CardType>"
            f"<ResponseCode><![CDATA[{response_code}]]></ResponseCode><AgentID>{agent}</AgentID>"
            f"<SelectedItems>{items}</SelectedItems></xml>")


# ---- the API ------------------------------------------------------------------------------------

def _json(data: dict, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status, content_type="application/json")


def _error(code: int, message: str) -> Response:
    return _json({"errcode": code, "errmsg": message})


@dataclass
class FakeWecom:
    server: HTTPServer = None
    members: set[str] = field(default_factory=lambda: {"WangJun", "SunLi", "WuFang", "ZhaoMin", "ZhouJie",
                                                       "FengTao", "ChenYu", "MaNing", "LinYue"})
    requests: list[dict] = field(default_factory=list)  # every request: path, args, body
    tokens: list[str] = field(default_factory=list)  # every token issued, oldest first
    delivered: list[dict] = field(default_factory=list)  # messages members got
    suppressed: list[dict] = field(default_factory=list)  # dropped by the duplicate check
    updates: list[dict] = field(default_factory=list)  # cards updated
    # path tail -> per call: an errcode, ("slow", s) answered after s, ("hang", s) done at once, answered after s,
    # ("http", status) an HTTP error instead of an answer
    script: dict[str, list] = field(default_factory=dict)
    invalid_as: str = "81013"  # an unknown member: errcode 81013, or "listed" (0 with invaliduser)
    delay: float = 0.0  # every send: delivered at once, answered this much later
    expires_in: int = 7200
    signing_in: dict = field(default_factory=dict)  # who the next OAuth authorize is for: {"userid": ...} or openid
    _valid: dict[str, float] = field(default_factory=dict)  # token -> expiry (monotonic)
    _codes: dict[str, dict] = field(default_factory=dict)  # OAuth code -> identity, spent on use
    _response_codes: set[str] = field(default_factory=set)  # unused card response codes
    _task_ids: dict[str, str] = field(default_factory=dict)  # task_id -> content
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def start(self) -> "FakeWecom":
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.server.expect_request(re.compile(".*")).respond_with_handler(self._handle)
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.clear()
        if self.server.is_running():
            self.server.stop()

    @property
    def base_url(self) -> str:
        return self.server.url_for("").rstrip("/")

    # ---- what tests do --------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (42001 expired) before its time."""
        with self._lock:
            self._valid = {token: 0.0 for token in self._valid}

    def fail_next(self, path: str, *actions) -> None:
        """The next calls to `path` (e.g. "message/send") answer these errcodes (or ("slow"|"hang", seconds))."""
        with self._lock:
            self.script.setdefault(path, []).extend(actions)

    def click_code(self) -> str:
        """A ResponseCode as WeCom puts in a click's callback: spendable once on update_template_card."""
        code = "rc-" + uuid.uuid4().hex
        with self._lock:
            self._response_codes.add(code)
        return code

    def calls(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"].endswith(path)]

    # ---- the server -----------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        body = request.get_data(as_text=True)
        entry = {"path": request.path, "args": request.args.to_dict(), "body": json.loads(body) if body else None,
                 "at": time.time()}
        with self._lock:
            self.requests.append(entry)
            queue = self.script.get(request.path.removeprefix("/cgi-bin/"))
            action = queue.pop(0) if queue else None
        hang = 0.0
        if isinstance(action, tuple) and action[0] == "slow":
            time.sleep(action[1])
            action = None
        elif isinstance(action, tuple) and action[0] == "hang":  # handled (delivered) now, answered too late
            hang, action = action[1], None
        elif isinstance(action, tuple) and action[0] == "http":  # a gateway in front of WeCom fails
            return Response("bad gateway", status=action[1])
        routes = {"/cgi-bin/gettoken": self._gettoken, "/cgi-bin/message/send": self._send,
                  "/cgi-bin/message/update_template_card": self._update, "/cgi-bin/auth/getuserinfo": self._user,
                  "/connect/oauth2/authorize": self._authorize}
        handler = routes.get(request.path)
        if handler is None:
            return Response("not found", status=404)
        if request.path.startswith("/cgi-bin/") and request.path != "/cgi-bin/gettoken":
            refused = self._token_problem(request.args.get("access_token", ""))
            if refused:
                return refused
        if isinstance(action, int):
            return _error(action, "scripted failure")
        answer = handler(request, entry)
        time.sleep(hang)
        return answer

    def _token_problem(self, token: str) -> Response | None:
        with self._lock:
            expiry = self._valid.get(token)
        if expiry is None:
            return _error(40014, "invalid access_token")
        if expiry <= time.monotonic():
            return _error(42001, "access_token expired")
        return None

    def _gettoken(self, request: Request, entry: dict) -> Response:
        if request.args.get("corpid") != CORP_ID:
            return _error(40013, "invalid corpid")
        if request.args.get("corpsecret") != SECRET:
            return _error(40001, "invalid credential")
        token = "tok-" + uuid.uuid4().hex
        with self._lock:
            self.tokens.append(token)
            self._valid[token] = time.monotonic() + self.expires_in
        return _json({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.expires_in})

    def _send(self, request: Request, entry: dict) -> Response:
        message = entry["body"] or {}
        if str(message.get("agentid")) != AGENT_ID or message.get("msgtype") not in ("text", "template_card"):
            return _error(40008, "invalid message type or agentid")
        kind = message["msgtype"]
        content = message.get(kind)
        if kind == "text" and not (content or {}).get("content"):
            return _error(44004, "empty content")
        user = message.get("touser", "")
        if user not in self.members:
            if self.invalid_as == "listed":
                return _json({"errcode": 0, "errmsg": "ok", "invaliduser": user, "msgid": ""})
            return _json({"errcode": 81013, "errmsg": "user & party & tag all invalid", "invaliduser": user})
        fingerprint = json.dumps([user, kind, content], sort_keys=True, ensure_ascii=False)
        with self._lock:
            window = int(message.get("duplicate_check_interval") or 1800)
            twin = next((m for m in self.delivered if message.get("enable_duplicate_check")
                         and m["fingerprint"] == fingerprint and time.time() - m["at"] < window), None)
            if twin:
                self.suppressed.append({**message, "at": time.time()})
                return _json({"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": twin["msgid"]})
            answer = {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": "msg-" + uuid.uuid4().hex}
            if kind == "template_card":
                task_id = str(content.get("task_id", ""))
                if not TASK_ID.fullmatch(task_id):
                    return _error(INVALID_PARAMETER, "invalid task_id")
                if task_id in self._task_ids:
                    return _error(INVALID_PARAMETER, "task_id already used")
                self._task_ids[task_id] = fingerprint
                answer["response_code"] = "rc-" + uuid.uuid4().hex
                self._response_codes.add(answer["response_code"])
            self.delivered.append({**message, "fingerprint": fingerprint, "msgid": answer["msgid"], "at": time.time(),
                                   "response_code": answer.get("response_code", "")})
        if self.delay:
            time.sleep(self.delay)  # delivered; the sender learns it only now
        return _json(answer)

    def _update(self, request: Request, entry: dict) -> Response:
        body = entry["body"] or {}
        with self._lock:
            code = body.get("response_code", "")
            if code not in self._response_codes:
                return _error(INVALID_PARAMETER, "response_code invalid or used")
            self._response_codes.discard(code)
            self.updates.append(body)
        return _json({"errcode": 0, "errmsg": "ok", "invaliduser": []})

    def _user(self, request: Request, entry: dict) -> Response:
        with self._lock:
            identity = self._codes.pop(request.args.get("code", ""), None)
        if identity is None:
            return _error(40029, "invalid code")
        return _json({"errcode": 0, "errmsg": "ok", **identity})

    def _authorize(self, request: Request, entry: dict) -> Response:
        args = request.args
        if args.get("appid") != CORP_ID or args.get("scope") != "snsapi_base" or args.get("response_type") != "code" \
                or not args.get("redirect_uri"):
            return Response("bad authorize request", status=400)
        code = "code-" + uuid.uuid4().hex
        with self._lock:
            self._codes[code] = dict(self.signing_in or {"openid": "o-" + uuid.uuid4().hex[:12]})
        target = args["redirect_uri"] + ("&" if "?" in args["redirect_uri"] else "?") + \
            urlencode({"code": code, "state": args.get("state", "")})
        return Response(status=302, headers={"Location": target})
