"""The Tencent Cloud SMS provider: the official SDK, an approved template with parameters, an explicit
timeout and no SDK retries. No Tencent API can prove a message was not sent (the pulls do not filter by
SessionContext, return only messages with a carrier receipt, and PullSmsSendStatus is a queue), so a
maybe-sent message is parked as `unknown` for ops; a delivery report for it settles it."""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING

import structlog
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models as m
from tencentcloud.sms.v20210111.sms_client import SmsClient

from groupdesk.runtime.masking import mask_phone
from groupdesk.messaging.domestic import (
    ProviderSettingsError, ProviderTemplate, endpoint, positive_timeout, sign_name,
)
from groupdesk.messaging.provider_codes import network_error, tencent_error
from groupdesk.messaging.template_text import LIMITS
from groupdesk.messaging.errors import PermanentSmsError, RetryableSmsError, UnknownOutcomeError

if TYPE_CHECKING:  # annotations only: the settings check at every start loads this module, not the database layer
    from groupdesk.messaging.outbox import OutboxRow

log = structlog.get_logger("groupdesk.sms.tencent")
PAGE = 100  # DescribeSmsTemplateList answers at most 100 a page
MAX_PAGES = 20
STATUS = {0: "approved", 1: "reviewing", -1: "rejected", 2: "reviewing"}
_REGION = re.compile(r"^[a-z]{2,3}-[a-z]+(-\d+)?$")
# The SDK says ClientNetworkError both for a refused connection and for a timeout: its message tells which.
_NETWORK = "ClientNetworkError"


class TencentProvider:
    name = "tencent"
    channel = "sms"
    templates = True
    settles_unknown = False  # a maybe-sent message waits for a delivery report or ops

    def __init__(self, client: SmsClient, app_id: str, sign: str):
        self.client = client
        self.app_id = app_id
        self.sign_name = sign
        self.limits = LIMITS["tencent"]

    @classmethod
    def from_settings(cls, settings) -> "TencentProvider":
        secret_id, secret_key = settings.tencent_secret_id.strip(), settings.tencent_secret_key.strip()
        if not secret_id:
            raise ProviderSettingsError("TENCENTCLOUD_SECRET_ID is missing: the API key (SecretId) that sends SMS")
        if not secret_key:
            raise ProviderSettingsError("TENCENTCLOUD_SECRET_KEY is missing: the SecretKey of TENCENTCLOUD_SECRET_ID")
        app_id = settings.tencent_sms_app_id.strip()
        if not app_id.isdigit():
            raise ProviderSettingsError("GROUPDESK_TENCENT_SMS_APP_ID is missing or not the SMS application's"
                                        " SdkAppId (digits, e.g. 1400006666)")
        sign = sign_name("GROUPDESK_TENCENT_SIGN_NAME", settings.tencent_sign_name)
        region = settings.tencent_region.strip()
        if not _REGION.match(region):
            raise ProviderSettingsError(f"GROUPDESK_TENCENT_REGION={region[:30]!r} is not a region such as"
                                        " ap-guangzhou")
        timeout = positive_timeout("GROUPDESK_TENCENT_TIMEOUT", settings.tencent_timeout)
        http = HttpProfile(reqTimeout=timeout)
        if target := endpoint("GROUPDESK_TENCENT_API_BASE", settings.tencent_api_base):
            http.endpoint, http.protocol = target
            http.scheme = http.protocol
        profile = ClientProfile(httpProfile=http)  # no retryer: the SDK sends each request once
        return cls(SmsClient(credential.Credential(secret_id, secret_key), region, profile), app_id, sign)

    # ---- sending ----------------------------------------------------------------------------

    async def send(self, message: OutboxRow) -> str | None:
        return await asyncio.to_thread(self._send, message)

    def _send(self, message: OutboxRow) -> str:
        if not message.template_code:
            raise PermanentSmsError("no-template", "Tencent Cloud sends approved templates only, and this message"
                                    " has none")
        request = m.SendSmsRequest()
        request.PhoneNumberSet = [message.to_number]
        request.SmsSdkAppId, request.SignName, request.TemplateId = self.app_id, self.sign_name, message.template_code
        request.TemplateParamSet = json.loads(message.params or "[]")
        request.SessionContext = message.out_id
        response = self._call(self.client.SendSms, request)
        statuses = response.SendStatusSet or []
        if not statuses:
            raise UnknownOutcomeError("Tencent Cloud answered without a status for the number")
        status = statuses[0]
        if status.Code != "Ok":
            raise tencent_error(status.Code or "", status.Message or "")
        log.info("sms sent", to=mask_phone(message.to_number), serial_no=status.SerialNo, purpose=message.purpose,
                 template=message.template_code)
        return status.SerialNo

    def _call(self, method, request):
        try:
            return method(request)
        except TencentCloudSDKException as exc:
            code = exc.get_code() or ""
            if code == _NETWORK:
                raise network_error("Tencent Cloud", exc, exc.get_message() or "") from None
            if code == "ServerNetworkError":  # a non-200 answer: it may have the message
                raise UnknownOutcomeError("Tencent Cloud answered with an HTTP error") from None
            raise tencent_error(code, exc.get_message() or "") from None

    async def reconcile(self, message: OutboxRow) -> str | None:
        """Nothing to look up (see the module's note): only a delivery report settles a maybe-sent message."""
        raise UnknownOutcomeError("Tencent Cloud cannot tell whether it has the message; it waits for a"
                                  " delivery report, or for ops to retry it or mark it sent")

    # ---- templates ----------------------------------------------------------------------------

    def list_templates(self) -> list[ProviderTemplate]:
        """The account's templates for mainland numbers (DescribeSmsTemplateList), page by page."""
        found: list[ProviderTemplate] = []
        for page in range(MAX_PAGES):
            request = m.DescribeSmsTemplateListRequest()
            request.International, request.Limit, request.Offset = 0, PAGE, page * PAGE
            try:
                items = self._call(self.client.DescribeSmsTemplateList, request).DescribeTemplateStatusSet or []
            except (RetryableSmsError, UnknownOutcomeError) as exc:
                raise PermanentSmsError("tencent", f"DescribeSmsTemplateList: {exc}") from None
            for t in items:
                found.append(ProviderTemplate(code=str(t.TemplateId), text=t.TemplateContent or "",
                                              status=STATUS.get(t.StatusCode, "reviewing"),
                                              name=t.TemplateName or "", reason=t.ReviewReply or ""))
            if len(items) < PAGE:
                break
        return found

    def submit_template(self, name: str, text: str, remark: str) -> str:
        """File a notification template for review (AddSmsTemplate); its id."""
        request = m.AddSmsTemplateRequest()
        request.TemplateName, request.TemplateContent, request.Remark = name[:30], text, remark[:100]
        request.SmsType, request.International = 0, 0  # 0: an ordinary (notification) SMS, to mainland numbers
        try:
            return str(self._call(self.client.AddSmsTemplate, request).AddTemplateStatus.TemplateId)
        except (RetryableSmsError, UnknownOutcomeError) as exc:
            raise PermanentSmsError("tencent", f"AddSmsTemplate: {exc}") from None
