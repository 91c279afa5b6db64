"""The console's Prometheus metrics: what is open right now, by hall and warning tier."""

from __future__ import annotations

from collections import Counter

from fastapi import Response
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from groupdesk.engine.visibility import list_query


async def render_metrics(console) -> Response:
    registry = CollectorRegistry()
    open_incidents = Gauge("groupdesk_open_incidents", "open incidents", ["hall", "tier", "drill"], registry=registry)
    overdue = Gauge("groupdesk_overdue_incidents", "open incidents with a step past its deadline", ["hall"],
                    registry=registry)
    parked = Gauge("groupdesk_parked_failures", "failed actions waiting for ops", ["hall"], registry=registry)
    rows = await (await console.gateway()).list(list_query(status="open"))
    for (hall, tier, drill), n in Counter((r["hall"], r["warning_tier"], r["drill"]) for r in rows).items():
        open_incidents.labels(hall=hall, tier=str(tier), drill=str(bool(drill)).lower()).set(n)
    for hall in {r["hall"] for r in rows}:
        overdue.labels(hall=hall).set(sum(1 for r in rows if r["hall"] == hall and r["overdue"]))
        parked.labels(hall=hall).set(sum(r["failed_actions"] for r in rows if r["hall"] == hall))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
