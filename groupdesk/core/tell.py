"""Telling the complainant (进度告知): the request, its kinds, its bounds, and who may tell (the role rule)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from groupdesk.core import validation as v
from groupdesk.core.times import time_problem

TellKind = Literal["progress", "delay", "visit", "custom", "link"]
TELL_KINDS: tuple[str, ...] = ("progress", "delay", "visit", "custom")  # what staff choose
NEW_LINK = "link"  # sent by `groupdesk status-link revoke`: their new status link
TIMED = ("delay", "visit")  # these name a time: the new time (delay) or the visit's (visit)
TELL_TEXT_MAX = 60  # `custom`: one SMS parameter
# Who speaks to the complainant for the company: the incident's owner (首问负责人), or one of these roles.
TELLERS = ("hall_lead", "centre_director")


class TellComplainant(BaseModel):
    """Tell the lead complainant something now: progress, a delay (the new time), a visit, or a short text."""

    actor: str
    message: TellKind
    text: str = ""  # custom only
    at: datetime | None = None  # delay and visit only
    roles: list[str] | None = None


def may_tell(actor: str, owner: str | None, roles) -> bool:
    """The owner, a hall lead or the centre director speaks for the company (tell, the status link)."""
    return bool(actor) and (actor == owner or bool(set(TELLERS) & set(roles)))


def tell_refusal(actor: str, incident_id: str, owner: str | None) -> str:
    return (f"{actor} may not speak to the complainant of {incident_id}: only its owner ({owner or '-'}),"
            f" the hall lead or the centre director may")


def tell_problems(message: str, text: str, at: datetime | None, now: datetime) -> dict[str, str]:
    """Every problem of a tell as typed, by field (the CLI, the API and the workflow's validator say the same)."""
    problems: dict[str, str] = {}
    if message not in (*TELL_KINDS, NEW_LINK):
        return {"message": f"{v.shown(message)} is not a message; choose one of {', '.join(TELL_KINDS)}"}
    if message == "custom":
        if problem := v.text_problem(text, TELL_TEXT_MAX, required="write the text to send (at most 60 characters)",
                                     one_line=True):
            problems["text"] = problem
    elif text:
        problems["text"] = f"only a custom message takes a text; {message} is a fixed text"
    if message in TIMED:
        if at is None:
            problems["at"] = f"a {message} message names a time; give it like 2026-11-25 17:00 (local time)"
        elif problem := time_problem(at, now):  # the one rule for every agreed time
            problems["at"] = problem
    elif at is not None:
        problems["at"] = f"only delay and visit messages name a time; {message} does not"
    return problems


INFO_MAX = 500  # what a complainant adds from their status page
VISIT_EVERY_S = 3600  # a status link's visits are on the timeline at most once an hour


class FromComplainant(BaseModel):
    """What the lead complainant does on their status page: opened it (`visit`) or added information (`info`).
    `phone_key` is the keyed hash of their phone the link was issued for (the incident's follow-up key)."""

    kind: Literal["visit", "info"]
    phone_key: str
    text: str = ""


def info_problem(text: str) -> str | None:
    return v.text_problem(text, INFO_MAX, required="请填写补充内容 / write what you want to add")
