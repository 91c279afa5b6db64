"""A fake of Tencent Cloud's SMS API (2021-01-11) for the real `tencentcloud-sdk-python-sms` client: JSON
posted to `/`, the action in X-TC-Action. It records every request, keeps what it accepted, serves the
template list, and answers with scripted errors, slowly, or by dropping the connection after accepting.
Answers are `application/json` exactly: only then does the SDK raise Response.Error."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from werkzeug import Request, Response

from fake_aliyun import _drop

BEIJING = timezone(timedelta(hours=8))
SECRET_ID, SECRET_KEY, APP_ID, SIGN_NAME = "AKID-test-secret-id", "test-secret-key", "1400006666", "西城供电"


@dataclass
class FakeTencent:
    server: object
    requests: list[dict] = field(default_factory=list)
    accepted: list[dict] = field(default_factory=list)
    # per SendSms: None (accept), ("code", CODE, MESSAGE) in SendStatusSet, ("error", CODE, MESSAGE) as
    # Response.Error, ("http", STATUS), ("drop",), ("hang", SECONDS)
    script: list[object] = field(default_factory=list)
    refuse: dict[str, tuple[str, str]] = field(default_factory=dict)  # +86... -> (Code, Message)
    delay: float = 0.0
    templates: list[dict] = field(default_factory=list)  # {id, content, status (0 approved, 1 reviewing, -1)}
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> "FakeTencent":
        self.server.expect_request("/", method="POST").respond_with_handler(self._handle)
        return self

    @property
    def base_url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def sends(self) -> list[dict]:
        return [r for r in self.requests if r["action"] == "SendSms"]

    def approve(self, texts: list[str]) -> None:
        for text in texts:
            found = next((t for t in self.templates if t["content"] == text), None)
            if found is None:
                self.templates.append(found := {"id": str(len(self.templates) + 200001), "content": text})
            found["status"] = 0

    def reports(self, success: bool = True, only: list[dict] | None = None) -> list[dict]:
        """A status-report push for the messages it accepted, as Tencent posts it."""
        now = datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        return [{"user_receive_time": now, "nationcode": "86", "mobile": m["phone"].removeprefix("+86"),
                 "report_status": "SUCCESS" if success else "FAIL", "errmsg": "DELIVRD" if success else "MK:0005",
                 "description": "用户短信送达成功" if success else "失败", "sid": m["serial_no"]}
                for m in (only or self.accepted)]

    def _handle(self, request: Request) -> Response:
        body = json.loads(request.get_data() or b"{}")
        action = request.headers.get("X-TC-Action", "")
        self.requests.append({"action": action, **body})
        if action == "SendSms":
            return self._send(request, body)
        if action == "DescribeSmsTemplateList":
            offset, limit = int(body.get("Offset", 0)), int(body.get("Limit", 100))
            items = [{"TemplateId": int(t["id"]), "International": 0, "StatusCode": t.get("status", 1),
                      "ReviewReply": t.get("reason", ""), "TemplateName": t.get("name", ""), "CreateTime": 0,
                      "TemplateContent": t["content"]} for t in self.templates[offset:offset + limit]]
            return _json({"DescribeTemplateStatusSet": items})
        if action == "AddSmsTemplate":
            new = str(len(self.templates) + 200001)
            self.templates.append({"id": new, "content": body.get("TemplateContent", ""), "status": 1,
                                   "name": body.get("TemplateName", "")})
            return _json({"AddTemplateStatus": {"TemplateId": new}})
        return _json({"Error": {"Code": "InvalidAction", "Message": action}})

    def _send(self, request: Request, body: dict) -> Response:
        action = self.script.pop(0) if self.script else None
        phone = (body.get("PhoneNumberSet") or [""])[0]
        if isinstance(action, tuple) and action[0] == "error":
            return _json({"Error": {"Code": action[1], "Message": action[2]}})
        if isinstance(action, tuple) and action[0] == "http":
            return Response("bad gateway", status=action[1], content_type="text/html")
        if phone in self.refuse or (isinstance(action, tuple) and action[0] == "code"):
            code, message = self.refuse.get(phone) or action[1:]
            return _json({"SendStatusSet": [{"SerialNo": "", "PhoneNumber": phone, "Fee": 0, "SessionContext":
                                             body.get("SessionContext", ""), "Code": code, "Message": message,
                                             "IsoCode": "CN"}]})
        message = self._accept(body)
        if isinstance(action, tuple) and action[0] == "drop":
            _drop(request)
            return Response("", status=200)
        if isinstance(action, tuple) and action[0] == "hang":
            time.sleep(action[1])
        elif self.delay:
            time.sleep(self.delay)
        return _json({"SendStatusSet": [{"SerialNo": message["serial_no"], "PhoneNumber": phone, "Fee": 1,
                                         "SessionContext": message["session_context"], "Code": "Ok",
                                         "Message": "send success", "IsoCode": "CN"}]})

    def _accept(self, body: dict) -> dict:
        template = next((t for t in self.templates if t["id"] == str(body.get("TemplateId"))), None)
        content = template["content"] if template else ""
        for n, value in enumerate(body.get("TemplateParamSet") or [], 1):
            content = content.replace("{" + str(n) + "}", str(value))
        message = {"serial_no": f"2433:{uuid.uuid4().int % 10**20}", "phone": (body.get("PhoneNumberSet") or [""])[0],
                   "template_id": str(body.get("TemplateId")), "params": body.get("TemplateParamSet") or [],
                   "sign_name": body.get("SignName"), "session_context": body.get("SessionContext", ""),
                   "content": f"【{body.get('SignName')}】{content}"}
        with self._lock:
            self.accepted.append(message)
        return message


def _json(response: dict) -> Response:
    response.setdefault("RequestId", str(uuid.uuid4()))
    return Response(json.dumps({"Response": response}, ensure_ascii=False), status=200,
                    content_type="application/json")
