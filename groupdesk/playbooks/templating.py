"""SMS templates: Jinja2 in a sandbox with StrictUndefined, and the variables each use provides."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)

# Every message knows the incident; step messages know their step too.
INCIDENT_VARIABLES = {
    "incident_id": "xicheng-20261122-a1b2c3",
    "hall_name": "西城营业厅",
    "headcount": 20,
    "summary": "智能电表换装后电量异常增长",
    "playbook_title": "智能电表集体投诉现场处置",
    "warning_tier": 0,
    "tier_name": "三级",  # the running plan's tier in words (三级 / tier 3); '' when none runs
    "topic": "电表计量问题",  # the playbook's `topic:`
    "rejection_reason": "",  # the director's reason, once the warning plan was refused
    "drill": False,
    "recipient_name": "孙丽",
    "recipient_role": "营业厅负责人",  # the role's label in the recipient's language: for showing
    "recipient_role_id": "hall_lead",  # the role's id (e.g. lead_complainant): for {% if %}
}
STEP_VARIABLES = {"step_title": "领头人单独谈话", "owner_role": "营业厅负责人", "owner_role_id": "hall_lead",
                  "deadline": "11月22日 10:30"}

# Extra variables by the kind of use a template is put to in a playbook.
USE_VARIABLES: dict[str, dict[str, Any]] = {
    "step_started": STEP_VARIABLES,
    "approval_request": {**STEP_VARIABLES, "approval_code": "482913"},
    "reminder": STEP_VARIABLES,
    "escalation": {**STEP_VARIABLES, "escalated_from": "营业厅负责人", "level": 1, "overdue": "10m"},
    "outcome_notice": {**STEP_VARIABLES, "outcome_label": "同意", "actor_name": "王军", "reason": "",
                       "appointment_at": "11月25日 18:00"},  # appointment_at: a stay outcome's appointment, else empty
    "appointment_reminder": {**STEP_VARIABLES, "appointment_at": "11月25日 10:00"},
    "appointment_notice": {**STEP_VARIABLES, "outcome_label": "已商定校验时间", "actor_name": "孙丽", "reason": "",
                           "appointment_at": "11月25日 10:00"},
    "plan_notice": {"actor_name": "王军", "reason": "", "plan_tier": "三级"},
    "progress_report": {"current_steps": "计量人员现场讲解", "event": "主任同意启动三级预警"},
    "close_notice": {"resolution": "客户接受解释", "warning_ended": True, "ended_tier": "三级"},
    "follow_up": {"lead_name": "张先生"},
}


class TemplateProblem(ValueError):
    pass


def variables_for(use: str) -> dict[str, Any]:
    return {**INCIDENT_VARIABLES, **USE_VARIABLES[use]}


def check_template(source: str, use: str) -> None:
    """Raise TemplateProblem if the template does not parse or uses a variable `use` lacks."""
    if problem := _template_problem(source, use):
        raise TemplateProblem(problem)


@lru_cache(maxsize=4096)
def _template_problem(source: str, use: str) -> str | None:
    """What is wrong with `source` as a `use` message, else None: the same text checked once per process (every
    playbook load checks each of its templates; a copy of the playbooks elsewhere has the same texts)."""
    provided = variables_for(use)
    try:
        parsed = _env.parse(source)
    except TemplateSyntaxError as exc:
        return f"syntax error on line {exc.lineno}: {exc.message}"
    unknown = sorted(meta.find_undeclared_variables(parsed) - set(provided))
    if unknown:
        return (f"uses {', '.join(unknown)}, which a {use} message does not provide; "
                f"available: {', '.join(sorted(provided))}")
    try:
        render(source, provided)
    except Exception as exc:  # a filter misuse, an attribute of a plain value, ...
        return f"does not render with sample values: {exc}"
    return None


@lru_cache(maxsize=512)
def _compiled(source: str):
    return _env.from_string(source)


def render(source: str, context: dict[str, Any]) -> str:
    return _compiled(source).render(**context).strip()
