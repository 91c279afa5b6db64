"""A unit's report: the period's figures of every hall below it (the archive report, limited to those halls), and
the roll-up, one row per unit and hall of its tree, each the sum of the halls below it."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import case, func, select

from groupdesk.core.intake import CHANNEL_IDS, DEFAULT_CHANNEL
from groupdesk.record.followups import ARCHIVED, RUNNING, archived_correctives, lines_figures
from groupdesk.record.report import _latest, build_report, counted, dissatisfied, founded_rate, petitioned, referred
from groupdesk.people.directory import Directory
from groupdesk.storage import Database
from groupdesk.storage.schema import archive_records as r

# The roll-up's figures per hall, summed up the tree. A figure later phases add (founded complaints, corrective
# actions open, frequent-outage lines) is one more line here; nothing is counted that the archive does not hold.
FIGURES = (
    ("incidents", func.count()),
    ("sla_breached", func.sum(case((r.c.deadlines_missed > 0, 1), else_=0))),
    ("escalations", func.coalesce(func.sum(r.c.escalations), 0)),
    ("repeat_complaints", func.sum(case((r.c.repeat_of.is_not(None), 1), else_=0))),
    ("warning_tier_3", func.sum(case((r.c.warning_tier.between(1, 3), 1), else_=0))),
    ("dissatisfied", func.sum(case((dissatisfied > 0, 1), else_=0))),
    ("founded", counted(r.c.finding_founded == "yes")),  # 有效投诉 by the findings at close
    ("partly", counted(r.c.finding_founded == "partly")),
    ("not_founded", counted(r.c.finding_founded == "no")),
    ("went_to_government", counted(petitioned)),  # 信访
    ("referrals", counted(referred)),  # 上级转办
)
FIGURE_NAMES = tuple(name for name, _ in FIGURES)
# how each row's incidents came in (受理渠道), every channel's count (0 included): `by_channel` of the row; a record
# archived before channels were registered came in at the hall, as the report's by_channel says
CHANNEL_FIGURES = tuple(counted(func.coalesce(r.c.channel, DEFAULT_CHANNEL) == channel) for channel in CHANNEL_IDS)
# figures of each row worked out from its sums (a rate is never summed)
DERIVED = (("founded_rate", lambda row: founded_rate(row["founded"], row["partly"], row["not_founded"])),)
# then what outlives the incidents: corrective actions (verified from the archive, running from Temporal, None when
# it does not answer) and the lines on warning or under study that touch the row's halls (counted once each)
ROW_FIGURES = FIGURE_NAMES + tuple(name for name, _ in DERIVED) + ARCHIVED + RUNNING + ("lines_warning", "lines_study")


class UnknownUnit(ValueError):
    pass


def per_hall(db: Database, start: date, end: date, halls: list[str], drills: bool) -> dict[str, dict[str, Any]]:
    with db.read() as c:
        rows = c.execute(select(r.c.hall_id, *(expr for _, expr in FIGURES), *CHANNEL_FIGURES)
                         .where(_latest(start, end, None, drills, halls)).group_by(r.c.hall_id)).all()
    named = len(FIGURE_NAMES) + 1
    return {row[0]: {name: int(value or 0) for name, value in zip(FIGURE_NAMES, row[1:named])}
            | {"by_channel": {channel: int(n or 0) for channel, n in zip(CHANNEL_IDS, row[named:])}} for row in rows}


def rollup(directory: Directory, figures: dict[str, dict[str, int]], unit_id: str, lang: str = "zh-CN",
           lines: list[dict] | None = None) -> list[dict]:
    """The unit's tree, depth first: each unit, then what is under it, its halls last; `level` 0 for the unit.
    Each row has ROW_FIGURES and `by_channel`, {channel: incidents} for every channel of groupdesk.core.intake."""
    units = {u.id: u for u in directory.units}
    children: dict[str, list[str]] = {}
    for unit in directory.units:
        if unit.parent:
            children.setdefault(unit.parent, []).append(unit.id)
    rows: list[dict] = []

    def total(halls: list[str]) -> dict[str, Any]:
        row: dict[str, Any] = {name: sum(figures.get(h, {}).get(name, 0) for h in halls)
                               for name in FIGURE_NAMES + ARCHIVED}
        by_channel = {channel: sum(figures.get(h, {}).get("by_channel", {}).get(channel, 0) for h in halls)
                      for channel in CHANNEL_IDS}
        return row | {name: rule(row) for name, rule in DERIVED} | dict.fromkeys(RUNNING) \
            | lines_figures(lines or [], halls) | {"by_channel": by_channel}

    def walk(unit_id: str, level: int) -> None:
        unit = units[unit_id]
        rows.append({"unit": unit.id, "name": (unit.name_en or unit.name) if lang == "en" else unit.name,
                     "kind": unit.kind, "level": level, **total(directory.halls_below(unit.id))})
        for child in children.get(unit_id, []):
            walk(child, level + 1)
        for hall in directory.halls:
            if hall.unit == unit_id:
                rows.append({"unit": hall.id, "name": (hall.name_en or hall.name) if lang == "en" else hall.name,
                             "kind": "hall", "level": level + 1, **total([hall.id])})

    walk(unit_id, 0)
    return rows


def unit_report(db: Database, directory: Directory, start: date, end: date, unit_id: str, drills: bool = False,
                lang: str = "zh-CN") -> dict[str, Any]:
    """The report of the halls below a unit, with its roll-up and the unit named in `period`."""
    if directory.unit(unit_id) is None:
        raise UnknownUnit(f"unknown unit {unit_id[:60]!r}; units: {', '.join(u.id for u in directory.units) or 'none'}"
                          " (the directory's `units`)")
    halls = directory.halls_below(unit_id)
    report = build_report(db, start, end, None, drills, halls)
    report["period"]["unit"] = unit_id
    figures = per_hall(db, start, end, halls, drills)
    for hall, counted in archived_correctives(db, start, end, None, drills, halls).items():
        figures.setdefault(hall, {}).update(counted)
    report["rollup"] = rollup(directory, figures, unit_id, lang, report["lines"])
    return report


def halls_of(directory: Directory):
    """The halls a roll-up row counts (followups.add_running)."""
    return lambda row: [row["unit"]] if row["kind"] == "hall" else directory.halls_below(row["unit"])
