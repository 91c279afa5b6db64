"""A timeline entry in words: the event's text in the reader's language (an outcome, a promise, an amendment's
before and after, a finding, a piece of evidence), with names for people, halls and times."""

from __future__ import annotations

import re
from datetime import datetime

from groupdesk.core.intake import channel_label
from groupdesk.core.models import TimelineEntry
from groupdesk.core.playbook import Playbook
from groupdesk.core.repeats import reason_words
from groupdesk.core.roles import role_label
from groupdesk.core.warning_plan import tier_name
from groupdesk.core.workcal import format_local
from groupdesk.people.directory import Directory
from groupdesk.web.i18n import WORDS
from groupdesk.web.labels import (CLOSE_REASONS, error_text, field_label, hall_name, person_name, pick, purpose_label,
                                  roles_text)


def _local(raw: str, lang: str) -> str:
    try:
        return format_local(datetime.fromisoformat(raw), lang)
    except ValueError:
        return raw


def _outcome_in(pb: Playbook, step: str | None, label: str, lang: str) -> str:
    """The outcome label (logged in zh-CN) in the reader's language."""
    found = pb.steps.get(step or "")
    for name, outcome in (found.outcomes.items() if found else []):
        if label in outcome.label.values():
            return pb.outcome_label(step, name, lang)
    return label


def _amended_value(field: str, value: str, lang: str) -> str:
    prefix = {"category": "cat_", "complainant_type": "ct_"}.get(field)
    if prefix and prefix + value in WORDS:
        return pick(WORDS[prefix + value], lang)
    if field == "channel" and value != "-":
        return channel_label(value, lang)
    if field == "media_present" and value in ("yes", "no"):
        return pick(("有", "yes") if value == "yes" else ("无", "no"), lang)
    return value


def amended_text(detail: str, lang: str) -> str:
    """A registration_amended entry: "field: before -> after; ..." (and the hall lead told) in words."""
    main, sep, reason = detail.partition(" — ")
    words = []
    for part in main.split("; "):
        found = re.fullmatch(r"([a-z_]+): (.*) -> (.*)", part)
        if found and found.group(1) in WORDS:
            field, before, after = found.groups()
            words.append(f"{pick(WORDS[field], lang)}: {_amended_value(field, before, lang)} → "
                         f"{_amended_value(field, after, lang)}")
        elif part.startswith("outside this playbook's range") and lang != "en":
            words.append("人数超出本方案适用范围,已通知营业厅负责人")
        else:
            words.append(part)
    return "; ".join(words) + (f" — {reason}" if sep else "")
FINDING = re.compile(r"(founded|not founded|partly founded); cause (\S+); responsible (.*?) \((\S+)\): (.*)", re.S)
FOUNDED_WORDS = {"founded": ("有效投诉(属实)", "founded"), "partly founded": ("部分属实", "partly founded"),
                 "not founded": ("不属实", "not founded")}


def _finding_words(detail: str, directory: Directory | None, lang: str) -> str:
    """A finding's timeline entry in words: founded or not, the cause's label, names of people and unit."""
    from groupdesk.playbooks.causes import cause_label, current_causes

    found = FINDING.fullmatch(detail)
    if not found:
        return detail
    founded, cause, people, unit, reason = found.groups()
    names = "、".join(person_name(directory, p.strip(), lang) or p for p in people.split(",") if p.strip() != "-")
    place = ""
    if unit != "-" and directory is not None:
        u = directory.unit(unit)
        place = hall_name(directory, unit, lang) if directory.hall(unit) else ((u.name_en or u.name) if u and lang == "en"
                                                                              else u.name if u else unit)
    words = [pick(FOUNDED_WORDS[founded], lang, founded), cause_label(current_causes(), cause, lang)]
    if names:
        words.append(("responsible: " if lang == "en" else "责任人:") + names + (f" ({place})" if place else ""))
    return ("; " if lang == "en" else ";").join(words) + (": " if lang == "en" else ":") + reason


