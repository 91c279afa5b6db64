"""The bounds on everything people type, in one place: the CLI, the console, the API and the
workflow's validators all ask here, so one rule gives one answer everywhere.

Each check returns the problem (without the field's name) or None; callers prefix the field as
their user knows it (`--note` on the command line, `note` in a form or JSON body).
"""

from __future__ import annotations

import math
import re
import unicodedata

from groupdesk.core.phones import Phone

SUMMARY_MAX = 500
NAME_MAX = 64
TEXT_MAX = 2000  # notes, reasons, comments
DATA_KEYS_MAX = 10
DATA_VALUE_MAX = 200
HEADCOUNT_MIN, HEADCOUNT_MAX = 1, 10_000  # a playbook's `applies.headcount` narrows it
TIME_SCALE_MAX = 1_000_000
PHONE_MAX = 32
ADDRESS_MAX = 200
DEMANDS_MAX = 1000
PROMISE_MAX = 500  # what was promised
PROMISES_MAX = 50  # promises in one incident
CATEGORIES = ("service", "business", "outage", "power_quality", "grid_construction")  # 95598; business incl. metering
COMPLAINANT_TYPES = ("venting", "authority", "gain", "publicity")  # seed 003
ACCOUNT_NO = re.compile(r"^[0-9][0-9-]{3,31}\Z")  # 户号: digits (a '-' allowed), 4 to 32
SHOWN_MAX = 40  # how much of a bad value an error message repeats
# All the free text an incident's timeline may hold (notes, reasons, comments): the state travels whole
# in queries, in its result and across a continue-as-new, all of which Temporal caps at 2 MB.
TIMELINE_TEXT_MAX = 200_000

INCIDENT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}\Z")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")  # playbook step, outcome and data-key ids
STAFF_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}\Z")
PLAYBOOK_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}\Z")
MULTI_LINE = "\n\t"  # the only control characters a multi-line field (a note, a reason) may hold

# How each field is called on the command line, when that differs from its form / JSON name.
CLI_FLAGS = {
    "hall": "--hall", "headcount": "--headcount", "lead_name": "--lead-name", "lead_phone": "--lead-phone",
    "summary": "--summary", "playbook": "--playbook", "time_scale": "--time-scale", "lead_lang": "--lead-lang",
    "incident_id": "--incident-id", "started_by": "--as", "actor": "--as", "note": "--note", "data": "--data",
    "reason": "--reason", "comment": "--comment", "score": "--score", "text": "TEXT", "step": "STEP",
    "outcome": "OUTCOME", "tier": "--tier", "stage": "--stage",
    "address": "--address", "account_no": "--account-no", "category": "--category", "demands": "--demands",
    "complainant_type": "--complainant-type", "media_present": "--media", "to": "--to",
    "person_involved": "--person-involved", "channel": "--channel", "ticket_no": "--ticket-no", "feeder": "--feeder", "evidence": "--evidence", "cid": "CID",
    "what": "--what", "due": "--due", "owner": "--owner", "promise": "PROMISE_ID",
}


