"""WeCom's callbacks as groupdesk reads them: the signature checked, the body decrypted, the event parsed.

WeCom signs with SHA-1 over the sorted [Token, timestamp, nonce, Encrypt] and encrypts with
AES-256-CBC under the EncodingAESKey (wechatpy's PrpCrypto does the AES and checks that the
message is addressed to our corp id). Anything that fails a check is `CallbackRefused` (403),
before anything is parsed beyond the outer envelope.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from groupdesk.messaging.wecom.settings import WecomApp

MAX_FIELD = 2048  # no field of a card event is near this long
_SIGNATURE = re.compile(r"[0-9a-f]{40}")
_TIMESTAMP = re.compile(r"\d{1,12}")
_NONCE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_BASE64 = re.compile(r"[A-Za-z0-9+/=]{24,16384}")


class CallbackRefused(Exception):
    """Not a callback from WeCom for this app: a bad signature or encryption, another corp, another app."""


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CardClick:
    """A template_card_event: a member pressed a button of one of our cards."""

    corp_id: str
    userid: str
    create_time: str
    agent_id: str
    task_id: str
    button: str
    response_code: str
    selected: dict[str, list[str]] = field(default_factory=dict)  # question key -> option ids chosen

    @property
    def identity(self) -> tuple[str, ...]:
        return (self.corp_id, self.userid, self.create_time, self.task_id, self.button, self.response_code)


@dataclass(frozen=True)
class OtherEvent:
    """Any other message or event (entering the app, a typed message): answered, not acted on."""

    kind: str


class CallbackCrypto:
    def __init__(self, app: WecomApp):
        from wechatpy.enterprise.crypto import PrpCrypto  # loads wechatpy only where callbacks are read

        import base64

        self.app = app
        self._crypto = PrpCrypto(base64.b64decode(app.aes_key + "="))

    def _check(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        if not (_SIGNATURE.fullmatch(msg_signature or "") and _TIMESTAMP.fullmatch(timestamp or "")
                and _NONCE.fullmatch(nonce or "") and _BASE64.fullmatch(encrypt or "")):
            raise CallbackRefused("malformed signature, timestamp, nonce or ciphertext")
        if not hmac.compare_digest(signature(self.app.token, timestamp, nonce, encrypt), msg_signature):
            raise CallbackRefused("wrong msg_signature")

    def _open(self, encrypt: str) -> str:
        from wechatpy.enterprise.exceptions import InvalidCorpIdException

        try:
            return self._crypto.decrypt(encrypt, self.app.corp_id)
        except InvalidCorpIdException:
            raise CallbackRefused("addressed to another corp") from None
        except Exception:  # noqa: BLE001 - bad padding, length or encoding: not WeCom's
            raise CallbackRefused("cannot be decrypted with GROUPDESK_WECOM_AES_KEY") from None

    def echo(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """URL verification (GET): the decrypted echostr, which WeCom expects back exactly."""
        self._check(msg_signature, timestamp, nonce, echostr)
        return self._open(echostr)

    def message(self, body: bytes, msg_signature: str, timestamp: str, nonce: str) -> str:
        """A pushed message (POST): its decrypted XML."""
        envelope = _parse(body)
        encrypt = (envelope.findtext("Encrypt") or "").strip()
        self._check(msg_signature, timestamp, nonce, encrypt)
        return self._open(encrypt)

    def event(self, xml: str) -> CardClick | OtherEvent:
        """What the decrypted message says; CallbackRefused if it names another corp or app."""
        root = _parse(xml.encode("utf-8"))
        text = {child.tag: (child.text or "").strip()[:MAX_FIELD] for child in root}
        if text.get("ToUserName") != self.app.corp_id:
            raise CallbackRefused("addressed to another corp")
        if text.get("AgentID") and text["AgentID"] != str(self.app.agent_id):
            raise CallbackRefused("addressed to another app")
        if text.get("MsgType") != "event" or text.get("Event") != "template_card_event":
            return OtherEvent(f"{text.get('MsgType', '')}/{text.get('Event', '')}"[:64])
        selected: dict[str, list[str]] = {}
        for item in root.iterfind("SelectedItems/SelectedItem"):
            key = (item.findtext("QuestionKey") or "").strip()[:MAX_FIELD]
            selected[key] = [(o.text or "").strip()[:MAX_FIELD] for o in item.iterfind("OptionIds/OptionId")]
        return CardClick(corp_id=text["ToUserName"], userid=text.get("FromUserName", ""),
                         create_time=text.get("CreateTime", ""), agent_id=text.get("AgentID", ""),
                         task_id=text.get("TaskId", ""), button=text.get("EventKey", ""),
                         response_code=text.get("ResponseCode", ""), selected=selected)


def _parse(body: bytes) -> ET.Element:
    """Plain XML only: no document type (so no entities), within the console's body limit."""
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise CallbackRefused("XML with a document type")
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise CallbackRefused("not XML") from None
    if root.tag != "xml":
        raise CallbackRefused("not a WeCom message")
    return root
