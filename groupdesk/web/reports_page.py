"""The console's report and accountability page: the archive's figures, charts drawn here as SVG."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from html import escape

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from groupdesk.record.ledger import build_ledger
from groupdesk.record.query import parse_day, period_problem
from groupdesk.core import validation as v
from groupdesk.record.report import build_report
from groupdesk.web.labels import hall_name
from groupdesk.playbooks.loader import load_playbooks
from groupdesk.core.roles import role_label
from groupdesk.storage import open_database
from groupdesk.web.pages import console, lang_of, page, viewer_or_login
from groupdesk.web.i18n import translator
from groupdesk.web.permissions import Forbidden, Viewer
from groupdesk.core.workcal import LOCAL_TZ

router = APIRouter(include_in_schema=False)
REPORT_ROLES = ("centre_director", "hall_lead")


def bars_svg(items: list[tuple[str, float]], unit: str = "") -> str:
    """A horizontal bar chart that scales to the width of a phone: one row per item, the value at the end."""
    if not items:
        return ""
    top = max(value for _, value in items) or 1
    row, label_w, bar_w = 26, 120, 220
    parts = [f'<svg class="chart" viewBox="0 0 {label_w + bar_w + 60} {row * len(items) + 4}" role="img" '
             f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">']
    for i, (label, value) in enumerate(items):
        y, width = i * row + 2, bar_w * value / top
        parts.append(f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end" font-size="12">{escape(label)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{width:.1f}" height="{row - 8}" fill="#2f6fb0"></rect>'
                     f'<text x="{label_w + width + 4:.1f}" y="{y + 16}" font-size="12">{value:g}{escape(unit)}</text>')
    return "".join(parts) + "</svg>"


async def open_or_none(service, first: date, last: date, halls: list[str], hall: str | None,
                       drills: bool) -> dict | None:
    """Open incidents of the period, by the gateway's visibility counts; None if Temporal does not answer
    (the archive's figures still show)."""
    from groupdesk.record.open_count import open_incidents

    try:
        gateway = await service.gateway()
        return await open_incidents(gateway.count, first, last, halls, hall, drills)
    except Exception:  # noqa: BLE001 - Temporal unreachable: the page says "—" for open incidents
        return None


def _in_words(entry: str, step_title) -> str:
    """'incident:step' as the incident and the step's title; other entries as they are."""
    incident, sep, step = entry.partition(":")
    return f"{incident} {step_title(step)}" if sep else entry


def halls_for(viewer: Viewer) -> set[str] | None:
    """The halls whose figures this person sees (None: all); Forbidden for roles without reports."""
    if viewer.sees_everything:
        return None
    halls = set().union(*(viewer.roles.get(role, set()) for role in REPORT_ROLES))
    if not halls:
        raise Forbidden("reports are for hall leads, centre directors, the command centre and ops")
    return halls


@router.get("/reports")
async def reports(request: Request, viewer: Viewer = Depends(viewer_or_login), start: str = "", end: str = "",
                  hall: str = "", drills: bool = False) -> HTMLResponse:
    allowed = halls_for(viewer)
    lang, directory = lang_of(request), console(request).directory()
    today = datetime.now(timezone.utc).astimezone(LOCAL_TZ).date()
    try:
        first = parse_day("start", start) if start else today - timedelta(days=30)
        last = parse_day("end", end) if end else today
        problem = period_problem(first, last, ("start", "end"))
    except ValueError as exc:
        problem = str(exc)
    if not problem and hall and directory.hall(hall) is None:
        problem = f"hall: unknown hall {v.shown(hall)}; halls: {', '.join(h.id for h in directory.halls)}"
    if problem:
        return page(request, "reports.html", viewer, status=400, error=problem, first=start, last=end, hall=hall,
                    halls=[])
    if hall and allowed is not None and hall not in allowed:
        raise Forbidden(f"{viewer.id} does not see the figures of hall {hall}")
    shown = [h for h in directory.halls if allowed is None or h.id in allowed]
    scope = hall or None
    if scope is None and allowed is not None and not {h.id for h in directory.halls} <= allowed:
        scope = shown[0].id  # someone of some halls only: one of theirs, never the sum with others'
    db = open_database(console(request).settings)
    report = build_report(db, first, last, scope, drills)
    report["open"] = await open_or_none(console(request), first, last, [h.id for h in shown], scope, drills)
    ledger = build_ledger(db, first, last, scope, drills)
    names = {h.id: hall_name(directory, h.id, lang) for h in shown}
    playbooks = load_playbooks(console(request).settings.playbooks_dir)

    def step_title(step: str, playbook: str | None = None) -> str:
        """The step's title in its playbook (the same id, such as close, names another step elsewhere)."""
        owner = playbooks.get(playbook) if playbook else None
        found = owner if owner and step in owner.steps else next((pb for pb in playbooks.values() if step in pb.steps), None)
        return found.step_title(step, lang) if found else step

    t = translator(lang)
    charts = {
        "hall": bars_svg([(names.get(r["hall_id"], r["hall_id"]), r["incidents"]) for r in report["by_hall"]]),
        "week": bars_svg([(r["week"], r["incidents"]) for r in report["by_week"]]),
        "steps": bars_svg([(step_title(r["step"], r["playbook"]), round(r["avg_seconds"] / 60, 1)) for r in report["steps"]]),
        "sla": bars_svg([(step_title(r["step"], r["playbook"]), round(r["breach_rate"] * 100)) for r in report["steps"]], "%"),
        "category": bars_svg([(t(f"cat_{r['category']}") if r["category"] != "none" else t("cat_none"), r["incidents"])
                              for r in report["by_category"]]),
        "satisfaction": bars_svg([(t(f"score_{k}") if not k.isdigit() else f"{k}/5", v)
                                  for k, v in report["satisfaction"].items()]),
    }
    for row in ledger:
        row["role_label"] = "—" if row["role"] == "hall" else role_label(row["role"], lang)
        row["hall_label"] = names.get(row["hall"], row["hall"])
        row["behind"] = sorted({_in_words(i, step_title) for ids in row["incidents"].values() for i in ids})
    return page(request, "reports.html", viewer, report=report, ledger=ledger, charts=charts, first=first.isoformat(),
                last=last.isoformat(), hall=scope or "", halls=shown, drills=drills, error=None)
