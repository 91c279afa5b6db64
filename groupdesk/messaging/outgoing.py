"""One outbound message made ready for its provider: free text for Twilio and the outbox, or an
approved template code with its parameters (and the text the phone will show) for Aliyun and Tencent."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from groupdesk.messaging.domestic import out_id_for
from groupdesk.messaging.template_text import NotExpressible, shape_of
from groupdesk.playbooks.templating import render

DRILL_PREFIX = "【演练】"  # free text; a domestic provider's drill says （演练） (template_text.DRILL_MARK)
PARKED_UNKNOWN = ("A delivery report for it settles this; otherwise ops decide: `groupdesk ops retry ID STEP` sends"
                  " it again, `groupdesk sms mark-sent KEY --as OPS` records it as sent")


@dataclass(frozen=True)
class Prepared:
    body: str  # the text the phone shows (for a template: 【signature】 and the values filled in)
    template_code: str | None = None
    params: str | None = None  # JSON, as sent
    out_id: str | None = None
    problem: tuple[str, str] | None = None  # (code, reason): cannot be sent; the row is stored as failed


def prepare(provider, source: str, context: dict[str, Any], drill: bool, key: str, registry_loader=None) -> Prepared:
    """The message for this provider. A template provider without an approved template for the text gets
    a problem (never free text): the playbook check at load makes that rare, a registry edit can still."""
    if not getattr(provider, "templates", False):
        body = render(source, context)
        return Prepared(body=DRILL_PREFIX + body if drill else body)
    out_id = out_id_for(key)
    try:
        shape = shape_of(source)
    except NotExpressible as exc:
        return Prepared(body=render(source, context), out_id=out_id,
                        problem=("no-template", f"the template cannot be a {provider.name} template: it {exc}"))
    text = shape.text(provider.name, drill)
    registry = registry_loader() if registry_loader else None
    entry = registry.get(provider.name, text) if registry else None
    filled = shape.fill(provider.name, context, provider.sign_name, drill, provider.limits)
    if entry is None or not entry.approved:
        return Prepared(body=filled.text, out_id=out_id, problem=(
            "no-template", f"{provider.name} has no approved template for this text"
                           f" ({entry.status if entry else 'unregistered'}); run `groupdesk sms templates sync"
                           f" --provider {provider.name}` (README: SMS through Aliyun and Tencent Cloud)"))
    return Prepared(body=filled.text, template_code=entry.code, out_id=out_id,
                    params=json.dumps(filled.params, ensure_ascii=False, separators=(",", ":")))