EVIDENCE = re.compile(r"(\S+) (\d+) bytes sha256 ([0-9a-f]{64})")
EVIDENCE_KINDS = {"image/jpeg": ("JPEG 照片", "JPEG photo"), "image/png": ("PNG 图片", "PNG image"),
                  "image/webp": ("WebP 图片", "WebP image"), "application/pdf": ("PDF 文件", "PDF document")}


def _evidence_words(detail: str, lang: str) -> str:
    """An evidence_added entry ("image/jpeg 123456 bytes sha256 <hash>") in words: kind, size, the hash's start."""
    found = EVIDENCE.fullmatch(detail)
    if not found:
        return detail
    kind, size, sha = found.groups()
    size_n = int(size)
    shown = f"{size_n / 1024 / 1024:.1f} MB" if size_n >= 1024 * 1024 else f"{max(1, round(size_n / 1024))} KB"
    return (f"{pick(EVIDENCE_KINDS.get(kind), lang, kind)}, {shown} (SHA-256 {sha[:12]}…)" if lang == "en"
            else f"{pick(EVIDENCE_KINDS.get(kind), lang, kind)},{shown}(SHA-256 {sha[:12]}…)")


def event_text(entry: TimelineEntry, pb: Playbook, directory: Directory | None, lang: str) -> str:
    """The detail of one timeline entry, with every identifier in it turned into words."""
    kind, detail, en = entry.kind, entry.detail or "", lang == "en"
    main, _, note = detail.partition(" — ")
    note = f" — {note}" if note else ""
    if kind == "incident_started":
        count, _, summary = detail.partition("; ")
        people = count.split(" ")[0]
        return f"{people} people; {summary}" if en else f"{people}人;{summary}"
    if kind == "handover":
        head, _, reason = detail.partition(": ")
        before, _, after = head.partition(" -> ")
        names = [person_name(directory, p) if directory and p != "-" else p for p in (before, after)]
        return (f"{names[0]} → {names[1]}" + (f": {reason}" if reason else "")) if en else \
            f"{names[0]} → {names[1]}" + (f":{reason}" if reason else "")
    if kind == "registration_amended":
        return amended_text(detail, lang)
    if kind == "finding_recorded":
        return _finding_words(detail, directory, lang)
    if kind == "evidence_added":
        return _evidence_words(detail, lang)
    if kind == "step_waiting":
        missing = [pb.step_title(s.strip(), lang) for s in detail.removeprefix("waiting for ").split(",")]
        return ("waiting for " if en else "等待:") + "、".join(missing)
    if kind in ("outcome", "resolved"):
        head, sep, rest = detail.partition(": ") if kind == "resolved" else (main, "", "")
        text = _outcome_in(pb, entry.step, head, lang)
        return text + (f": {rest}" if sep else "") + (note if kind == "outcome" else "")
    if kind == "recorded":
        parts = detail.split(" — ")
        words = [_outcome_in(pb, entry.step, parts[0], lang)]
        for part in parts[1:]:
            field, _, when = part.partition(" ")
            when, _, was = when.partition(" (was ")  # a re-promise: the time agreed before
            earlier = (f" (was {_local(was.rstrip(')'), lang)})" if en else f"(原定 {_local(was.rstrip(')'), lang)})") \
                if was else ""
            words.append(f"{field_label(field, lang)} {_local(when, lang)}{earlier}" if re.fullmatch(r"[a-z_]+", field)
                         and when[:4].isdigit() else part)
        return " — ".join(words)
    if kind == "warning_tier":  # "warning tier 2 (raised from 3)"; 一级 is the most severe
        tiers = [int(n) for n in re.findall(r"\d", detail)] or [0]
        name = tier_name(tiers[0], lang)
        if len(tiers) > 1:
            return f"warning plan raised to {name}" if en else f"预警升级为{name}预警"
        return f"warning plan started at {name}" if en else f"启动{name}预警"
    if kind == "warning_plan_ended":  # "tier 3 warning plan ended: automatically at close" (older: "tier-3 ...")
        found = re.match(r"tier.(\d) warning plan ended(?:: (.*))?", detail)
        name, why = (tier_name(int(found.group(1)), lang), found.group(2) or "") if found else ("", "")
        if why == "automatically at close":
            return f"{name} warning plan ended automatically at close" if en else f"{name}预警预案随办结自动结束"
        if why.startswith("warning tier 0"):  # older incidents: "tier-3 warning plan ended; warning tier 0"
            why = ""
        return (f"{name} warning plan ended".strip() if en else f"{name}预警预案结束") + (f": {why}" if why else "")
    if kind == "incident_closed":
        if detail.startswith("follow-up answered: "):
            score = detail.removeprefix("follow-up answered: ")
            return f"follow-up answered: {score}" if en else f"回访已答复:满意度 {score}"
        return pick(CLOSE_REASONS.get(detail), lang, detail)
    if kind == "reminder":
        head, _, owner = detail.partition(" and the owner ")
        who = role_label(head.rsplit(" ", 1)[-1], lang)
        if owner:
            who += (" and the owner " if en else "及首问负责人") + person_name(directory, owner, lang)
        return f"deadline passed; {who} reminded" if en else f"已超时,已提醒{who}"
    if kind == "registered_by_other":
        lead = person_name(directory, detail.rsplit(" ", 1)[-1], lang)
        return f"owned by the duty lead {lead}, who was texted" if en else f"由值班负责人{lead}负责,已短信告知"
    if kind == "publicity_alert":
        why, _, _ = detail.partition(";")
        return ("media present" if "media" in why else "seeks publicity") + "; centre director and publicity office told" \
            if en else ("现场有媒体" if "media" in why else "意在制造轰动效应") + ",已通知客户中心主任和宣传办公室"
    if kind == "escalation":
        found = re.match(r"level (\d+): escalated to (\S+)", detail)
        if found:
            level, role = found.groups()
            return (f"level {level}: escalated to {role_label(role, lang)}" if en
                    else f"第{level}级升级:已通知{role_label(role, lang)}")
    if kind == "appointment_reminder":
        field, _, when = detail.partition(" ")
        return f"{field_label(field, lang)} {_local(when, lang)}"
    if kind == "follow_up_sent":
        return "satisfaction survey sent to the lead complainant" if en else "已向领头投诉人发送满意度回访短信"
    if kind == "follow_up_answered":
        return detail.replace("satisfaction", "满意度") if not en else detail
    if kind in ("sms_failed", "action_retried", "action_skipped"):
        found = re.match(r"(\w+)(?: to ([\w,\s]+?))?(?:: | \(was: |$)(.*)", detail)
        if found:
            purpose, roles, rest = found.groups()
            to = f" → {roles_text(roles, lang)}" if roles else ""
            return f"{purpose_label(purpose, lang)}{to}" + (f": {error_text(rest.rstrip(')'), lang)}" if rest else "")
    if kind == "wecom_fallback" and (found := re.fullmatch(r"(\S+) (\S+): WeCom → SMS: (.*)", detail)):
        role, person, why = found.groups()
        who = person_name(directory, person, lang) if directory else person
        return f"{role_label(role, lang)} {who}: {why}"
    if kind in ("sms_undelivered", "sms_settled"):
        role, _, rest = detail.partition(" ")
        return f"{role_label(role, lang)} {rest}"
    if kind == "playbook_migrated":
        return detail.replace("->", "→")
    if kind == "repeat_complaint" and (found := re.fullmatch(r"(.*) \(([a-z_, ]+)\)", detail)):
        return f"{found.group(1)} ({reason_words(found.group(2).split(', '))['en' if en else 'zh-CN']})"
    if kind == "sensitive_period" and (found := re.fullmatch(r"(.*) \((\S+)–(\S+)\): deadlines ×(\S+?)(?:; responsible (\S+))?",
                                                          detail)):
        name, first, last, factor, who = found.groups()
        who = person_name(directory, who) if directory and who else who
        return (f"{name} ({first} to {last}): deadlines ×{factor}" + (f"; responsible {who}" if who else "")) if en \
            else f"{name}({first}至{last}):时限×{factor}" + (f";责任人 {who}" if who else "")
    return detail
