"""Dev only: a card click as WeCom would push it, encrypted and signed with this app's own keys.

The phone simulator of `groupdesk dev` presses a card's buttons by posting this to /wecom/callback,
so a simulated click goes through the same checks (signature, AES, corp, app), the same redelivery
guard and the same gateway as a real one. Nothing here is reachable in production.
"""

from __future__ import annotations

import base64
import secrets
import time
from xml.sax.saxutils import escape

from groupdesk.messaging.wecom.callback import signature
from groupdesk.messaging.wecom.cards import REASON_QUESTION
from groupdesk.messaging.wecom.settings import WecomApp


def click_xml(app: WecomApp, userid: str, task_id: str, button: str, reason_id: str = "") -> str:
    """A template_card_event from `userid` on the card `task_id` (WeCom's event push, plain)."""
    selected = ""
    if reason_id:
        selected = (f"<SelectedItem><QuestionKey>{escape(REASON_QUESTION)}</QuestionKey><OptionIds>"
                    f"<OptionId>{escape(reason_id)}</OptionId></OptionIds></SelectedItem>")
    return (f"<xml><ToUserName>{escape(app.corp_id)}</ToUserName><FromUserName>{escape(userid)}</FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType>event</MsgType>"
            f"<Event>template_card_event</Event><EventKey>{escape(button)}</EventKey>"
            f"<TaskId>{escape(task_id)}</TaskId><CardType>button_interaction</CardType>"
            f"<ResponseCode>sim-{secrets.token_hex(16)}</ResponseCode><AgentID>{escape(str(app.agent_id))}</AgentID>"
            f"<SelectedItems>{selected}</SelectedItems></xml>")


def sealed(app: WecomApp, xml: str) -> tuple[dict[str, str], bytes]:
    """(query, body) of the POST WeCom would make to the callback URL carrying `xml`."""
    from wechatpy.enterprise.crypto import PrpCrypto

    encrypted = PrpCrypto(base64.b64decode(app.aes_key + "=")).encrypt(xml, app.corp_id)
    encrypted = encrypted.decode("ascii") if isinstance(encrypted, bytes) else encrypted
    timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
    body = (f"<xml><ToUserName>{escape(app.corp_id)}</ToUserName><Encrypt>{encrypted}</Encrypt>"
            f"<AgentID>{escape(str(app.agent_id))}</AgentID></xml>").encode("utf-8")
    query = {"msg_signature": signature(app.token, timestamp, nonce, encrypted), "timestamp": timestamp,
             "nonce": nonce}
    return query, body
