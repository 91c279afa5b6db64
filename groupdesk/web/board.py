"""The live board's read side: counts from Temporal's CountWorkflowExecutions, rows in words and by urgency."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from groupdesk.people.directory import Directory
from groupdesk.web.labels import hall_name
from groupdesk.core.playbook import Playbook
from groupdesk.web.diagram import levels
from groupdesk.core import search_attributes as sa

SOON = timedelta(minutes=5)
TIERS = (1, 2, 3, 4)
PAGE = 50  # rows on the board's first page: the most urgent; the counts above it cover every incident


def approval_steps(playbooks: dict[str, Playbook]) -> list[str]:
    return sorted({sid for pb in playbooks.values() for sid, step in pb.steps.items() if step.kind == "approval"})


def _quoted(values) -> str:
    from groupdesk.engine.visibility import literal

    return ", ".join(literal(v, "value") for v in values)


async def board_counts(gateway, base: str, playbooks: dict[str, Playbook], now: datetime) -> dict:
    """Open, awaiting approval, overdue at `now`, by warning tier, with failed actions: one count query each."""
    from groupdesk.engine.visibility import overdue

    waiting = approval_steps(playbooks)
    queries = {
        "open": base,
        "approval": f"{base} AND {sa.CURRENT_STEPS.name} IN ({_quoted(waiting)})" if waiting else None,
        "overdue": f"{base} AND {overdue(now)}",
        "failed": f"{base} AND {sa.FAILED_ACTIONS.name} > 0",
        **{f"tier{n}": f"{base} AND {sa.WARNING_TIER.name} = {n}" for n in TIERS},
    }

    async def count(query: str | None) -> int:
        return await gateway.count(query) if query else 0

    found = await asyncio.gather(*(count(q) for q in queries.values()))
    counts = dict(zip(queries, found))
    counts["tiers"] = {n: counts.pop(f"tier{n}") for n in TIERS}
    return counts


def progress(pb: Playbook | None, current: list[str], stage: str) -> dict:
    """How far along the playbook's longest path the incident is: filled segments out of the total."""
    if pb is None:
        return {"done": 0, "total": 1}
    level = levels(pb)
    total = max(level.values(), default=0) + 1
    if stage in ("follow_up", "closed"):
        return {"done": total, "total": total}
    at = max((level.get(s, 0) for s in current), default=0)
    return {"done": at, "total": total}


def urgency(row: dict, now: datetime) -> str:
    if row.get("overdue"):
        return "overdue"
    deadline = row.get("next_deadline")
    if deadline and datetime.fromisoformat(deadline) - now <= SOON:
        return "soon"
    return ""


def stage_words(pb: Playbook | None, row: dict, lang: str) -> str:
    if row.get("stage") == "follow_up":
        return "等待回访" if lang != "en" else "awaiting follow-up"
    if row.get("stage") == "waiting_child":  # a hand-over: the child incident decides what comes next
        return "等待转交事件的结果" if lang != "en" else "waiting for the handed-over incident"
    if row.get("status") == "closed" or row.get("stage") == "closed":
        return "已办结" if lang != "en" else "closed"
    steps = [s for s in row.get("current_steps") or [] if pb is None or pb.steps.get(s) is None
             or pb.steps[s].kind != "close"]
    titles = [pb.step_title(s, lang) if pb else s for s in steps]
    return "、".join(titles) if lang != "en" else "; ".join(titles)


def board_rows(rows: list[dict], playbooks: dict[str, Playbook], directory: Directory | None, lang: str,
               now: datetime) -> list[dict]:
    """Rows with hall names, step titles, the progress strip and urgency; most urgent first."""
    waiting = set(approval_steps(playbooks))
    shown = []
    for row in rows:
        pb = playbooks.get(row.get("playbook") or "")
        shown.append({
            **row, "hall_name": hall_name(directory, row["hall"], lang), "stage_title": stage_words(pb, row, lang),
            "approval_pending": bool(row.get("approval_pending")) or bool(waiting & set(row.get("current_steps") or [])),
            "progress": progress(pb, row.get("current_steps") or [], row.get("stage") or ""),
            "urgency": urgency(row, now),
        })
    rank = {"overdue": 0, "soon": 1, "": 2}
    return sorted(shown, key=lambda r: (rank[r["urgency"]], r.get("next_deadline") or "9999", r["id"]))


_playbooks: dict[str, tuple[tuple, dict[str, Playbook]]] = {}


def current_playbooks(directory) -> dict[str, Playbook]:
    """The playbooks on disk, loaded again only when a file changes (the board asks every second)."""
    from groupdesk.playbooks.loader import PlaybookError, load_playbooks, playbook_files

    files = playbook_files(directory)
    stamp = tuple((str(p), p.stat().st_mtime_ns) for p in files)
    cached = _playbooks.get(str(directory))
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        found = load_playbooks(directory)
    except PlaybookError:
        found = cached[1] if cached else {}
    _playbooks[str(directory)] = (stamp, found)
    return found


