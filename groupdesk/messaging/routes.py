"""Which provider sends to which number: GROUPDESK_SMS_ROUTES, by the number's country calling code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers

from groupdesk.core.phones import country_code

PROVIDERS = ("outbox", "twilio", "aliyun", "tencent")
# Providers that send only a registered signature and an approved template with parameters, never free text.
TEMPLATE_PROVIDERS = ("aliyun", "tencent")
_ITEM = re.compile(r"^(\*|\d{1,3})=([a-z]+)$")


class RoutesError(ValueError):
    """GROUPDESK_SMS_ROUTES does not parse; the message names the item and the fix."""


@dataclass(frozen=True)
class Routes:
    default: str
    by_code: dict[str, str] = field(default_factory=dict)  # "86" -> "aliyun"

    def provider_for(self, number: str) -> str:
        """The provider of an E.164 number (+8613...); a number that does not parse goes to the default."""
        code = country_code(number)  # read from the E.164 digits: the number was parsed where it came in
        return self.default if code is None else self.by_code.get(str(code), self.default)

    def providers(self) -> list[str]:
        """Every provider a message may go to, in PROVIDERS order."""
        used = {self.default, *self.by_code.values()}
        return [p for p in PROVIDERS if p in used]

    def template_providers(self) -> list[str]:
        return [p for p in self.providers() if p in TEMPLATE_PROVIDERS]


def parse_routes(text: str, default: str) -> Routes:
    """`86=aliyun,852=twilio,*=twilio`; `*` (else GROUPDESK_SMS_PROVIDER) takes every other number."""
    by_code: dict[str, str] = {}
    fallback = default
    for raw in (text or "").split(","):
        item = raw.strip().replace(" ", "")
        if not item:
            continue
        found = _ITEM.match(item)
        if not found:
            raise RoutesError(f"GROUPDESK_SMS_ROUTES: {item[:40]!r} is not CODE=PROVIDER; write country calling"
                              " codes without +, e.g. 86=aliyun,852=twilio,*=twilio")
        code, provider = found.groups()
        if provider not in PROVIDERS:
            raise RoutesError(f"GROUPDESK_SMS_ROUTES: {item!r} names no provider; use {', '.join(PROVIDERS)}")
        if code != "*" and phonenumbers.region_code_for_country_code(int(code)) == "ZZ":
            raise RoutesError(f"GROUPDESK_SMS_ROUTES: {code} is not a country calling code (86 is mainland China)")
        if code in by_code or (code == "*" and fallback != default):
            raise RoutesError(f"GROUPDESK_SMS_ROUTES: {code} is routed twice; keep one")
        if code == "*":
            fallback = provider
        else:
            by_code[code] = provider
    return Routes(default=fallback, by_code=by_code)
