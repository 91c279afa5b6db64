"""What a person reads instead of an identifier: states, timeline events, purposes, fields, in zh-CN and en."""

from __future__ import annotations

import re
from datetime import datetime

from groupdesk.people.directory import Directory
from groupdesk.core.models import TimelineEntry
from groupdesk.core.playbook import Playbook
from groupdesk.core.intake import channel_label
from groupdesk.core.repeats import reason_words
from groupdesk.core.roles import role_label
from groupdesk.core.warning_plan import tier_name
from groupdesk.core.workcal import format_local
from groupdesk.web.i18n import WORDS

Pair = tuple[str, str]  # (zh-CN, en)

STEP_STATUS: dict[str, Pair] = {
    "active": ("进行中", "under way"),
    "done": ("已完成", "done"),
    "waiting": ("等待前序环节", "waiting for earlier steps"),
    "future": ("未开始", "not started"),
}

INCIDENT_STATUS: dict[str, Pair] = {"open": ("处理中", "open"), "closed": ("已办结", "closed")}

PURPOSES: dict[str, Pair] = {
    "step_started": ("环节通知", "step notice"),
    "reminder": ("超时提醒", "deadline reminder"),
    "escalation": ("超时升级", "escalation"),
    "approval_request": ("审批请求", "approval request"),
    "progress_report": ("进展报告", "progress report"),
    "follow_up": ("满意度回访", "satisfaction survey"),
    "repeat_complaint": ("重复投诉提示", "repeat complaint"),
    "periodic_report": ("定期统计报告", "periodic report"),
    "periodic_report_unit": ("单位月度汇总", "unit monthly roll-up"),
    "handover": ("移交负责通知", "handover notice"),
    "sensitive_period_start": ("敏感时期责任人通知", "sensitive-period notice"),
    "publicity_alert": ("舆情提示", "publicity alert"),
    "registered_by_other": ("代为登记通知", "registered by someone else"),
    "tell": ("告知客户", "told the complainant"),
    "headcount_outside": ("人数超出方案范围", "headcount outside the playbook"),
    "outcome": ("结果通知", "outcome notice"),
    "close": ("办结通知", "closing notice"),
    "appointment_reminder": ("预约提醒", "appointment reminder"),
    "promise_reminder": ("承诺到期提醒", "promise reminder"),
    "promise_missed": ("承诺逾期通知", "promise missed"),
    "promise_kept": ("承诺兑现通知", "promise kept"),
    "promise_changed": ("承诺时间调整", "promise rescheduled"),
    "reopened": ("回访不满意退回通知", "reopened after a dissatisfied answer"),
    "appointment_changed": ("约定时间调整", "agreed time moved"),
    "corrective_reminder": ("整改到期提醒", "corrective action reminder"),
    "corrective_missed": ("整改逾期督办", "corrective action overdue"),
    "corrective_rejected": ("整改验收退回", "corrective action sent back"),
    "corrective_verified": ("整改验收通过", "corrective action verified"),
    "feeder_warning": ("频繁停电线路预警", "frequent-outage line warning"),
}

PROMISE_STATUS: dict[str, Pair] = {
    "open": ("待兑现", "open"), "kept": ("已兑现", "kept"), "missed": ("已逾期", "missed"), "waived": ("已豁免", "waived"),
}

DELIVERY: dict[str, Pair] = {
    "queued": ("排队中", "queued"), "sending": ("发送中", "sending"), "unknown": ("确认中", "checking"),
    "sent": ("已发送", "sent"), "delivered": ("已送达", "delivered"), "undelivered": ("未送达", "undelivered"),
    "failed": ("发送失败", "failed"), "duplicate": ("已发送", "sent"),
}

FAILED_STATUS: dict[str, Pair] = {
    "parked": ("待处理", "waiting for ops"), "retrying": ("重试中", "retrying"),
    "retried": ("已重试", "retried"), "skipped": ("已跳过", "skipped"),
}

