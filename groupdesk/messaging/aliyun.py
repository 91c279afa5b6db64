"""The Aliyun SMS provider (短信服务, dysmsapi): the official SDK, an approved template with parameters,
an explicit timeout, no SDK retries (SendSms is not idempotent), and QuerySendDetails before any resend."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from alibabacloud_dysmsapi20170525 import models as m
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException, ThrottlingException
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.exceptions import UnretryableException
from darabonba.policy.retry import RetryOptions
from darabonba.runtime import RuntimeOptions

from groupdesk.core.workcal import LOCAL_TZ
from groupdesk.runtime.masking import mask_phone
from groupdesk.messaging.domestic import (
    ProviderSettingsError, ProviderTemplate, endpoint, national, positive_timeout, sign_name,
)
from groupdesk.messaging.provider_codes import aliyun_error, network_error
from groupdesk.messaging.template_text import LIMITS, Limits
from groupdesk.messaging.errors import PermanentSmsError, RetryableSmsError, UnknownOutcomeError

if TYPE_CHECKING:  # annotations only: the settings check at every start loads this module, not the database layer
    from groupdesk.messaging.outbox import OutboxRow

log = structlog.get_logger("groupdesk.sms.aliyun")
PAGE = 50  # QuerySendDetails and QuerySmsTemplateList answer at most 50 a page
MAX_PAGES = 40
STATUS = {"AUDIT_STATE_PASS": "approved", "AUDIT_STATE_INIT": "reviewing", "AUDIT_STATE_NOT_PASS": "rejected",
          "AUDIT_STATE_CANCEL": "rejected"}


class AliyunProvider:
    name = "aliyun"
    channel = "sms"
    templates = True  # sends an approved template with parameters, never free text
    settles_unknown = True  # QuerySendDetails tells whether it has a message

    def __init__(self, client: Client, sign: str, timeout: float, limits: Limits):
        self.client = client
        self.sign_name = sign
        self.limits = limits
        self.runtime = RuntimeOptions(autoretry=False, max_attempts=0, read_timeout=int(timeout * 1000),
                                      connect_timeout=int(min(timeout, 3) * 1000))

    @classmethod
    def from_settings(cls, settings) -> "AliyunProvider":
        key_id, secret = settings.aliyun_access_key_id.strip(), settings.aliyun_access_key_secret.strip()
        if not key_id:
            raise ProviderSettingsError("ALIBABA_CLOUD_ACCESS_KEY_ID is missing: the RAM access key that sends SMS")
        if not secret:
            raise ProviderSettingsError("ALIBABA_CLOUD_ACCESS_KEY_SECRET is missing: the secret of"
                                        " ALIBABA_CLOUD_ACCESS_KEY_ID")
        sign = sign_name("GROUPDESK_ALIYUN_SIGN_NAME", settings.aliyun_sign_name)
        timeout = positive_timeout("GROUPDESK_ALIYUN_TIMEOUT", settings.aliyun_timeout)
        if not 1 <= settings.aliyun_variable_limit <= 500:
            raise ProviderSettingsError("GROUPDESK_ALIYUN_VARIABLE_LIMIT must be 1 to 500 characters (35 unless"
                                        " Aliyun lifted the limit for the account)")
        config = Config(access_key_id=key_id, access_key_secret=secret, endpoint="dysmsapi.aliyuncs.com",
                        read_timeout=int(timeout * 1000), connect_timeout=int(min(timeout, 3) * 1000),
                        retry_options=RetryOptions({"retryable": False}))
        if target := endpoint("GROUPDESK_ALIYUN_API_BASE", settings.aliyun_api_base):
            config.endpoint, config.protocol = target
        limits = Limits(settings.aliyun_variable_limit, LIMITS["aliyun"].message)
        return cls(Client(config), sign, timeout, limits)

    # ---- sending ----------------------------------------------------------------------------

    async def send(self, message: OutboxRow) -> str | None:
        return await asyncio.to_thread(self._send, message)

    def _send(self, message: OutboxRow) -> str:
        if not message.template_code:
            raise PermanentSmsError("no-template", "Aliyun sends approved templates only, and this message has none")
        request = m.SendSmsRequest(phone_numbers=_phone(message.to_number), sign_name=self.sign_name,
                                   template_code=message.template_code, template_param=message.params or "{}",
                                   out_id=message.out_id)
        body = self._call(self.client.send_sms_with_options, request).body
        if body.code != "OK":
            raise aliyun_error(body.code or "", body.message or "")
        log.info("sms sent", to=mask_phone(message.to_number), biz_id=body.biz_id, purpose=message.purpose,
                 template=message.template_code)
        return body.biz_id

    def _call(self, method, request):
        try:
            return method(request, self.runtime)
        except ThrottlingException as exc:
            raise RetryableSmsError(f"Aliyun throttled the request ({exc.code})",
                                    retry_after=float(getattr(exc, "retry_after", None) or 60)) from None
        except ServerException as exc:
            raise UnknownOutcomeError(f"Aliyun answered {exc.status_code} ({exc.code})") from None
        except ClientException as exc:
            raise aliyun_error(str(exc.code or ""), str(exc.message or "")) from None
        except UnretryableException as exc:
            inner = getattr(exc, "inner_exception", None) or exc
            raise network_error("Aliyun", inner) from None

    # ---- settling a maybe-sent message --------------------------------------------------------

    async def reconcile(self, message: OutboxRow) -> str | None:
        return await asyncio.to_thread(self._reconcile, message)

    def _reconcile(self, message: OutboxRow) -> str | None:
        """QuerySendDetails filters by phone and Beijing date only: every date from the message's creation
        (less a margin) to now is read, and its OutId looked for. Found: the message is not sent again."""
        if not message.out_id:
            return None
        start = datetime.fromisoformat(message.created_at) - timedelta(minutes=5)
        day, last = start.astimezone(LOCAL_TZ).date(), datetime.now(LOCAL_TZ).date()
        while day <= last:
            for detail in self._details(message.to_number, day.strftime("%Y%m%d")):
                if detail.out_id == message.out_id:
                    log.info("sms found at Aliyun", to=mask_phone(message.to_number), date=str(day))
                    return f"out:{message.out_id}"  # QuerySendDetails gives no BizId; a report brings it
            day += timedelta(days=1)
        return None

    def _details(self, number: str, date: str):
        for page in range(1, MAX_PAGES + 1):
            request = m.QuerySendDetailsRequest(phone_number=_phone(number), send_date=date, page_size=PAGE,
                                                current_page=page)
            try:
                body = self._call(self.client.query_send_details_with_options, request).body
            except (RetryableSmsError, PermanentSmsError) as exc:
                raise UnknownOutcomeError(f"cannot look up whether Aliyun has the message: {exc}") from None
            if body.code != "OK":
                raise UnknownOutcomeError(f"cannot look up whether Aliyun has the message: {body.code}")
            found = (body.sms_send_detail_dtos.sms_send_detail_dto or []) if body.sms_send_detail_dtos else []
            yield from found
            if page * PAGE >= int(body.total_count or 0) or not found:
                return

    # ---- templates ----------------------------------------------------------------------------

    def list_templates(self) -> list[ProviderTemplate]:
        """Every template of the account (QuerySmsTemplateList), page by page."""
        found: list[ProviderTemplate] = []
        for page in range(1, MAX_PAGES + 1):
            body = self._call(self.client.query_sms_template_list_with_options,
                              m.QuerySmsTemplateListRequest(page_index=page, page_size=PAGE)).body
            if body.code != "OK":
                raise PermanentSmsError(body.code or "aliyun", f"QuerySmsTemplateList: {body.message}")
            items = body.sms_template_list or []
            for t in items:
                reason = t.reason.reject_info if t.reason and t.reason.reject_info else ""
                found.append(ProviderTemplate(code=t.template_code or "", text=t.template_content or "",
                                              status=STATUS.get(t.audit_status or "", "reviewing"),
                                              name=t.template_name or "", reason=reason))
            if page * PAGE >= int(body.total_count or 0) or not items:
                break
        return found

    def submit_template(self, name: str, text: str, remark: str) -> str:
        """File a notification template for review (CreateSmsTemplate); its code."""
        request = m.CreateSmsTemplateRequest(template_name=name[:30], template_content=text, template_type=1,
                                             remark=remark[:100], related_sign_name=self.sign_name)
        body = self._call(self.client.create_sms_template_with_options, request).body
        if body.code != "OK":
            raise PermanentSmsError(body.code or "aliyun", f"CreateSmsTemplate: {body.message}")
        return body.template_code


def _phone(number: str) -> str:
    """Aliyun's format: mainland numbers without +86, others with their country code and no +."""
    code, national_number = national(number)
    return national_number if code == 86 else f"{code}{national_number}"
