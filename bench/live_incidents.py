"""mass_event.py --live: incidents parked on timers, then the lag of short deadlines, the board and memory."""

from __future__ import annotations

import asyncio
import time

from temporalio.client import Client

from groupdesk.engine.visibility import list_query
from groupdesk.incidents.gateway import Gateway
from groupdesk.messaging.outbox import Outbox
from groupdesk.web.board import first_page as board_page
from measures import rss_mb, ts
from targets import pct


async def live_mode(bench, client: Client, sizes: list[int], worker_pid: int, server_pid: int) -> list[dict]:
    """Park incidents on long timers, then time a probe of short deadlines, the board's list and memory."""
    rows, parked, gateway = [], 0, Gateway(client, bench.settings)
    for size in sizes:
        while parked < size:
            batch = range(parked, min(size, parked + 200))
            await asyncio.gather(*(bench.start(gateway, bench.request(i, "live", 1.0, parked=True)) for i in batch))
            parked = batch[-1] + 1
        caught_up = time.monotonic()
        outbox = Outbox(bench.settings)
        last = -1
        while time.monotonic() - caught_up < 600:  # until every parked incident's first messages have gone out
            sent = [m.incident_id for m in await asyncio.to_thread(outbox.list) if m.incident_id.startswith("live-")]
            if len(set(sent)) >= size and len(sent) == last:
                break
            last = len(sent)
            await asyncio.sleep(1)
        backlog_s = time.monotonic() - caught_up
        probe = [bench.request(i, f"probe{size}", 300.0) for i in range(20)]  # 5 min deadline -> 1 s
        await asyncio.gather(*(bench.start(gateway, r) for r in probe))
        waited = time.monotonic()
        while time.monotonic() - waited < 120 and any(  # every probe reminded (they are due after 1 s)
                not any(m.purpose == "reminder" for m in outbox.list(r.incident_id)) for r in probe):
            await asyncio.sleep(1)
        lag = []
        for r in probe:
            state = await _patient_state(gateway, r.incident_id)
            for m in outbox.list(r.incident_id):
                if m.purpose == "reminder" and state.steps.get(m.step) and state.steps[m.step].deadline_at:
                    lag.append(ts(m.created_at) - state.steps[m.step].deadline_at.timestamp())
        began = time.perf_counter()
        page = await board_page(gateway, list_query(status="open"), bench.playbooks)
        page_ms = (time.perf_counter() - began) * 1000
        began = time.perf_counter()
        listed = await gateway.list(list_query(status="open"))
        list_ms = (time.perf_counter() - began) * 1000
        rows.append({"live": size, "listed": len(listed), "backlog_cleared": backlog_s < 600, "board_first_page_ms": round(page_ms, 1),
                     "board_page_rows": len(page["rows"]), "board_open_count": page["counts"]["open"],
                     "first_sms_backlog_s": round(backlog_s, 1), "full_list_ms": round(list_ms, 1),
                     "worker_rss_mb": round(rss_mb(worker_pid), 1), "server_rss_mb": round(rss_mb(server_pid), 1),
                     "timer_lag_p50_s": round(pct(lag, 50), 3), "timer_lag_p99_s": round(pct(lag, 99), 3)})
        print(f"  live {size}: {rows[-1]}", flush=True)
    return rows


async def _patient_state(gateway: Gateway, incident_id: str):
    """A probe's state by query, waiting out a worker still busy with thousands of parked incidents."""
    from temporalio.service import RPCError

    for attempt in range(6):
        try:
            return await gateway.state(incident_id)
        except RPCError:
            if attempt == 5:
                raise
            await asyncio.sleep(5)
