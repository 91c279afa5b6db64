"""The WeCom channel driver: one outbox message to one member as an application message, and what came of it.

Shaped like groupdesk.messaging.provider's SmsProvider (a `name`, `send`, `reconcile`), but `send` returns
a typed result instead of raising, because a failure here has a third answer besides "retry" and
"sent": send the SMS instead, at once.

- `Sent`: WeCom took it (`msgid`; a card's one-time `response_code` for a later update).
- `RetryLater`: rate limited (45009, 45033), busy (-1), or no answer: send the same again later.
  Every send sets `enable_duplicate_check` over DUPLICATE_WINDOW with content unique to its
  outbox key, so a resend after a crash or a timeout that did reach WeCom is dropped by WeCom.
- `FallBackToSms`: WeCom does not know the member (81013, or they are listed in `invaliduser`),
  the app's credentials are refused (40001 at gettoken, said loudly in the log), or any other
  refusal: the send path sends the SMS instead and notes the reason on the timeline.

WeCom has no message lookup, so `reconcile` (after an unknown outcome) answers None: send again,
and the duplicate check keeps the member from reading it twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Union

import structlog

from groupdesk.messaging.wecom.api import WecomApi, WecomUnreachable, errcode
from groupdesk.messaging.wecom.settings import wecom_app
from groupdesk.messaging.wecom.tokens import TokenUnavailable

log = structlog.get_logger("groupdesk.wecom")

DUPLICATE_WINDOW = 4 * 3600  # seconds: WeCom's largest duplicate_check_interval
MAX_TEXT_BYTES = 2048  # WeCom cuts a text message's content beyond this
DRILL_PREFIX = "【演练】"
FELL_BACK = "sent by SMS instead: "  # the error of an outbox row of channel wecom when the SMS went in its place
RETRY_CODES = {"45009": "WeCom's API rate limit (45009)", "45033": "too many calls at once (45033)",
               "-1": "WeCom is busy (-1)"}
RETRY_AFTER = {"45009": 60.0, "45033": 5.0, "-1": 5.0}
REASONS = {
    "81013": "WeCom knows no such member, or the app may not reach them (81013): check their wecom_userid and"
             " the app's 可见范围",
    "invaliduser": "WeCom does not know this userid (listed in invaliduser): check the person's wecom_userid",
    "unlicenseduser": "this member has no WeCom licence (listed in unlicenseduser)",
    "no_userid": "no wecom_userid in the staff directory",
}


@dataclass(frozen=True)
class WecomMessage:
    """One message of the outbox to one member: a text, or a template card (cards.py)."""

    key: str  # the outbox key: what makes the content unique, so WeCom's duplicate check knows a resend
    userid: str
    purpose: str
    text: str = ""
    card: dict | None = None
    drill: bool = False


@dataclass(frozen=True)
class Sent:
    msgid: str
    response_code: str = ""  # a card's: spend it once to update the card (72 h)


@dataclass(frozen=True)
class RetryLater:
    code: str
    reason: str
    after: float = 5.0  # seconds to wait at least


@dataclass(frozen=True)
class FallBackToSms:
    code: str
    reason: str
    loud: bool = False  # a setting is wrong (the secret, the corp id, the trusted IP): every message falls back


SendResult = Union[Sent, RetryLater, FallBackToSms]


def content_ref(key: str) -> str:
    """Eight characters that differ between outbox keys: two messages of the same words are not duplicates."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]


def unique_text(message: WecomMessage) -> str:
    """The text as WeCom gets it: the drill mark first, the key's reference last, within WeCom's 2,048 bytes."""
    body = message.text
    if message.drill and not body.startswith(DRILL_PREFIX):
        body = DRILL_PREFIX + body
    suffix = f"\n#{content_ref(message.key)}"
    room = MAX_TEXT_BYTES - len(suffix.encode("utf-8"))
    if len(body.encode("utf-8")) > room:
        body = body.encode("utf-8")[:room - len("…".encode("utf-8"))].decode("utf-8", "ignore") + "…"
    return body + suffix


@dataclass
class WecomChannel:
    api: WecomApi
    name: str = field(default="wecom", init=False)

    @classmethod
    def from_settings(cls, settings, database=None, **api_options) -> "WecomChannel":
        """The configured app's channel; WecomSettingsError if GROUPDESK_STAFF_CHANNEL=wecom is incomplete."""
        return cls(WecomApi(wecom_app(settings), database if database is not None else settings, **api_options))

    def payload(self, message: WecomMessage) -> dict:
        """The `message/send` body (without agentid): a text, or a card, with WeCom's duplicate check on."""
        base = {"touser": message.userid, "enable_duplicate_check": 1, "duplicate_check_interval": DUPLICATE_WINDOW}
        if message.card is not None:
            return {**base, "msgtype": "template_card", "template_card": message.card}
        return {**base, "msgtype": "text", "text": {"content": unique_text(message)}}

    async def send(self, message: WecomMessage) -> SendResult:
        if not message.userid:
            return FallBackToSms("no_userid", REASONS["no_userid"])
        bound = log.bind(key=message.key, purpose=message.purpose, userid=message.userid)
        try:
            answer = await self.api.send(self.payload(message))
        except TokenUnavailable as exc:
            if exc.refused:
                bound.error("wecom credentials refused: every staff message falls back to SMS", errcode=exc.code,
                            reason=exc.reason)
                return FallBackToSms(exc.code or "gettoken", exc.reason, loud=True)
            return RetryLater("gettoken", exc.reason, 5.0)
        except WecomUnreachable as exc:  # a resend is safe either way: the duplicate check drops a twin
            bound.warning("wecom send without answer", reason=exc.reason, maybe_sent=exc.maybe_sent)
            return RetryLater("unreachable", exc.reason, 5.0)
        return classify(answer, message.userid, bound)

    async def reconcile(self, message: WecomMessage) -> None:
        """WeCom cannot be asked whether it has a message: send again (the duplicate check drops a twin)."""
        return None

    async def update_card(self, userid: str, response_code: str, card: dict) -> bool:
        """Replace a member's card (a click's or the send's one-time code); False if WeCom did not take it."""
        try:
            answer = await self.api.update_template_card(userid, response_code, card)
        except (TokenUnavailable, WecomUnreachable) as exc:
            log.warning("wecom card not updated", userid=userid, reason=getattr(exc, "reason", str(exc)))
            return False
        if errcode(answer) != "0":
            log.warning("wecom card not updated", userid=userid, errcode=errcode(answer),
                        errmsg=str(answer.get("errmsg", ""))[:200])
            return False
        return True


def classify(answer: dict, userid: str, bound=log) -> SendResult:
    """What WeCom's answer to `message/send` means for the send path."""
    code = errcode(answer)
    if code == "0":
        for listed in ("invaliduser", "unlicenseduser"):
            if userid.lower() in {u.lower() for u in str(answer.get(listed) or "").split("|") if u}:
                bound.warning("wecom member unknown, falling back to SMS", listed=listed)
                return FallBackToSms(listed, REASONS[listed])
        bound.info("wecom message sent", msgid=str(answer.get("msgid", ""))[:128])
        return Sent(str(answer.get("msgid") or ""), str(answer.get("response_code") or ""))
    errmsg = str(answer.get("errmsg", ""))[:200]
    if code in RETRY_CODES:
        bound.warning("wecom send to retry", errcode=code)
        return RetryLater(code, RETRY_CODES[code], RETRY_AFTER[code])
    bound.warning("wecom send refused, falling back to SMS", errcode=code, errmsg=errmsg)
    return FallBackToSms(code, REASONS.get(code) or f"WeCom refused the message ({code}): {errmsg}")