def scope_query(viewer, hall: str | None, tier: int | None, stage: str | None, drill: bool | None,
                unit_halls: list[str] | None = None) -> str | None:
    """The open incidents this viewer may see (of the halls below a unit, when one is chosen), with the board's
    filters; None when they may see none."""
    from groupdesk.engine.client import list_query

    query = list_query(hall=hall, status="open", tier=tier, drill=drill, stage=stage)
    halls = None if viewer.sees_everything else viewer.visible_halls()
    if unit_halls is not None:
        halls = set(unit_halls) if halls is None else halls & set(unit_halls)
    if halls is not None:
        if not halls:
            return None
        query += f" AND {sa.HALL.name} IN ({_quoted(sorted(halls))})"
    return query


async def urgent_rows(gateway, query: str, now: datetime, size: int = PAGE) -> list[dict]:
    """The `size` most urgent rows without reading every open incident: overdue ones, then those due
    within SOON, then others, each a visibility query with a limit (Temporal's SQL visibility has no
    ORDER BY on custom attributes, so urgency is asked for bucket by bucket)."""
    from groupdesk.engine.visibility import due_between, overdue

    buckets = (f" AND {overdue(now)}", f" AND {due_between(now, now + SOON)}",
               "")  # the rest (and incidents from before the board's attributes); overlaps are dropped
    rows: dict[str, dict] = {}
    for clause in buckets:
        if len(rows) >= size:
            break
        limit = size - len(rows) if clause else size + len(rows)
        for row in await gateway.list(query + clause, limit=limit):
            rows.setdefault(row["id"], row)
    return list(rows.values())[:size]


async def first_page(gateway, query: str, playbooks: dict[str, Playbook], directory: Directory | None = None,
                     lang: str = "zh", now: datetime | None = None, size: int = PAGE) -> dict:
    """Counts of every incident the query matches, and the first page of rows, most urgent first."""
    now = now or datetime.now().astimezone()
    rows, counts = await asyncio.gather(urgent_rows(gateway, query, now, size),
                                        board_counts(gateway, query, playbooks, now))
    return {"counts": counts, "rows": board_rows(rows, playbooks, directory, lang, now)}


async def board(console, viewer, lang: str, now: datetime, hall=None, tier=None, stage=None, drill=None,
                unit=None, ticket=None) -> dict:
    """What the board shows: counts of every incident in scope at the top, and the first page of rows."""
    playbooks = current_playbooks(console.settings.playbooks_dir)
    unit_halls = None
    if unit:
        if console.directory().unit(unit) is None:
            from groupdesk.engine.visibility import QueryValueError

            raise QueryValueError(f"unit: unknown unit {unit[:60]!r}; units: "
                                  f"{', '.join(u.id for u in console.directory().units)}")
        unit_halls = console.directory().halls_below(unit)
    query = scope_query(viewer, hall, tier, stage, drill, unit_halls)
    if query is None:
        return {"counts": {"open": 0, "approval": 0, "overdue": 0, "failed": 0, "tiers": {n: 0 for n in TIERS},
                           **NO_FOLLOW_UPS}, "rows": []}
    console.check_filters(hall, tier, stage)
    if ticket:  # the search: incidents registered with this work-order number (any channel)
        from groupdesk.core.intake import search_problem
        from groupdesk.engine.visibility import QueryValueError
        from groupdesk.incidents.tickets import ticket_clause

        if problem := search_problem(ticket):
            raise QueryValueError(f"ticket: {problem}")
        query += " AND " + ticket_clause(console.settings, ticket)
    gateway = await console.gateway()
    page, follow_ups = await asyncio.gather(first_page(gateway, query, playbooks, console.directory(), lang, now),
                                            follow_up_counts(gateway, viewer, hall, unit_halls))
    page["counts"].update(follow_ups)
    return page


# ---- what outlives incidents: corrective actions (整改) and frequent-outage lines (频繁停电) ----------------------

NO_FOLLOW_UPS = {"correctives_open": 0, "correctives_overdue": 0, "lines_warning": []}
LINES_TTL = 60.0  # seconds: the lines read the archive and visibility; the board asks every second
_lines_cache: dict[int, tuple[float, list[dict]]] = {}


async def follow_up_counts(gateway, viewer, hall: str | None, unit_halls: list[str] | None) -> dict:
    """Corrective actions not verified (and those overdue) in the viewer's halls, and the lines on warning or under
    special study (all lines: a line crosses halls)."""
    import time

    from groupdesk.engine.visibility import RUNNING

    halls = None if viewer.sees_everything else viewer.visible_halls()
    if unit_halls is not None:
        halls = set(unit_halls) if halls is None else halls & set(unit_halls)
    if hall:
        halls = {hall} if halls is None else halls & {hall}
    if halls is not None and not halls:
        return dict(NO_FOLLOW_UPS)
    base = f'WorkflowType = "CorrectiveAction" AND {RUNNING}'
    if halls is not None:
        base += f" AND {sa.HALL.name} IN ({_quoted(sorted(halls))})"
    key = id(gateway.settings)
    cached = _lines_cache.get(key)
    if cached is None or time.monotonic() - cached[0] > LINES_TTL:
        cached = _lines_cache[key] = (time.monotonic(), await gateway.lines(on_warning=True))
    opened, overdue = await asyncio.gather(
        gateway.count(f"{base} AND {sa.STATUS.name} != \"verified\""),
        gateway.count(f"{base} AND {sa.OVERDUE.name} = true"))
    return {"correctives_open": opened, "correctives_overdue": overdue,
            "lines_warning": [{"feeder": r["feeder"], "status": r["status"], "outages_12m": r["outages_12m"]}
                              for r in cached[1]]}
