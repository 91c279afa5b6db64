"""Loader checks for the playbook language of warning plans and topics (a part of playbook_loader)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from groupdesk.core.playbook import Playbook
from groupdesk.core.roles import LANGUAGES
from groupdesk.core.warning_plan import PLAN_STEP


def warning_plan_problems(pb: Playbook, role: Callable, template: Callable) -> Iterator[str]:
    """`warning_plan:` names a role and notices with templates; `topic:` is given where templates use it."""
    plan = pb.warning_plan
    if plan is not None:
        if PLAN_STEP in pb.steps:
            yield f"step {PLAN_STEP!r}: the name is the warning plan's own (its actions); rename the step"
        yield from role("warning_plan.managed_by", plan.managed_by)
        for change in ("raised", "ended"):
            notice = getattr(plan, change)
            if notice is None:
                continue
            for r in notice.notify:
                yield from role(f"warning_plan.{change}.notify", r, recipients=True)
            yield from template(f"warning_plan.{change}.template", notice.template, "plan_notice")
    using = sorted(name for name, variants in pb.templates.items()
                   if any(re.search(r"{{[^}]*\btopic\b", text) for text in variants.values()))
    missing = [lang for lang in LANGUAGES if not pb.topic.get(lang)]
    if using and missing:
        yield (f"topic: templates {', '.join(using)} use {{{{ topic }}}}; say what the complaint is about in"
               f" {', '.join(missing)}, e.g. topic: {{zh-CN: 电表计量问题, en: your meter}}")
