"""Why a start is a repeat complaint, in ids (kept in the start and the state) and in words (SMS, timeline)."""

from __future__ import annotations

REASONS = ("same_complainant", "same_account", "same_community", "same_ticket")  # in the order they are named
REASON_WORDS = {
    "same_complainant": ("同一领头人", "the same lead complainant"),
    "same_account": ("同一户号", "the same account number"),
    "same_community": ("同一小区", "the same community"),
    "same_ticket": ("同一工单号", "the same work-order number"),
}


def reason_words(reasons: list[str]) -> dict[str, str]:
    """The reasons in words, per language (a start from before reasons were kept: the same complainant)."""
    chosen = [r for r in REASONS if r in reasons] or ["same_complainant"]
    return {"zh-CN": "、".join(REASON_WORDS[r][0] for r in chosen),
            "en": ", ".join(REASON_WORDS[r][1] for r in chosen)}
