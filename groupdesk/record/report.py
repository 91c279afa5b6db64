"""The report of a period, by SQL aggregation over the archive (never by querying workflows).

A period is the local dates the incidents started on, both included; an incident reset and
closed again counts once, by its latest record; drills are left out unless asked for.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Collection

from sqlalchemy import and_, case, func, select

from groupdesk.record.chain import PROMISE_FIGURES
from groupdesk.record.archive_record import DISSATISFIED
from groupdesk.record.followups import archived_correctives, correctives_section, line_rows
from groupdesk.storage import Database
from groupdesk.storage.schema import archive_records as r, archive_steps as s


def _latest(start: date, end: date, hall: str | None, drills: bool, halls: Collection[str] | None = None):
    """The records of the period: the latest of each incident (of one hall, or of `halls`: a unit's); never a
    corrective action's row (kind `corrective`), which shares the chain but is no incident."""
    latest = select(func.max(r.c.seq)).where(r.c.started_on >= start.isoformat(), r.c.started_on <= end.isoformat(),
                                             r.c.kind == "incident")
    if hall:
        latest = latest.where(r.c.hall_id == hall)
    if halls is not None:
        latest = latest.where(r.c.hall_id.in_(sorted(halls)))
    if not drills:
        latest = latest.where(r.c.drill == 0)
    return r.c.seq.in_(latest.group_by(r.c.incident_id))


# Follow-up answers scored DISSATISFIED or lower, those that reopened the incident included; a record archived
# before the column existed counts its last answer alone.
dissatisfied = func.coalesce(
    r.c.dissatisfied_answers,
    case((and_(r.c.follow_up == "answered", r.c.satisfaction <= DISSATISFIED), 1), else_=0)).label("dissatisfied")


# 信访: the incident's record holds a `went_to_government` outcome among its stays (outcomes recorded on a step that
# goes on, archive_record.stays); the canonical JSON has no spaces, so the text itself is matched.
PETITION = "went_to_government"
petitioned = r.c.record.like(f'%"outcome":"{PETITION}"%')
# 上级转办: the channel it came in by (a record archived before channels were registered came in at the hall)
REFERRAL = "referral"
referred = r.c.channel == REFERRAL


def counted(condition):
    """How many of the chosen records meet the condition (0, never NULL)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def build_report(db: Database, start: date, end: date, hall: str | None = None, drills: bool = False,
                 halls: Collection[str] | None = None) -> dict[str, Any]:
    """The period's figures, of every hall, one hall, or `halls` (those below a unit: groupdesk.record.rollup adds
    the unit's roll-up). Sections are keys of the result; a new one (counts by channel, findings, referrals,
    corrective actions, frequent-outage lines) is one more key here, one more sheet in groupdesk.record.workbook."""
    chosen = _latest(start, end, hall, drills, halls)
    breached = func.sum(case((r.c.deadlines_missed > 0, 1), else_=0))
    with db.read() as c:
        totals = c.execute(select(
            func.count(), breached, func.coalesce(func.sum(r.c.deadlines_missed), 0),
            func.coalesce(func.sum(r.c.escalations), 0), func.sum(case((r.c.escalations > 0, 1), else_=0)),
            func.sum(case((r.c.repeat_of.is_not(None), 1), else_=0)),
            func.sum(case((r.c.warning_tier.between(1, 3), 1), else_=0)),  # tier 3 or more severe (一级 is the most)
            func.coalesce(func.sum(r.c.told), 0), func.sum(case((r.c.told > 0, 1), else_=0)),
        ).where(chosen)).one()

        def grouped(*columns):
            rows = c.execute(select(*columns, func.count()).where(chosen).group_by(*columns).order_by(*columns))
            return [dict(zip([col.name for col in columns] + ["incidents"], row)) for row in rows]

        steps = c.execute(select(  # per playbook: the same step id (close, investigate) means another step elsewhere
            r.c.playbook, s.c.step, func.count(), func.avg(s.c.seconds), func.max(s.c.seconds), func.sum(s.c.deadline_missed),
            func.sum(s.c.escalations),
        ).select_from(s.join(r, and_(s.c.incident_id == r.c.incident_id, s.c.run_id == r.c.run_id)))
            .where(chosen).group_by(r.c.playbook, s.c.step).order_by(r.c.playbook, s.c.step)).all()
        promised = c.execute(select(*(func.coalesce(func.sum(getattr(r.c, f"promises_{k}")), 0) for k in PROMISE_FIGURES),
                                    func.sum(case((r.c.promises_missed > 0, 1), else_=0))).where(chosen)).one()
        satisfaction = c.execute(select(r.c.follow_up, r.c.satisfaction, func.count()).where(chosen)
                                 .group_by(r.c.follow_up, r.c.satisfaction)).all()
        unhappy = c.execute(select(func.coalesce(func.sum(dissatisfied), 0),
                                   func.sum(case((dissatisfied > 0, 1), else_=0))).where(chosen)).one()
        category = func.coalesce(r.c.category, "none").label("category")  # none: registered without one
        # how it came in (issue 28); a record archived before channels were registered came in at the hall (visit)
        channel = func.coalesce(r.c.channel, "visit").label("channel")
        groups = {"by_playbook": grouped(r.c.playbook, r.c.playbook_version), "by_hall": grouped(r.c.hall_id),
                  "by_week": grouped(r.c.week), "by_category": grouped(category),
                  "by_category_week": grouped(category, r.c.week), "by_channel": grouped(channel)}
        findings = c.execute(select(r.c.finding_cause, r.c.finding_founded, func.count())
                             .where(chosen, r.c.finding_founded.is_not(None))
                             .group_by(r.c.finding_cause, r.c.finding_founded)).all()
        upward = c.execute(select(counted(petitioned), counted(referred)).where(chosen)).one()
    corrective = archived_correctives(db, start, end, hall, drills, halls)
    count = totals[0]
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat(), "hall": hall, "drills": drills,
                   **({"halls": sorted(halls)} if halls is not None else {})},
        "totals": {
            "incidents": count, "sla_breached": int(totals[1] or 0),
            "sla_breach_rate": round((totals[1] or 0) / count, 4) if count else 0.0,
            "deadlines_missed": int(totals[2]), "escalations": int(totals[3]),
            "escalated_incidents": int(totals[4] or 0), "repeat_complaints": int(totals[5] or 0),
            "warning_tier_3": int(totals[6] or 0),
        },
        # 进度告知: messages staff sent the complainant (groupdesk tell), and the incidents with one
        "told": {"messages": int(totals[7] or 0), "incidents": int(totals[8] or 0)},
        **groups,
        "steps": [{"playbook": playbook, "step": step, "visits": visits, "avg_seconds": round(float(avg or 0), 1), "max_seconds": peak or 0,
                   "deadline_missed": int(missed or 0), "breach_rate": round((missed or 0) / visits, 4),
                   "escalations": int(escalations or 0)}
                  for playbook, step, visits, avg, peak, missed, escalations in steps],
        "satisfaction": _distribution(satisfaction),
        # every answer scored 2 or lower (those that reopened the incident too), and the incidents with one
        "dissatisfied": {"answers": int(unhappy[0] or 0), "incidents": int(unhappy[1] or 0)},
        # made, kept (on time or late), kept late, ever missed, waived; and the incidents with one missed
        "promises": {**{k: int(v) for k, v in zip(PROMISE_FIGURES, promised)},
                     "incidents_with_missed": int(promised[-1] or 0)},
        "findings": findings_section(findings, count),
        # 信访 (a went_to_government outcome recorded) and 上级转办 (came in by the referral channel), incidents each
        "upward": {"went_to_government": int(upward[0]), "referrals": int(upward[1])},
        # 整改 opened in the period (verified from the archive; running ones: followups.add_running) and 频繁停电 lines
        "correctives": correctives_section(corrective, None, corrective),
        "lines": line_rows(db, end, hall, halls),
    }


def founded_rate(founded: int, partly: int, not_founded: int) -> float:
    """Founded and partly founded over the incidents with a finding (0.0 without any)."""
    found = founded + partly + not_founded
    return round((founded + partly) / found, 4) if found else 0.0


def findings_section(rows, incidents: int) -> dict[str, Any]:
    """有效投诉: founded / partly / not founded, the founded rate, and the same by cause (causes in the causes file's
    order, then any other the archive holds), each cause with its zh-CN label (playbooks/finding_causes.yaml)."""
    from groupdesk.playbooks.causes import cause_label, current_causes

    keys = {"yes": "founded", "partly": "partly", "no": "not_founded"}
    causes = current_causes()
    by_cause: dict[str, dict[str, Any]] = {}
    for cause, founded, n in rows:
        cause = cause or "other"
        row = by_cause.setdefault(cause, {"cause": cause, "label": cause_label(causes, cause),
                                          "founded": 0, "partly": 0, "not_founded": 0})
        row[keys.get(founded, "not_founded")] += int(n)
    order = {cause: i for i, cause in enumerate(causes)}
    cause_rows = sorted(by_cause.values(), key=lambda x: (order.get(x["cause"], len(order)), x["cause"]))
    for row in cause_rows:
        row["incidents"] = row["founded"] + row["partly"] + row["not_founded"]
        row["founded_rate"] = founded_rate(row["founded"], row["partly"], row["not_founded"])
    total = {k: sum(x[k] for x in cause_rows) for k in ("founded", "partly", "not_founded")}
    with_finding = sum(total.values())
    return {**total, "with_finding": with_finding, "without_finding": incidents - with_finding,
            "founded_rate": founded_rate(**total), "by_cause": cause_rows}


def _distribution(rows) -> dict[str, int]:
    """Scores 1-5 answered, then follow-ups that expired or never were (always every key, for a chart)."""
    found = {str(n): 0 for n in range(1, 6)} | {"expired": 0, "none": 0}
    for follow_up, score, count in rows:
        key = str(score) if follow_up == "answered" and score else ("expired" if follow_up == "expired" else "none")
        found[key] += count
    return found


def csv_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report flattened for a spreadsheet: section, key, metric, value."""
    out = [{"section": "totals", "key": "", "metric": k, "value": v} for k, v in report["totals"].items()]
    for section, key in (("by_playbook", "playbook"), ("by_hall", "hall_id"), ("by_week", "week"),
                         ("by_category", "category"), ("by_channel", "channel")):
        out += [{"section": section, "key": row[key], "metric": "incidents", "value": row["incidents"]}
                for row in report[section]]
    out += [{"section": "by_category_week", "key": f"{row['category']} {row['week']}", "metric": "incidents",
             "value": row["incidents"]} for row in report["by_category_week"]]
    if report.get("open"):
        out += [{"section": "open", "key": "", "metric": "incidents", "value": report["open"]["incidents"]}]
        out += [{"section": "open", "key": row["hall_id"], "metric": "incidents", "value": row["incidents"]}
                for row in report["open"]["by_hall"]]
    for row in report["steps"]:
        out += [{"section": "steps", "key": f"{row['playbook']}/{row['step']}", "metric": m, "value": row[m]}
                for m in row if m not in ("playbook", "step")]
    out += [{"section": "satisfaction", "key": k, "metric": "incidents", "value": v}
            for k, v in report["satisfaction"].items()]
    out += [{"section": "dissatisfied", "key": "", "metric": k, "value": v} for k, v in report["dissatisfied"].items()]
    out += [{"section": "promises", "key": "", "metric": k, "value": v} for k, v in report["promises"].items()]
    findings = report.get("findings") or {}
    out += [{"section": "findings", "key": "", "metric": k, "value": v} for k, v in findings.items() if k != "by_cause"]
    for row in findings.get("by_cause", []):
        out += [{"section": "findings_by_cause", "key": row["cause"], "metric": m, "value": row[m]}
                for m in ("incidents", "founded", "partly", "not_founded", "founded_rate")]
    out += [{"section": "upward", "key": "", "metric": k, "value": v} for k, v in (report.get("upward") or {}).items()]
    out += [{"section": "correctives", "key": "", "metric": k, "value": v}
            for k, v in (report.get("correctives") or {}).items()]
    out += [{"section": "lines", "key": row["feeder"], "metric": m, "value": row[m]}
            for row in report.get("lines") or [] for m in ("outages_12m", "status")]
    return out
