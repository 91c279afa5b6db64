"""The console's report and accountability page: the archive's figures, charts drawn here as SVG."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone
from html import escape
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from groupdesk.record.ledger import build_founded, build_ledger
from groupdesk.record.query import parse_day, period_problem
from groupdesk.core import validation as v
from groupdesk.record.report import build_report
from groupdesk.web.labels import hall_name, person_name
from groupdesk.playbooks.causes import cause_label, current_causes
from groupdesk.playbooks.loader import load_playbooks
from groupdesk.core.intake import CHANNEL_IDS, channel_label
from groupdesk.core.roles import UNIT_KIND_LABELS, role_label
from groupdesk.record.followups import add_running
from groupdesk.record.rollup import halls_of, unit_report
from groupdesk.record.workbook import workbook_bytes
from groupdesk.storage import open_database
from groupdesk.web.pages import console, lang_of, page, viewer_or_login
from groupdesk.web.i18n import translator
from groupdesk.web.permissions import Forbidden, Viewer
from groupdesk.core.workcal import LOCAL_TZ

router = APIRouter(include_in_schema=False)
REPORT_ROLES = ("centre_director", "hall_lead")
# the roll-up's columns of what outlives the incidents (groupdesk.record.followups)
FOLLOWUPS = ("correctives_open", "correctives_overdue", "correctives_verified", "lines_warning", "lines_study")


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


async def running_or_none(service, first: date, last: date, halls: list[str], drills: bool) -> dict | None:
    """Corrective actions of the period still running, per hall (Temporal's counts); None if it does not answer."""
    from groupdesk.record.followups import running_correctives

    try:
        gateway = await service.gateway()
        return await running_correctives(gateway.count, first, last, halls, drills)
    except Exception:  # noqa: BLE001 - Temporal unreachable: the page says "—" for them
        return None


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
    halls = set().union(*(viewer.roles.get(role, set()) for role in REPORT_ROLES)) | viewer.unit_halls
    if not halls:
        raise Forbidden("reports are for hall leads, centre directors, unit managers, the command centre and ops")
    return halls


class BadPeriod(ValueError):
    pass


def units_for(directory, allowed: set[str] | None) -> list:
    """The units whose every hall this person sees (a city manager: the city and what is under it)."""
    return [u for u in directory.units if allowed is None or set(directory.halls_below(u.id)) <= allowed]


async def report_data(request: Request, viewer: Viewer, start: str, end: str, hall: str, unit: str,
                      drills: bool) -> dict:
    """What the page and its spreadsheet show, within the viewer's scope: the report (with the unit's roll-up when
    a unit is read), the ledger, the halls and units offered. BadPeriod (400) for a date that does not parse."""
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
        raise BadPeriod(problem)
    if hall and allowed is not None and hall not in allowed:
        raise Forbidden(f"{viewer.id} does not see the figures of hall {hall}")
    units = units_for(directory, allowed)
    if unit and directory.unit(unit) is None:
        raise BadPeriod(f"unit: unknown unit {unit[:60]!r}; units: {', '.join(u.id for u in directory.units)}")
    if unit and unit not in {u.id for u in units}:
        raise Forbidden(f"{viewer.id} does not see every hall of unit {unit}")
    shown = [h for h in directory.halls if allowed is None or h.id in allowed]
    scope = None if unit else (hall or None)
    mine = [u for u in units if any(u.id in ids for ids in viewer.units.values())]
    if not unit and scope is None and mine:
        unit = mine[0].id  # a unit manager: their unit, with its roll-up
    elif not unit and scope is None and allowed is not None and not {h.id for h in directory.halls} <= allowed:
        scope = shown[0].id  # someone of some halls only: one of theirs, never the sum with others'
    db = open_database(console(request).settings)
    below = directory.halls_below(unit) if unit else None
    report = unit_report(db, directory, first, last, unit, drills, lang) if unit else \
        build_report(db, first, last, scope, drills)
    counted = below if below is not None else [h.id for h in shown]
    report["open"] = await open_or_none(console(request), first, last, counted, scope, drills)
    running = await running_or_none(console(request), first, last, [scope] if scope else counted, drills)
    add_running(report, running, halls_of(directory))
    report["ledger"] = build_ledger(db, first, last, scope, drills, below)
    founded = build_founded(db, first, last, scope, drills, below)  # 责任到人: as the findings named them
    return {"report": report, "first": first, "last": last, "scope": scope, "unit": unit or "", "shown": shown,
            "units": units, "founded": founded, "names": {h.id: hall_name(directory, h.id, lang) for h in shown}}


def directory_of(request: Request):
    return console(request).directory()


def unit_label(directory, unit_id: str, lang: str) -> str:
    """A hall's or unit's name in the reader's language (the id if the directory no longer has it)."""
    if directory.hall(unit_id):
        return hall_name(directory, unit_id, lang)
    found = directory.unit(unit_id)
    return ((found.name_en or found.name) if lang == "en" else found.name) if found else unit_id


@router.get("/reports")
async def reports(request: Request, viewer: Viewer = Depends(viewer_or_login), start: str = "", end: str = "",
                  hall: str = "", unit: str = "", drills: bool = False) -> HTMLResponse:
    lang = lang_of(request)
    try:
        data = await report_data(request, viewer, start, end, hall, unit, drills)
    except BadPeriod as exc:
        return page(request, "reports.html", viewer, status=400, error=str(exc), first=start, last=end, hall=hall,
                    halls=[], units=[], unit=unit)
    report, names = data["report"], data["names"]
    ledger = report.pop("ledger")
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
        "channel": bars_svg([(channel_label(r["channel"], lang), r["incidents"]) for r in report.get("by_channel", [])]),
        "satisfaction": bars_svg([(t(f"score_{k}") if not k.isdigit() else f"{k}/5", v)
                                  for k, v in report["satisfaction"].items()]),
    }
    causes = current_causes()
    for row in report["findings"]["by_cause"]:
        row["shown"] = cause_label(causes, row["cause"], lang)
    charts["cause"] = bars_svg([(row["shown"], row["incidents"]) for row in report["findings"]["by_cause"]])
    if report.get("rollup"):
        charts["rollup"] = bars_svg([("　" * r["level"] + r["name"], r["incidents"]) for r in report["rollup"]])
    for row in ledger:
        row["role_label"] = "—" if row["role"] == "hall" else role_label(row["role"], lang)
        row["hall_label"] = names.get(row["hall"], row["hall"])
        row["behind"] = sorted({_in_words(i, step_title) for ids in row["incidents"].values() for i in ids})
    founded = data["founded"]
    for row in founded["people"]:
        row["label"] = person_name(directory_of(request), row["person"], lang) or row["person"]
    for row in founded["units"]:
        row["label"] = unit_label(directory_of(request), row["unit"], lang)
    query = urlencode({"start": data["first"].isoformat(), "end": data["last"].isoformat(), "hall": data["scope"] or "",
                       "unit": data["unit"], **({"drills": "true"} if drills else {})})
    return page(request, "reports.html", viewer, report=report, ledger=ledger, charts=charts, founded=founded,
                first=data["first"].isoformat(), last=data["last"].isoformat(), hall=data["scope"] or "",
                halls=data["shown"], units=data["units"], unit=data["unit"], drills=drills, error=None,
                kind=lambda k: UNIT_KIND_LABELS.get(k, {}).get(lang, t("hall")), xlsx=f"/reports.xlsx?{query}",
                percent=lambda rate: f"{rate * 100:.0f}%", shown=lambda n: "—" if n is None else n, names=names,
                followups=FOLLOWUPS, channels=[(c, channel_label(c, lang)) for c in CHANNEL_IDS])


@router.get("/reports.xlsx")
async def reports_xlsx(request: Request, viewer: Viewer = Depends(viewer_or_login), start: str = "", end: str = "",
                       hall: str = "", unit: str = "", drills: bool = False) -> Response:
    """The same figures as the page, as a spreadsheet (a sheet per table, Chinese headers, charts)."""
    try:
        data = await report_data(request, viewer, start, end, hall, unit, drills)
    except BadPeriod as exc:
        return PlainTextResponse(str(exc), status_code=400)
    name = f"groupdesk-{data['unit'] or data['scope'] or 'all'}-{data['first']}-{data['last']}.xlsx"
    content = await asyncio.to_thread(workbook_bytes, data["report"], data["names"])
    return Response(content, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"})