FIELDS: dict[str, Pair] = {
    "calibration_at": ("校验时间", "calibration time"), "agreed_at": ("约定再谈时间", "agreed time"),
    "department": ("信访部门", "government office"), "findings": ("调查结论", "findings"),
    "legal_basis": ("法律依据", "legal basis"), "meeting_at": ("协商时间", "meeting time"),
    "agreement_no": ("协议编号", "agreement number"), "terms": ("协议条款", "terms"),
    "mediator": ("调解机构", "mediator"), "case_no": ("案号", "case number"), "ruling": ("裁决结果", "ruling"),
    "finding": ("查实情况", "what was found"), "measure": ("处理措施", "measure taken"),
    "restore_at": ("承诺复电时间", "restoration time"), "feedback_at": ("约定反馈时间", "feedback time"),
}

EVENTS: dict[str, Pair] = {
    "incident_started": ("发起事件", "incident started"),
    "handover": ("移交首问负责", "handed over"),
    "told": ("告知客户", "complainant told"),
    "registration_amended": ("变更登记信息", "registration amended"),
    "finding_recorded": ("记录投诉认定", "finding recorded"),
    "evidence_added": ("添加证据", "evidence added"),
    "status_page_visit": ("客户查看进度页", "complainant opened the status page"),
    "complainant_info": ("客户补充信息", "complainant added information"),
    "publicity_alert": ("舆情提示", "publicity alert"),
    "registered_by_other": ("他人登记,值班负责人负责", "registered by someone else; the duty lead owns it"),
    "repeat_complaint": ("重复投诉", "repeat complaint"),
    "sensitive_period": ("敏感时期", "sensitive period"),
    "step_waiting": ("等待前序环节", "waiting"),
    "step_started": ("环节开始", "step started"),
    "outcome": ("记录结果", "outcome recorded"),
    "recorded": ("记录", "recorded"),
    "warning_tier": ("预警级别调整", "warning tier changed"),
    "warning_plan_ended": ("预警结束", "warning plan ended"),
    "resolved": ("办结", "resolved"),
    "incident_closed": ("事件关闭", "incident closed"),
    "reminder": ("超时提醒", "deadline reminder"),
    "escalation": ("超时升级", "escalation"),
    "appointment_reminder": ("预约提醒", "appointment reminder"),
    "follow_up_sent": ("回访短信已发", "survey sent"),
    "follow_up_answered": ("回访结果", "survey answered"),
    "sms_failed": ("短信发送失败", "SMS failed"),
    "sms_undelivered": ("短信未送达", "SMS undelivered"),
    "sms_settled": ("短信确认已送达", "SMS confirmed delivered"),
    "wecom_fallback": ("企业微信未送达,已改发短信", "sent by SMS instead of WeCom"),
    "action_retried": ("已重试", "retried"),
    "action_skipped": ("已跳过", "skipped"),
    "playbook_migrated": ("预案升级", "playbook upgraded"),
    "reset": ("重置", "reset"),
    "note": ("备注", "note"),
    "continued_as_new": ("记录续接", "history continued"),
    "sms": ("短信", "SMS"),
    "promise_made": ("作出承诺", "promise made"),
    "promise_reminder": ("承诺到期提醒", "promise reminder"),
    "promise_missed": ("承诺逾期", "promise missed"),
    "promise_escalation": ("承诺逾期升级", "promise escalated"),
    "promise_kept": ("承诺兑现", "promise kept"),
    "promise_changed": ("承诺时间调整", "promise rescheduled"),
    "promise_waived": ("承诺豁免", "promise waived"),
    "feeder_warning": ("频繁停电线路预警", "frequent-outage line on warning"),
    "feeder_study": ("频繁停电线路专项整改", "frequent-outage line: special study opened"),
    "handed_over_to": ("转交其他预案处理", "handed over to another playbook"),
    "handed_over_from": ("由其他事件转来", "handed over from another incident"),
    "child_started": ("子事件已开始", "child incident started"),
    "child_result": ("子事件结果", "child incident result"),
    "reopened": ("回访不满意,重新处理", "reopened after a dissatisfied answer"),
    "dissatisfied_again": ("再次回访不满意", "dissatisfied again"),
    "adjourned": ("客户先行离开,约定再谈", "adjourned to an agreed time"),
    "reported_upward": ("已向上级报告", "reported upward"),
}

