"""Aliyun and Tencent Cloud SMS answers, sorted into "retry later" and "failed for good", and the
network errors of their SDKs told apart: certainly not sent, or maybe sent."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from groupdesk.core.workcal import LOCAL_TZ
from groupdesk.messaging.errors import PermanentSmsError, RetryableSmsError, UnknownOutcomeError

# Neither SDK raises for these: Aliyun answers HTTP 200 with Code, Tencent puts them in SendStatusSet[].Code.
ALIYUN_PERMANENT = {
    "isv.MOBILE_NUMBER_ILLEGAL": "the number is not a valid mobile number; correct it in the staff directory",
    "isv.SMS_TEMPLATE_ILLEGAL": "Aliyun does not have this template approved; run `groupdesk sms templates sync"
                                " --provider aliyun`",
    "isv.AMOUNT_NOT_ENOUGH": "the Aliyun account is out of credit; top it up, then retry from ops",
    "isv.SMS_SIGNATURE_ILLEGAL": "Aliyun does not have this signature approved; check GROUPDESK_ALIYUN_SIGN_NAME",
    "isv.SMS_SIGN_ILLEGAL": "Aliyun does not have this signature approved; check GROUPDESK_ALIYUN_SIGN_NAME",
    "isv.TEMPLATE_MISSING_PARAMETERS": "the message lacks a variable its template has; sync the templates",
    "isv.TEMPLATE_PARAMS_ILLEGAL": "a value breaks the template's variable rules (e.g. a link)",
    "isv.PARAM_LENGTH_LIMIT": "a value is longer than the template allows",
    "isv.INVALID_PARAMETERS": "Aliyun refused the request's parameters",
    "isv.INVALID_JSON_PARAM": "Aliyun refused the template parameters",
    "isv.BLACK_KEY_CONTROL_LIMIT": "the text has words Aliyun does not send",
    "isv.MOBILE_MOUNT_EXCEED": "too many numbers in one send",
    "isv.OUT_OF_SERVICE": "the Aliyun account is suspended (arrears); settle it, then retry from ops",
    "isv.PRODUCT_UN_SUBSCRIPT": "the Aliyun account has not opened SMS service",
    "isv.ACCOUNT_NOT_EXISTS": "the Aliyun account does not exist; check ALIBABA_CLOUD_ACCESS_KEY_ID",
    "isv.ACCOUNT_ABNORMAL": "the Aliyun account is abnormal; see its console",
    "isv.DENY_IP_RANGE": "Aliyun refuses this server's address",
    "isp.RAM_PERMISSION_DENY": "the access key may not send SMS; grant it AliyunDysmsFullAccess",
    "InvalidAccessKeyId.NotFound": "Aliyun does not know ALIBABA_CLOUD_ACCESS_KEY_ID",
    "SignatureDoesNotMatch": "Aliyun refused ALIBABA_CLOUD_ACCESS_KEY_SECRET",
}
ALIYUN_RETRYABLE = {"isv.BUSINESS_LIMIT_CONTROL": "Aliyun's rate limit for this number",
                    "isv.DAY_LIMIT_CONTROL": "Aliyun's daily limit", "Throttling": "Aliyun throttled the account",
                    "Throttling.User": "Aliyun throttled the account"}
TENCENT_PERMANENT = {
    "FailedOperation.TemplateIncorrectOrUnapproved": "Tencent Cloud does not have this template approved; run"
                                                     " `groupdesk sms templates sync --provider tencent`",
    "FailedOperation.SignatureIncorrectOrUnapproved": "Tencent Cloud does not have this signature approved; check"
                                                      " GROUPDESK_TENCENT_SIGN_NAME",
    "InvalidParameterValue.IncorrectPhoneNumber": "the number is not a valid mobile number; correct it in the"
                                                  " staff directory",
    "FailedOperation.InsufficientBalanceInSmsPackage": "the Tencent Cloud SMS package is used up; top it up,"
                                                       " then retry from ops",
    "FailedOperation.ContainSensitiveWord": "the text has words Tencent Cloud does not send",
    "FailedOperation.PhoneNumberInBlacklist": "the recipient has unsubscribed (blacklisted); reach them another way",
    "FailedOperation.PhoneNumberOnBlacklist": "the recipient has unsubscribed (blacklisted); reach them another way",
    "InvalidParameterValue.TemplateParameterFormatError": "a value breaks the template's variable rules",
    "InvalidParameterValue.TemplateParameterLengthLimit": "a value is longer than the template allows",
    "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter": "a value holds a link, which providers refuse",
    "InvalidParameterValue.SdkAppIdNotExist": "Tencent Cloud does not know GROUPDESK_TENCENT_SMS_APP_ID",
    "UnauthorizedOperation.SmsSdkAppIdVerifyFail": "GROUPDESK_TENCENT_SMS_APP_ID does not belong to this account",
    "UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny": "the account may not send this kind of SMS",
    "AuthFailure.SecretIdNotFound": "Tencent Cloud does not know TENCENTCLOUD_SECRET_ID",
    "AuthFailure.SignatureFailure": "Tencent Cloud refused TENCENTCLOUD_SECRET_KEY",
    "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber": "mainland and other numbers in one send",
}
# Tencent's rate windows, by the end of its LimitExceeded code.
TENCENT_WINDOWS = {"PhoneNumberThirtySecondLimit": 30, "PhoneNumberOneHourLimit": 3600}
_ALIYUN_WINDOW = re.compile(r"(分钟|小时|天)")


def until_tomorrow(now: datetime | None = None) -> float:
    """Seconds until just after midnight in Beijing, when a provider's daily limit starts again."""
    now = (now or datetime.now(LOCAL_TZ)).astimezone(LOCAL_TZ)
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=1, second=0, microsecond=0)
    return (tomorrow - now).total_seconds()


