"""What an SMS reply says: an approval decision with its code, a satisfaction score, or neither."""

from __future__ import annotations

import re
from dataclasses import dataclass

_APPROVE = re.compile(r"^(?:1|y|yes|同意|批准)\s+(\d{4,8})\s*$", re.I)
_REJECT = re.compile(r"^(?:2|n|no|不同意|不批准)\s+(\d{4,8})(?:\s+(.*))?$", re.I | re.S)
_SCORE = re.compile(r"^([1-5])(?:\s*分)?(?:[\s,,.。:：]+(.*))?$", re.S)


@dataclass(frozen=True)
class ApprovalReply:
    code: str
    approve: bool
    reason: str = ""


@dataclass(frozen=True)
class SurveyReply:
    score: int
    comment: str = ""


def parse_reply(text: str) -> ApprovalReply | SurveyReply | None:
    body = " ".join((text or "").split()) if "\n" not in (text or "") else (text or "").strip()
    body = body.strip()
    if m := _APPROVE.match(body):
        return ApprovalReply(code=m.group(1), approve=True)
    if m := _REJECT.match(body):
        return ApprovalReply(code=m.group(1), approve=False, reason=(m.group(2) or "").strip())
    if m := _SCORE.match(body):
        return SurveyReply(score=int(m.group(1)), comment=(m.group(2) or "").strip())
    return None
