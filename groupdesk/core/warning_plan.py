"""Warning tiers as Chinese plans order them, and the playbook's `warning_plan:` section.

一级 is the MOST severe: 一级 > 二级 > 三级 > 四级. Tier 0 means no plan is running. So "tier 3
or above" means tiers 3, 2 and 1, and raising a plan lowers its number (3 -> 2).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from groupdesk.core.roles import LANGUAGES

TIERS = (1, 2, 3, 4)  # most severe first
NUMERALS = {1: "一", 2: "二", 3: "三", 4: "四"}
PLAN_STEP = "warning_plan"  # the `step` of the plan's actions (raise, end) in `actions` and in outcomes
RAISE, END = "raise", "end"


def active(tier: int) -> bool:
    return tier in TIERS


def at_or_above(tier: int, threshold: int) -> bool:
    """True if a plan runs at `threshold` or a more severe tier (at_or_above(2, 3) is True)."""
    return active(tier) and tier <= threshold


def more_severe(a: int, b: int) -> int:
    """The more severe of two tiers; 0 (no plan) only if neither is active."""
    running = [t for t in (a, b) if active(t)]
    return min(running) if running else 0


def most_severe(tiers) -> int:
    found = 0
    for tier in tiers:
        found = more_severe(found, tier)
    return found


def tier_name(tier: int, lang: str) -> str:
    """三级 / tier 3; '' when no plan runs (a template says so in its own words)."""
    if not active(tier):
        return ""
    return f"tier {tier}" if lang == "en" else f"{NUMERALS[tier]}级"


def tier_names(tier: int) -> dict[str, str]:
    return {lang: tier_name(tier, lang) for lang in LANGUAGES}


class PlanNotice(BaseModel):
    """Who is told when the plan changes, and in what words."""

    notify: list[str]
    template: str


class WarningPlan(BaseModel):
    """Who manages a running plan (raises it, ends it: actions on the incident) and who hears of it."""

    title: dict[str, str] = Field(default_factory=lambda: {"zh-CN": "供电服务预警预案", "en": "warning plan"})
    managed_by: str = "centre_director"
    raised: PlanNotice | None = None
    ended: PlanNotice | None = None  # told when the director ends it, or when it ends automatically at close

    def action_label(self, action: str, lang: str, to_tier: int = 0) -> str:
        """升级为二级预警 / 结束预警预案: a raise names the tier it goes to, when known."""
        if action == RAISE:
            target = tier_name(to_tier, lang)
            if not target:
                return "raise the warning plan" if lang == "en" else "升级预警"
            return f"raise the plan to {target}" if lang == "en" else f"升级为{target}预警"
        named = tier_name(to_tier, lang)
        if lang == "en":
            return f"end the {named} warning plan" if named else "end the warning plan"
        return f"结束{named}预警预案"


def plan_actions(plan: WarningPlan | None, status: str, tier: int) -> list[str]:
    """What a running plan's manager may do now: raise it (up to 一级) and end it."""
    if plan is None or status != "open" or not active(tier):
        return []
    return ([RAISE] if tier > 1 else []) + [END]