def aliyun_error(code: str, message: str) -> Exception:
    """The error to raise for an Aliyun answer whose Code is not OK."""
    if code in ALIYUN_RETRYABLE:
        window = _ALIYUN_WINDOW.search(message or "")
        wait = {"分钟": 60.0, "小时": 3600.0}.get(window.group(1) if window else "", None)
        if code == "isv.DAY_LIMIT_CONTROL" or (window and window.group(1) == "天"):
            wait = until_tomorrow()
        return RetryableSmsError(f"Aliyun {code}: {ALIYUN_RETRYABLE[code]} ({message})", retry_after=wait or 60.0)
    if code.startswith("isp.") and code != "isp.RAM_PERMISSION_DENY":
        return UnknownOutcomeError(f"Aliyun {code}: {message}")  # its own fault: it may hold the message
    return PermanentSmsError(code or "aliyun", ALIYUN_PERMANENT.get(code) or f"Aliyun refused the message: {message}")


def tencent_error(code: str, message: str) -> Exception:
    """The error to raise for a Tencent answer (SendStatusSet[].Code, or the response's Error.Code)."""
    if code.startswith("LimitExceeded."):
        tail = code.removeprefix("LimitExceeded.")
        wait = TENCENT_WINDOWS.get(tail) or (until_tomorrow() if "Daily" in tail else 60.0)
        return RetryableSmsError(f"Tencent {code}: rate limit ({message})", retry_after=wait)
    if code.startswith(("InternalError", "FailedOperation.JsonParseFail")) and code != "InternalError.SigFail":
        return UnknownOutcomeError(f"Tencent {code}: {message}")
    if code == "RequestLimitExceeded" or code.startswith("RequestLimitExceeded."):
        return RetryableSmsError(f"Tencent {code}: too many requests", retry_after=1.0)
    return PermanentSmsError(code or "tencent", TENCENT_PERMANENT.get(code) or f"Tencent refused the message: {message}")


def network_error(provider: str, exc: BaseException, text: str = "") -> Exception:
    """A request that got no answer: refused or unresolved (certainly not sent) or cut off (maybe sent)."""
    import requests

    said = (text or str(exc)).lower()
    if isinstance(exc, requests.exceptions.ConnectTimeout) or "connecttimeout" in said or \
            "connect timeout" in said:
        return RetryableSmsError(f"could not connect to {provider} in time")
    if "refused" in said or "name or service not known" in said or "nodename nor servname" in said \
            or "failed to resolve" in said or "temporary failure in name resolution" in said:
        return RetryableSmsError(f"cannot connect to {provider} (refused or not found): not sent")
    if isinstance(exc, requests.exceptions.Timeout) or "timed out" in said or "timeout" in said:
        return UnknownOutcomeError(f"{provider} did not answer in time")
    return UnknownOutcomeError(f"connection to {provider} lost while sending (it may have the message)")
