"""What a person reads instead of an identifier: states, timeline events, purposes, fields, in zh-CN and en."""

from __future__ import annotations

import re

from groupdesk.people.directory import Directory
from groupdesk.core.roles import role_label

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
