"""A playbook drawn as SVG on the server: steps in columns by distance from the start, outcomes as arrows."""

from __future__ import annotations

from html import escape

from groupdesk.core.playbook import Playbook
from groupdesk.core.roles import role_label
from groupdesk.playbooks.templating import render, variables_for
from groupdesk.web.i18n import duration_words

BOX_W, BOX_H, GAP_X, GAP_Y = 190, 64, 70, 26


def levels(pb: Playbook) -> dict[str, int]:
    level = {sid: 0 for sid in pb.start}
    frontier = list(pb.start)
    while frontier:
        sid = frontier.pop(0)
        for outcome in pb.steps[sid].outcomes.values():
            if outcome.next and outcome.next not in level:
                level[outcome.next] = level[sid] + 1
                frontier.append(outcome.next)
    return level


def playbook_svg(pb: Playbook, lang: str = "zh-CN") -> str:
    level = levels(pb)
    columns: dict[int, list[str]] = {}
    for sid in pb.steps:
        columns.setdefault(level.get(sid, max(level.values(), default=0) + 1), []).append(sid)
    pos = {sid: (20 + col * (BOX_W + GAP_X), 30 + row * (BOX_H + GAP_Y))
           for col, sids in columns.items() for row, sid in enumerate(sids)}
    width = 40 + (max(columns) + 1) * (BOX_W + GAP_X)
    height = 60 + max(len(s) for s in columns.values()) * (BOX_H + GAP_Y)
    title = escape(pb.text(pb.title, lang))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="diagram" role="img"'
             f' aria-label="{title}"><title>{title}</title>',
             '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="8" refY="4" orient="auto">'
             '<path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>']
    for sid, step in pb.steps.items():
        x, y = pos[sid]
        for name, outcome in step.outcomes.items():
            if not outcome.next:
                continue
            nx, ny = pos[outcome.next]
            x1, y1, x2, y2 = x + BOX_W, y + BOX_H / 2, nx, ny + BOX_H / 2
            if nx <= x:  # back or same column: route below
                x1, y1, x2, y2 = x + BOX_W / 2, y + BOX_H, nx + BOX_W / 2, ny + BOX_H
            label = escape(pb.outcome_label(sid, name, lang))
            parts.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#555" marker-end="url(#arrow)"/>'
                         f'<text x="{(x1 + x2) / 2}" y="{(y1 + y2) / 2 - 4}" class="edge">{label}</text>')
    for sid, step in pb.steps.items():
        x, y = pos[sid]
        kind = {"approval": "#fff4d6", "close": "#e3f4e3"}.get(step.kind, "#e8f0fb")
        deadline = f"≤ {duration_words(step.deadline, lang)}" if step.deadline else ""
        parts.append(
            f'<g class="step" data-step="{escape(sid)}"><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="8"'
            f' fill="{kind}" stroke="#345"/><text x="{x + 8}" y="{y + 20}" class="title">'
            f'{escape(pb.step_title(sid, lang))}</text><text x="{x + 8}" y="{y + 40}" class="meta">'
            f'{escape(role_label(step.owner, lang))}</text>'
            f'<text x="{x + 8}" y="{y + 56}" class="meta">{escape(deadline)}</text></g>')
    parts.append(f'<text x="20" y="{height - 12}" class="meta">{escape(escalation_rule(pb, lang))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def escalation_rule(pb: Playbook, lang: str) -> str:
    """The playbook's escalation in one sentence."""
    grace = duration_words(pb.escalation.grace, lang)
    if lang == "en":
        return f"At a step's deadline its owner is reminded; every {grace} after, the next role up is told."
    return f"环节到时限时提醒负责人;此后每超时{grace},通知上一级。"


def escalation_ladders(pb: Playbook, lang: str) -> list[str]:
    """Each owner's ladder, e.g. 引导员 → 营业厅负责人 → 客户中心主任."""
    owners = dict.fromkeys(step.owner for step in pb.steps.values() if step.kind != "close")
    return [" → ".join(role_label(r, lang) for r in [owner, *pb.escalation.above(owner)]) for owner in owners]


def template_uses(pb: Playbook, lang: str) -> list[tuple[str, str, str]]:
    """(template name, what it is for in words, the use whose sample values render it)."""
    zh = lang != "en"
    uses: dict[str, tuple[str, str]] = {}

    def add(name, label, use):
        if name and name not in uses:
            uses[name] = (label, use)

    for sid, step in pb.steps.items():
        title = pb.step_title(sid, lang)
        if step.kind == "close":
            add(step.template, f"{title}{'通知' if zh else ' notice'}", "close_notice")
            if step.follow_up:
                add(step.follow_up.template, "满意度回访" if zh else "satisfaction survey", "follow_up")
            continue
        add(step.template, f"{title}{'(审批请求)' if step.kind == 'approval' and zh else ''}"
            f"{' (approval request)' if step.kind == 'approval' and not zh else ''}",
            "approval_request" if step.kind == "approval" else "step_started")
        for name, outcome in step.outcomes.items():
            label = pb.outcome_label(sid, name, lang)
            add(outcome.template, f"{title}: {label}", "appointment_notice" if outcome.appointment else "outcome_notice")
            if outcome.appointment:
                add(outcome.appointment.template, f"{label}{'·预约提醒' if zh else ': appointment reminder'}",
                    "appointment_reminder")
    add(pb.escalation.reminder_template, "超时提醒" if zh else "deadline reminder", "reminder")
    add(pb.escalation.escalation_template, "超时升级" if zh else "escalation", "escalation")
    if pb.progress_reports:
        add(pb.progress_reports.template, "进展报告" if zh else "progress report", "progress_report")
    plan = pb.warning_plan
    for change, words in (("raised", ("预警升级", "warning plan raised")), ("ended", ("预警结束", "warning plan ended"))):
        if plan and getattr(plan, change):
            add(getattr(plan, change).template, words[0] if zh else words[1], "plan_notice")
    return [(name, label, use) for name, (label, use) in uses.items()]


def template_previews(pb: Playbook, lang: str) -> list[dict]:
    """Every SMS template rendered with sample values, in both languages: what recipients will read."""
    found = []
    for name, label, use in template_uses(pb, lang):
        variants = pb.templates.get(name, {})
        found.append({"label": label, "texts": [(code, render(source, variables_for(use)))
                                                for code, source in variants.items()]})
    return found
