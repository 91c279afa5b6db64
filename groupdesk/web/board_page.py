"""The live board page and its stream of server-sent events: counts and rows, each time they change."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from groupdesk.web.auth import session_live
from groupdesk.web.board import board as board_view
from groupdesk.web.i18n import tier_label, translator
from groupdesk.web.pages import _local, console, lang_of, page, step_titles, templates, viewer_or_login
from groupdesk.web.permissions import Viewer
from groupdesk.web.promise_console import due_today

router = APIRouter(include_in_schema=False)


def _filters(request: Request) -> dict:
    q = request.query_params
    tier = q.get("tier", "")
    drill = {"drill": True, "real": False}.get(q.get("kind", ""))
    return {"hall": q.get("hall") or None, "tier": int(tier) if tier.isascii() and tier.isdigit() else None,
            "stage": q.get("stage") or None, "drill": drill, "unit": q.get("unit") or None,
            "ticket": (q.get("ticket") or "").strip() or None}


def _board_words(lang: str) -> dict:
    en = lang == "en"
    return {"h": "h" if en else "小时", "m": "m" if en else "分", "s": "s" if en else "秒",
            "left": "{} left" if en else "剩余 {}", "late": "{} overdue" if en else "已超时 {}"}


@router.get("/")
async def board(request: Request, viewer: Viewer = Depends(viewer_or_login)) -> HTMLResponse:
    lang = lang_of(request)
    shown = await board_view(console(request), viewer, lang, datetime.now(timezone.utc), **_filters(request))
    directory = console(request).directory()
    halls = [h for h in directory.halls if viewer.may_view(h.id)]
    units = [u for u in directory.units if any(viewer.may_view(h) for h in directory.halls_below(u.id))]
    return page(request, "board.html", viewer, rows=shown["rows"], counts=shown["counts"], halls=halls, units=units,
                stages=step_titles(request, lang), query=request.url.query, q=request.query_params,
                words=_board_words(lang), promises_today=await due_today(console(request), viewer, lang))


def _fragment(request: Request, name: str, **context) -> str:
    lang = lang_of(request)
    return templates.get_template(name).render(t=translator(lang), lang=lang, tier=lambda n: tier_label(n, lang),
                                               **context)


PROMISES_EVERY = 5  # seconds between two searches for the promises due today, on an open board


@router.get("/events/board")
async def board_events(request: Request, viewer: Viewer = Depends(viewer_or_login)) -> StreamingResponse:
    """Server-sent events: counts and rows (as data and as rendered HTML), each time they change (checked every second)."""
    filters = _filters(request)
    lang = lang_of(request)
    # Bad filters are refused here (400 naming the field), not in the middle of a stream.
    first = [await board_view(console(request), viewer, lang, datetime.now(timezone.utc), **filters)]

    async def stream():
        last, due, tick = None, [], 0
        while not await request.is_disconnected() and session_live(request):  # sign-out ends the stream
            shown = first.pop() if first else \
                await board_view(console(request), viewer, lang, datetime.now(timezone.utc), **filters)
            if tick % PROMISES_EVERY == 0:  # one search by due time, not every second
                due = await due_today(console(request), viewer, lang)
            shown["promises_today"], tick = due, tick + 1
            payload = json.dumps(shown, ensure_ascii=False, sort_keys=True, default=str)
            if payload != last:
                last = payload
                shown["html"] = {"rows": _fragment(request, "board_rows.html", rows=shown["rows"]),
                                 "counts": _fragment(request, "board_counts.html", counts=shown["counts"]),
                                 "promises": _fragment(request, "promises_today.html", promises_today=due,
                                                       local=lambda m: _local(m, lang))}
                yield f"event: board\ndata: {json.dumps(shown, ensure_ascii=False, default=str)}\n\n"
            else:
                yield ": keep-alive\n\n"
            await asyncio.sleep(1)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