class InputError(ValueError):
    """What someone typed is wrong: `field` names it, `message` says how to fix it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def cli_flag(field: str) -> str:
    return CLI_FLAGS.get(field, field)


def shown(value: object) -> str:
    """A bad value as an error message repeats it: quoted, and cut short."""
    text = str(value)
    return repr(text if len(text) <= SHOWN_MAX else text[:SHOWN_MAX] + "…")


def normal_text(value: str) -> str:
    """Text as it is kept: Unicode NFC (one code point per letter, as it is shown), and a browser's CR LF
    line ends as LF. Every check below reads text this way, and every door stores it this way."""
    value = unicodedata.normalize("NFC", value or "")
    return value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value


def normal_fields(request):
    """A request (a pydantic model) with every text field, and every text value of a map, as it is kept;
    a plain text as it is kept; anything else as it is."""
    if isinstance(request, str):
        return normal_text(request)
    if not hasattr(request, "model_copy"):
        return request
    changes: dict = {}
    for name, value in request:
        if isinstance(value, str) and (kept := normal_text(value)) != value:
            changes[name] = kept
        elif isinstance(value, dict) and value and all(isinstance(x, str) for x in value.values()):
            kept_map = {key: normal_text(x) for key, x in value.items()}
            if kept_map != value:
                changes[name] = kept_map
    return request.model_copy(update=changes) if changes else request


def hidden_problem(value: str, *, multi_line: bool = False) -> str | None:
    """The one rule for characters that are not what they look like: C0 and C1 controls (newline and tab
    only in a multi-line field), bidi overrides, isolates and marks, zero-width and other format characters,
    line and paragraph separators, lone surrogates. None if the text is plain."""
    for char in value:
        if char.isprintable() and char != "\u3164":  # (fast path; U+3164 Hangul filler prints as nothing)
            continue
        kind = unicodedata.category(char)
        if kind in ("Zs", "Co", "Cn") or (multi_line and char in MULTI_LINE):
            continue  # spaces, private use (some rare hanzi live there), code points newer than Python's table
        code = f"U+{ord(char):04X}"
        if char in "\n\t\r\x0b\x0c\x85\u2028\u2029":
            return "contains a line break or tab; write it on one line" if not multi_line else \
                f"contains a {code} line break; use a plain new line"
        if kind == "Cs":
            return f"contains a lone surrogate ({code}), which is not text; send valid UTF-8"
        name = unicodedata.name(char, "")
        if kind == "Cc":
            return f"contains a control character ({code}); remove it"
        if "\u202a" <= char <= "\u202e" or "\u2066" <= char <= "\u2069" or char in "\u200e\u200f\u061c":
            return f"contains {code} {name}, which reorders how the text reads; remove it"
        return f"contains {code} {name or 'an invisible character'}, which shows as nothing; remove it"
    return None


def text_problem(value: str | None, limit: int, *, required: str | None = None, one_line: bool = False) -> str | None:
    """Free text, read as it is kept (normal_text): within `limit` characters, none hidden (hidden_problem);
    `required` says what to write if empty."""
    value = normal_text(value or "")
    if required and not value.strip():
        return required
    if len(value) > limit:
        return f"{len(value):,} characters is too long; keep it within {limit:,}"
    return hidden_problem(value, multi_line=not one_line)


def name_problem(value: str | None, what: str) -> str | None:
    return text_problem(value, NAME_MAX, required=f"give {what}", one_line=True)


def summary_problem(value: str | None) -> str | None:
    return text_problem(value, SUMMARY_MAX, required="say in a few words what the group complains about")


def note_problem(value: str | None, required: str | None = None) -> str | None:
    return text_problem(value, TEXT_MAX, required=required)


def headcount_problem(value: int | None) -> str | None:
    if value is None:
        return f"give the number of people who came ({HEADCOUNT_MIN} to {HEADCOUNT_MAX:,})"
    if value < HEADCOUNT_MIN:
        return f"{value} is not a number of people; give at least {HEADCOUNT_MIN}"
    if value > HEADCOUNT_MAX:
        return f"{value:,} is more people than a hall holds; give a number from {HEADCOUNT_MIN} to {HEADCOUNT_MAX:,}"
    return None


def time_scale_problem(value: float | None, drill: bool) -> str | None:
    if value is None:
        return None
    if not drill:
        return "only a drill may run on compressed time; add --drill"
    if not math.isfinite(value) or not 1 <= value <= TIME_SCALE_MAX:
        return f"{value} is out of range; give a number from 1 to {TIME_SCALE_MAX}"
    return None


TIERS = (0, 4)  # warning tiers: 0 none, 4 .. 1 (一级, the most severe)


def tier_problem(value: int | None) -> str | None:
    if value is not None and not TIERS[0] <= value <= TIERS[1]:
        return f"{value} is not a warning tier; give {TIERS[0]} (none) to {TIERS[1]}"
    return None


def incident_id_problem(value: str) -> str | None:
    if not INCIDENT_ID.match(value or ""):
        return (f"{shown(value)} is not an incident id; use 3 to 64 lower-case letters, digits and '-',"
                " starting with a letter or digit")
    return None


def identifier_problem(value: str, what: str) -> str | None:
    if not IDENTIFIER.match(value or ""):
        return f"{shown(value)} is not a {what} id (lower-case letters, digits and '_', at most 64)"
    return None


def staff_id_problem(value: str) -> str | None:
    if not STAFF_ID.match(value or ""):
        return f"{shown(value)} is not a staff id (like sun.li); see `groupdesk directory`"
    return None


def playbook_id_problem(value: str) -> str | None:
    if not PLAYBOOK_ID.match(value or ""):
        return f"{shown(value)} is not a playbook id; see `groupdesk playbooks list`"
    return None


def checked_phone(value: str) -> tuple[Phone | None, str | None]:
    """The one parse of a typed phone number: (the Phone, None), or (None, the line that says how to write it).
    A Phone given back is already parsed, and not parsed again."""
    if isinstance(value, Phone):
        return value, None
    if len(value or "") > PHONE_MAX:
        return None, f"{len(value)} characters is not a phone number; write it like +86 139 0000 0001"
    try:
        return Phone.parse(value), None
    except ValueError as exc:
        return None, str(exc).replace(repr(value), shown(value))


def choice_problem(value: str | None, allowed: tuple[str, ...], what: str) -> str | None:
    """An optional value from a fixed list: empty, or one of `allowed`."""
    if value and value not in allowed:
        return f"{shown(value)} is not a {what}; use one of {', '.join(allowed)} (or leave it out)"
    return None


def registration_problems(address: str = "", account_no: str = "", category: str | None = None,
                          demands: str = "", complainant_type: str | None = None) -> dict[str, str]:
    """The optional registration fields (登记): every problem, by form field."""
    checks = {
        "address": text_problem(address, ADDRESS_MAX, one_line=True),
        "account_no": (f"{shown(account_no)} is not an account number (户号); give its digits, 4 to 32"
                       if account_no and not ACCOUNT_NO.match(account_no.strip()) else None),
        "category": choice_problem(category, CATEGORIES, "complaint category"),
        "demands": text_problem(demands, DEMANDS_MAX),
        "complainant_type": choice_problem(complainant_type, COMPLAINANT_TYPES, "complainant type"),
    }
    return {name: problem for name, problem in checks.items() if problem}


def data_problems(data: dict[str, str]) -> dict[str, str]:
    """Outcome data: a few known-looking keys with short values. Keys are `data.<key>`."""
    if len(data) > DATA_KEYS_MAX:
        return {"data": f"{len(data)} values is too many; give at most {DATA_KEYS_MAX}"}
    problems: dict[str, str] = {}
    for key, value in data.items():
        if not IDENTIFIER.match(str(key)):
            problems["data"] = f"{shown(key)} is not a data name (lower-case letters, digits and '_', like calibration_at)"
        elif problem := text_problem(str(value), DATA_VALUE_MAX, one_line=True):
            problems[f"data.{key}"] = problem
    return problems


def data_size_problem(data: dict[str, str]) -> str | None:
    """The size bounds and the text rule (what the workflow's validator checks; the names are the playbook's)."""
    if len(data) > DATA_KEYS_MAX:
        return f"{len(data)} values is too many; give at most {DATA_KEYS_MAX}"
    for key, value in data.items():
        if len(key) > NAME_MAX or len(value) > DATA_VALUE_MAX:
            return f"{shown(key)} is too long; names are at most {NAME_MAX} and values {DATA_VALUE_MAX} characters"
        if problem := hidden_problem(normal_text(value)):
            return f"{shown(key)} {problem}"
    return None


def outcome_problems(step: str, outcome: str, note: str, data: dict[str, str]) -> dict[str, str]:
    """What is wrong with an outcome as typed, before it is sent to the workflow."""
    problems: dict[str, str] = {}
    if problem := identifier_problem(step, "step"):
        problems["step"] = problem
    if problem := identifier_problem(outcome, "outcome"):
        problems["outcome"] = problem
    if problem := note_problem(note):
        problems["note"] = problem
    problems.update(data_problems(data))
    return problems


def promise_what_problem(value: str | None) -> str | None:
    return text_problem(value, PROMISE_MAX, required="say what was promised, e.g. 5个工作日内反馈校验结果")


PROMISE_ID = re.compile(r"^p[1-9][0-9]{0,3}\Z")


def promise_id_problem(value: str) -> str | None:
    if not PROMISE_ID.match(value or ""):
        return f"{shown(value)} is not a promise id (like p1); see the incident's promises in `groupdesk show ID`"
    return None


def timeline_text(entries) -> int:
    """How many characters of text an incident's timeline holds."""
    return sum(len(e.detail) for e in entries)


def room_problem(entries, text: str) -> str | None:
    """Refuse text that would take the timeline past its budget (the step can still be recorded without it)."""
    held = timeline_text(entries)
    if text and held + len(text) > TIMELINE_TEXT_MAX:
        return (f"this incident's timeline already holds {held:,} characters of text (at most {TIMELINE_TEXT_MAX:,});"
                " record it without the text, or shorten it")
    return None


def first(problems: dict[str, str], cli: bool = False) -> str | None:
    """One line naming the first field that is wrong, or None."""
    for field, message in problems.items():
        base, _, rest = field.partition(".")
        name = cli_flag(base) + (f" {rest}" if rest else "") if cli else field
        return f"{name}: {message}"
    return None
