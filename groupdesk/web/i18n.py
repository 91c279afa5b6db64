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
}


def translator(lang: str):
    index = 1 if lang == "en" else 0

    def t(key: str) -> str:
        return WORDS.get(key, (key, key))[index]

    return t
