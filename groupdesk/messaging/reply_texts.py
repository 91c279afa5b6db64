"""What groupdesk answers to an SMS reply, in each language: Jinja2 like every message, so a domestic
provider sends each answer as an approved template (they are in the template registry too)."""

from __future__ import annotations

from dataclasses import dataclass, field

from groupdesk.playbooks.templating import render

ANSWERS = {
    "help": {"zh-CN": "集体投诉处置:审批请回复“同意 审批码”或“不同意 审批码 理由”;回访评价请回复1-5。",
             "en": "To decide an approval reply \"Y code\" or \"N code reason\"; to rate our service reply 1-5."},
    "wrong_code": {"zh-CN": "审批码{{ code }}无效,请核对审批短信中的审批码。",
                   "en": "Code {{ code }} is not valid; check the code in the approval SMS."},
    "used_code": {"zh-CN": "审批码{{ code }}已失效:该审批已处理或已过期。",
                  "en": "Code {{ code }} is no longer valid: that approval was already decided or has expired."},
    "locked": {"zh-CN": "审批码错误次数过多,本号码的短信审批已锁定至{{ until }};请登录控制台审批。",
               "en": "Too many wrong codes: approvals by SMS from this phone are locked until {{ until }};"
                     " decide in the console."},
    "not_director": {"zh-CN": "本号码不是该营业厅登记的客户中心主任,审批未生效。",
                     "en": "This phone is not the centre director on record for that hall; nothing was decided."},
    "need_reason": {"zh-CN": "不同意需说明理由:请回复“不同意 {{ code }} 理由”。",
                    "en": "A refusal needs a reason: reply \"N {{ code }} reason\"."},
    "approved": {"zh-CN": "已同意启动三级供电服务预警预案(事件{{ incident }})。",
                 "en": "Approved: the tier-3 warning plan starts (incident {{ incident }})."},
    "rejected": {"zh-CN": "已记录:不启动预警预案(事件{{ incident }})。",
                 "en": "Recorded: the warning plan is not started (incident {{ incident }})."},
    "refused": {"zh-CN": "未能处理:{{ error }}", "en": "Not done: {{ error }}"},
    "thanks": {"zh-CN": "感谢您的评价,我们会持续改进服务。", "en": "Thank you for your rating."},
}


@dataclass(frozen=True)
class Answer:
    """One answer to a reply: which text, in which language, with which values."""
    name: str
    lang: str = "zh-CN"
    values: dict[str, str] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return ANSWERS[self.name].get(self.lang) or ANSWERS[self.name]["zh-CN"]

    @property
    def text(self) -> str:
        return render(self.source, self.values)
