"""The console's words, in zh-CN (default) and English."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    "app": ("集体投诉现场处置", "groupdesk"),
    "board": ("事件看板", "Live board"),
    "start": ("发起事件", "Start incident"),
    "approvals": ("待审批", "Approvals"),
    "playbooks": ("处置预案", "Playbooks"),
    "failed": ("失败步骤", "Failed steps"),
    "phone": ("手机模拟", "Phone simulator"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "staff_id": ("工号", "Staff id"),
    "password": ("密码", "Password"),
    "hall": ("营业厅", "Hall"),
    "tier": ("预警级别", "Warning tier"),
    "stage": ("当前环节", "Stage"),
    "people": ("人数", "People"),
    "since": ("已历时", "Open for"),
    "next_deadline": ("下一时限", "Next deadline"),
    "flags": ("需关注", "Needs a person"),
    "overdue": ("超时", "overdue"),
    "approval_pending": ("待审批", "approval pending"),
    "repeat_complaint": ("重复投诉", "repeat complaint"),
    "sensitive_period": ("敏感时期", "sensitive period"),
    "deadline_factor": ("时限系数", "deadlines ×"), "period_responsible": ("责任人", "responsible"),
    "reports": ("统计报告", "Reports"), "from": ("起", "from"), "to": ("止", "to"), "all_halls": ("全部营业厅", "all halls"),
    "show": ("查看", "show"), "incidents_closed": ("起已办结", "incidents closed"), "sla_breached": ("起超时", "past a deadline"),
    "escalations": ("次升级", "escalations"), "tier3": ("起三级及以上预警", "at tier 3 or above"), "by_hall": ("按营业厅", "by hall"),
    "by_week": ("按周", "by week"), "by_category": ("按投诉类别", "by category"),
    "incidents_open": ("起仍在处理", "still open"), "sla_per_step": ("各环节超时率", "deadlines missed per step"),
    "cat_none": ("未分类", "no category"), "with_drills": ("含演练", "with drills"), "time_per_step": ("各环节平均用时(分钟)", "average time per step (minutes)"),
    "satisfaction": ("满意度分布", "satisfaction"), "accountability": ("责任台账", "accountability"),
    "role_col": ("岗位", "role"), "escalations_col": ("导致升级", "escalations caused"), "dissatisfied": ("不满意", "dissatisfied"),
    "incidents_behind": ("涉及事件", "incidents behind"),
    "score_expired": ("回访未答复", "no answer"), "score_none": ("未回访", "no follow-up"),
    "sms_failed": ("短信失败", "SMS failed"),
    "drill": ("演练", "drill"),
    "real": ("真实", "real"),
    "all": ("全部", "all"),
    "filter": ("筛选", "Filter"),
    "no_incidents": ("暂无进行中的事件", "No open incidents"),
    "steps": ("处置环节", "Steps"),
    "timeline": ("处置记录", "Timeline"),
    "messages": ("短信", "Messages"),
    "scripts": ("参考话术", "Reference scripts"),
    "record": ("记录结果", "Record outcome"),
    "note": ("备注", "Note"),
    "add_note": ("添加备注", "Add note"),
    "approve": ("同意启动三级预警", "Approve the tier-3 warning plan"),
    "reject": ("不同意", "Reject"),
    "reason": ("理由", "Reason"),
    "lead_name": ("领头人姓名", "Lead complainant's name"),
    "lead_phone": ("领头人手机", "Lead complainant's mobile"),
    "headcount": ("来访人数", "Number of people"),
    "summary": ("投诉事由", "What they complain about"),
    "registration": ("登记信息(选填)", "Registration (optional)"),
    "owner": ("首问负责人", "Owner"),
    "handover": ("移交负责", "Hand over"),
    "handover_to": ("移交给(工号)", "To (staff id)"),
    "address": ("地址或小区", "Address or community"),
    "account_no": ("户号", "Account number"),
    "category": ("投诉类别", "Category"),
    "demands": ("诉求", "Demands"),
    "complainant_type": ("投诉人类型", "Complainant type"),
    "media_present": ("有媒体在场", "Media present"),
    "person_involved": ("被投诉当事人(工号)", "Staff member complained about (id)"),
    "involved_you": ("本投诉涉及您本人(更换当事人):由同岗位其他人员或上一级处理,您不能办理或负责此事件。",
                     "This complaint is about you (更换当事人): a colleague in your role or the next level up handles it;"
                     " you may not act on it or own it."),
    "type_scripts": ("针对该类投诉人", "For this kind of complainant"),
    "cat_service": ("服务", "service"),
    "cat_business": ("营业(含计量)", "business (incl. metering)"),
    "cat_outage": ("停电", "outage"),
    "cat_power_quality": ("电能质量", "power quality"),
    "cat_grid_construction": ("电网建设", "grid construction"),
    "ct_venting": ("宣泄委屈型", "venting"),
    "ct_authority": ("显示权威型", "authority"),
    "ct_gain": ("投机获利型", "gain"),
    "ct_publicity": ("制造轰动效应型", "publicity"),
    "playbook": ("预案", "Playbook"),
    "time_scale": ("时间倍率(仅演练)", "Time scale (drills only)"),
    "submit_start": ("发起", "Start"),
    "retry": ("重试", "Retry"),
    "skip": ("跳过", "Skip"),
    "status": ("状态", "Status"),
    "deadline": ("时限", "Deadline"),
    "reply": ("回复", "Reply"),
    "send": ("发送", "Send"),
    "templates": ("短信模板", "SMS templates"),
    "nothing": ("无", "none"),
    "follow_up": ("回访(满意度 1-5)", "Follow-up (satisfaction 1-5)"),
    "follow_up_due": ("回访短信时间", "Survey SMS at"),
    "closed": ("已办结", "closed"),
    "open": ("处理中", "open"),
    "skip": ("跳到正文", "Skip to content"),
    "menu": ("主菜单", "Main menu"),
    "confirm": ("确认", "Confirm"),
    "cancel": ("取消", "Cancel"),
    "incident_no": ("编号", "No."),
    "counts": ("概况", "Summary"),
    "count_open": ("进行中", "open"),
    "count_approval": ("待审批", "awaiting approval"),
    "count_overdue": ("已超时", "overdue"),
    "count_failed": ("短信失败", "SMS failed"),
    "tier_none": ("未启动预警", "no warning plan"),
    "due_soon": ("5分钟内到期", "due within 5 minutes"),
    "progress": ("进度", "Progress"),
    "current": ("当前环节", "Current step"),
    "must_act": ("需由以下人员处理", "Who must act"),
    "waiting_for": ("等待", "Waiting for"),
    "to_act": ("处理", "to act"),
    "or": ("或", "or"),
    "started_at": ("开始于", "Since"),
    "at_deadline": ("到时限后", "At the deadline"),
    "reminder_to": ("短信提醒", "reminder SMS to"),
    "escalate_to": ("升级通知", "escalated to"),
    "after_deadline": ("超时", "after the deadline:"),
    "fired": ("已发生", "done"),
    "no_deadline": ("无时限", "no deadline"),
    "your_actions": ("您可以记录", "You may record"),
    "approve_short": ("同意", "Approve"),
    "reject_with_reason": ("不同意(须说明理由)", "Reject (with a reason)"),
    "confirm_approve": ("确认同意并启动预警预案?此操作将通知应急办公室。", "Approve and start the warning plan? The emergency offices will be told."),
    "requested_by": ("发起人", "Started by"),
    "filter_step": ("按环节筛选", "Filter by step"),
    "all_steps": ("全部环节", "all steps"),
    "show": ("显示", "Show"),
    "sms_to": ("短信", "SMS"),
    "sms_text": ("短信内容", "Message text"),
    "by": ("记录人", "by"),
    "who": ("人员", "Who"),
    "owner": ("负责", "Owner"),
    "outcomes": ("可能结果", "Outcomes"),
    "then": ("之后", "then"),
    "ends": ("结束", "ends"),
    "escalation_rule": ("超时规则", "When a deadline passes"),
    "template_preview": ("短信样例(示例数据)", "SMS previews (sample values)"),
    "error": ("原因", "Reason"),
    "attempts": ("尝试次数", "Attempts"),
    "incident": ("事件", "Incident"),
    "at": ("时间", "Time"),
    "what": ("内容", "What"),
    "reply_hint": ("回复内容", "Reply text"),
    "people_unit": ("人", " people"),
    "whole_board": ("全部营业厅", "all halls"),
    "drill_or_real": ("演练/真实", "drill/real"),
    "ops_title": ("运维", "ops"),
    "operator_title": ("指挥中心值班", "command centre operator"),
    "staff_title": ("员工", "staff"),
    "lang_zh": ("中文", "Chinese"),
    "lang_en": ("英文", "English"),
    "step_list": ("处置环节", "Steps"),
    "deadline_in": ("时限", "deadline"),
    "no_one": ("名录中暂无人员", "nobody in the directory"),
    "follow_up_by": ("回访由营业厅负责人或主任记录", "the hall lead or the director records the answer"),
}


TIER_NUMERALS = {1: "一", 2: "二", 3: "三", 4: "四"}


def tier_label(tier: int | None, lang: str) -> str:
    if not tier:
        return "—"
    return f"tier {tier}" if lang == "en" else f"{TIER_NUMERALS.get(tier, tier)}级预警"


def duration_words(span, lang: str) -> str:
    """A playbook duration for people: 5分钟, 1小时30分钟, 5个工作日."""
    if span is None:
        return ""
    if span.working_days:
        return f"{span.working_days} working day(s)" if lang == "en" else f"{span.working_days}个工作日"
    seconds, parts = int(span.seconds), []
    for size, zh, en in ((86400, "天", "d"), (3600, "小时", "h"), (60, "分钟", "min"), (1, "秒", "s")):
        if seconds >= size:
            n, seconds = divmod(seconds, size)
            parts.append(f"{n}{en if lang == 'en' else zh}")
    return " ".join(parts) if lang == "en" else "".join(parts)


def translator(lang: str):
    index = 1 if lang == "en" else 0

    def t(key: str) -> str:
        return WORDS.get(key, (key, key))[index]

    return t
