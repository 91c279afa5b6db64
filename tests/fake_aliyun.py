"""A fake of Aliyun's SMS API (dysmsapi 2017-05-25) for the real `alibabacloud-dysmsapi20170525` client:
`POST /`, the action in the x-acs-action header, parameters in the query string (or a form body). It records
every request, keeps what it accepted (for QuerySendDetails), serves the template list, and answers with
scripted failures, slowly, or by dropping the connection after accepting the message."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from werkzeug import Request, Response

BEIJING = timezone(timedelta(hours=8))
ACCESS_KEY_ID, ACCESS_KEY_SECRET, SIGN_NAME = "LTAI-test-key-id", "test-key-secret", "西城供电"


@dataclass
class FakeAliyun:
    server: object
    requests: list[dict] = field(default_factory=list)  # every call: action and its parameters
    accepted: list[dict] = field(default_factory=list)  # messages it has (what QuerySendDetails finds)
    # per SendSms: None (accept), ("code", CODE, MESSAGE), ("http", STATUS), ("drop",) accept then cut the
    # connection, ("hang", SECONDS) accept then answer too late
    script: list[object] = field(default_factory=list)
    refuse: dict[str, tuple[str, str]] = field(default_factory=dict)  # PhoneNumbers -> (Code, Message)
    delay: float = 0.0  # accept, then take this long to answer (a slow gateway)
    templates: list[dict] = field(default_factory=list)  # {code, content, status, name}
    clock: object = None  # a function giving "now" for send dates (tests near midnight)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> "FakeAliyun":
        self.server.expect_request("/", method="POST").respond_with_handler(self._handle)
        return self

    @property
    def base_url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def sends(self) -> list[dict]:
        return [r for r in self.requests if r["action"] == "SendSms"]

    def approve(self, texts: list[str]) -> None:
        """Aliyun's review, done: these texts become approved templates (new codes where unknown)."""
        for text in texts:
            found = next((t for t in self.templates if t["content"] == text), None)
            if found is None:
                self.templates.append(found := {"code": f"SMS_{len(self.templates) + 100001}", "content": text,
                                                "name": "t"})
            found["status"] = "AUDIT_STATE_PASS"

    def reports(self, success: bool = True, only: list[dict] | None = None) -> list[dict]:
        """An SmsReport push for the messages it accepted, as Aliyun posts it."""
        now = datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        return [{"phone_number": m["phone"], "send_time": m["sent_at"], "report_time": now, "success": success,
                 "err_code": "DELIVERED" if success else "MK:0001", "err_msg": "用户接收成功" if success else "失败",
                 "sms_size": "1", "biz_id": m["biz_id"], "out_id": m["out_id"]} for m in (only or self.accepted)]

    # ---- the API ------------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        params = {**request.args.to_dict(), **request.form.to_dict()}
        action = request.headers.get("x-acs-action") or params.get("Action", "")
        self.requests.append({"action": action, **params})
        if action == "SendSms":
            return self._send(request, params)
        if action == "QuerySendDetails":
            return self._details(params)
        if action == "QuerySmsTemplateList":
            return self._template_list(params)
        if action == "CreateSmsTemplate":
            code = f"SMS_{len(self.templates) + 100001}"
            self.templates.append({"code": code, "content": params.get("TemplateContent", ""),
                                   "name": params.get("TemplateName", ""), "status": "AUDIT_STATE_INIT"})
            return _json({"Code": "OK", "Message": "OK", "TemplateCode": code, "RequestId": _rid()})
        return _json({"Code": "InvalidAction.NotFound", "Message": action, "RequestId": _rid()}, 404)

    def _send(self, request: Request, params: dict) -> Response:
        action = self.script.pop(0) if self.script else None
        phone = params.get("PhoneNumbers", "")
        if phone in self.refuse:
            code, message = self.refuse[phone]
            return _json({"Code": code, "Message": message, "RequestId": _rid()})
        if isinstance(action, tuple) and action[0] == "code":
            return _json({"Code": action[1], "Message": action[2], "RequestId": _rid()})
        if isinstance(action, tuple) and action[0] == "http":
            return _json({"Code": "ServiceUnavailable", "Message": "scripted", "RequestId": _rid()}, action[1])
        message = self._accept(params)
        if isinstance(action, tuple) and action[0] == "drop":
            _drop(request)
            return Response("", status=200)
        if isinstance(action, tuple) and action[0] == "hang":
            time.sleep(action[1])
        elif self.delay:
            time.sleep(self.delay)
        return _json({"Code": "OK", "Message": "OK", "BizId": message["biz_id"], "RequestId": _rid()})

    def _accept(self, params: dict) -> dict:
        now = self.clock() if self.clock else datetime.now(BEIJING)
        try:
            values = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            values = {}
        template = next((t for t in self.templates if t["code"] == params.get("TemplateCode")), None)
        content = template["content"] if template else ""
        for name, value in values.items():
            content = content.replace("${" + name + "}", str(value))
        message = {"biz_id": f"{uuid.uuid4().int % 10**18}^0", "phone": params.get("PhoneNumbers", ""),
                   "template_code": params.get("TemplateCode"), "params": values, "sign_name": params.get("SignName"),
                   "out_id": params.get("OutId", ""), "send_date": now.strftime("%Y%m%d"),
                   "sent_at": now.strftime("%Y-%m-%d %H:%M:%S"), "content": f"【{params.get('SignName')}】{content}"}
        with self._lock:
            self.accepted.append(message)
        return message

    def _details(self, params: dict) -> Response:
        found = [m for m in self.accepted if m["phone"] == params.get("PhoneNumber")
                 and m["send_date"] == params.get("SendDate")]
        size, page = int(params.get("PageSize") or 10), int(params.get("CurrentPage") or 1)
        chunk = found[(page - 1) * size: page * size]
        dtos = [{"PhoneNum": m["phone"], "SendStatus": 3, "ErrCode": "DELIVERED", "TemplateCode": m["template_code"],
                 "Content": m["content"], "SendDate": m["sent_at"], "ReceiveDate": m["sent_at"], "OutId": m["out_id"]}
                for m in chunk]
        return _json({"Code": "OK", "Message": "OK", "RequestId": _rid(), "TotalCount": str(len(found)),
                      "SmsSendDetailDTOs": {"SmsSendDetailDTO": dtos}})

    def _template_list(self, params: dict) -> Response:
        size, page = int(params.get("PageSize") or 10), int(params.get("PageIndex") or 1)
        chunk = self.templates[(page - 1) * size: page * size]
        items = [{"TemplateCode": t["code"], "TemplateName": t.get("name", ""), "TemplateContent": t["content"],
                  "AuditStatus": t.get("status", "AUDIT_STATE_INIT"), "TemplateType": 1, "OuterTemplateType": 1,
                  "Reason": {"RejectInfo": t.get("reason", "")}} for t in chunk]
        return _json({"Code": "OK", "Message": "OK", "RequestId": _rid(), "TotalCount": len(self.templates),
                      "CurrentPage": page, "PageSize": size, "SmsTemplateList": items})


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json;charset=utf-8")


def _rid() -> str:
    return str(uuid.uuid4()).upper()


def _drop(request: Request) -> None:
    """Close the client's connection without an answer: the message was accepted, the sender cannot know."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
