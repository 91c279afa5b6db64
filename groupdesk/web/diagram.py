"""A playbook drawn as SVG on the server: steps in columns by distance from the start, outcomes as arrows."""

from __future__ import annotations

from html import escape

from groupdesk.playbook import Playbook

BOX_W, BOX_H, GAP_X, GAP_Y = 190, 64, 70, 26


def _levels(pb: Playbook) -> dict[str, int]:
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
    level = _levels(pb)
    columns: dict[int, list[str]] = {}
    for sid in pb.steps:
        columns.setdefault(level.get(sid, max(level.values(), default=0) + 1), []).append(sid)
    pos = {sid: (20 + col * (BOX_W + GAP_X), 30 + row * (BOX_H + GAP_Y))
           for col, sids in columns.items() for row, sid in enumerate(sids)}
    width = 40 + (max(columns) + 1) * (BOX_W + GAP_X)
    height = 60 + max(len(s) for s in columns.values()) * (BOX_H + GAP_Y)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="diagram" role="img">',
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
        deadline = f"≤ {step.deadline}" if step.deadline else ""
        parts.append(
            f'<g class="step" data-step="{escape(sid)}"><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="8"'
            f' fill="{kind}" stroke="#345"/><text x="{x + 8}" y="{y + 20}" class="title">'
            f'{escape(pb.step_title(sid, lang))}</text><text x="{x + 8}" y="{y + 38}" class="meta">{escape(sid)}</text>'
            f'<text x="{x + 8}" y="{y + 55}" class="meta">{escape(step.owner)} {deadline}</text></g>')
    grace = pb.escalation.grace
    parts.append(f'<text x="20" y="{height - 12}" class="meta">escalation: reminder at the deadline, then every'
                 f' {grace} one role up ({escape(" → ".join(["owner", *pb.escalation.above("hall_lead")]))})</text>')
    parts.append("</svg>")
    return "".join(parts)