SMS_ERRORS: dict[str, Pair] = {
    "20003": ("短信平台拒绝了账号凭据,请运维检查配置", "Twilio refused the account credentials"),
    "21211": ("号码无效,请在人员名录中更正", "the number is not a valid phone number; correct it in the staff directory"),
    "21408": ("账号不能向该国家或地区发送短信", "the account may not send SMS to this country or region"),
    "21606": ("发送号码不能发送短信,请运维检查配置", "the sending number cannot send SMS"),
    "21610": ("对方已退订短信,请改用其他方式联系", "the recipient has unsubscribed; reach them another way"),
    "21612": ("该号码无法从发送号码送达", "this number cannot be reached from the sending number"),
    "21614": ("不是手机号码,请在人员名录中填写手机", "the number is not a mobile number"),
    "unknown": ("发送结果未知(服务商无法确认):等待状态报告,或由运维重发或标记已发送",
                "outcome unknown (the provider cannot tell): a delivery report settles it, or ops resend or"
                " mark it sent"),
    "no-template": ("服务商无已审核通过的短信模板,请运维同步模板", "the provider has no approved template for it"),
    "isv.MOBILE_NUMBER_ILLEGAL": ("号码无效,请在人员名录中更正", "the number is not a valid mobile number"),
    "isv.AMOUNT_NOT_ENOUGH": ("短信账户余额不足,请充值后由运维重试", "the SMS account is out of credit"),
    "isv.SMS_TEMPLATE_ILLEGAL": ("短信模板未审核通过,请运维同步模板", "the template is not approved"),
    "FailedOperation.TemplateIncorrectOrUnapproved": ("短信模板未审核通过,请运维同步模板", "the template is not approved"),
    "InvalidParameterValue.IncorrectPhoneNumber": ("号码无效,请在人员名录中更正", "the number is not a valid mobile number"),
}

CLOSE_REASONS: dict[str, Pair] = {
    "closed without follow-up": ("办结,无需回访", "closed without follow-up"),
    "follow-up expired without an answer": ("回访超期未答复,自动关闭", "follow-up expired without an answer"),
}


def pick(pair: Pair | None, lang: str, fallback: str = "") -> str:
    if pair is None:
        return fallback
    return pair[1] if lang == "en" else pair[0]


def step_status(status: str | None, lang: str) -> str:
    return pick(STEP_STATUS.get(status or "future"), lang, status or "")


def purpose_label(purpose: str, lang: str) -> str:
    return pick(PURPOSES.get(purpose), lang, purpose)


def delivery_label(status: str, lang: str) -> str:
    return pick(DELIVERY.get(status), lang, status)


def error_text(error: str, lang: str) -> str:
    """A provider's refusal in words: the known codes (`21211: ...`) in the reader's language."""
    nobody = re.match(r"no one holds role (\S+) at hall (\S+);", error or "")
    if nobody:
        role = role_label(nobody.group(1), lang)
        return f"no one holds the role {role} at this hall" if lang == "en" else f"本厅人员名录中无人担任{role},请补充"
    code, _, rest = (error or "").partition(":")
    code = code.strip()
    if code in SMS_ERRORS:
        return f"{pick(SMS_ERRORS[code], lang)} ({code})"
    return error


def field_label(field: str, lang: str) -> str:
    if field in FIELDS:
        return pick(FIELDS[field], lang)
    if field.endswith("_at"):
        return "时间" if lang != "en" else "time"
    return field.replace("_", " ")


def event_label(kind: str, lang: str) -> str:
    return pick(EVENTS.get(kind), lang, kind.replace("_", " "))


def hall_name(directory: Directory | None, hall_id: str, lang: str) -> str:
    hall = directory.hall(hall_id) if directory else None
    if hall is None:
        return hall_id
    return (hall.name_en or hall.name) if lang == "en" else hall.name


def person_name(directory: Directory | None, person_id: str | None, lang: str = "zh-CN") -> str:
    if not person_id:
        return ""
    if person_id == "lead_complainant":
        return role_label(person_id, lang)
    names = []
    for pid in person_id.split(","):
        person = directory.person(pid) if directory else None
        names.append(person.name if person else pid)
    return "、".join(names)


def roles_text(roles: str, lang: str) -> str:
    return "、".join(role_label(r.strip(), lang) for r in roles.split(",") if r.strip())


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
