"""Frequent-outage lines at the start of an outage incident: the 2nd outage on a line within 12 months texts the
centre director and the grid operations duty desk (`feeder_warning`); the 3rd is marked on the timeline (the client
opens the special study's corrective action). The count is the client's (archive and open incidents), in the start."""

from __future__ import annotations

from datetime import datetime
from types import MappingProxyType

from workflows.machine.record import Record

WARNED = ("centre_director", "grid_operations")
FEEDER_WARNING = MappingProxyType({
    "zh-CN": "频繁停电预警 {{ recipient_name }}:线路 {{ feeder }} 12个月内第 {{ outages }} 次停电引发投诉(事件"
             " {{ incident_id }},{{ hall_name }}),已列入预警,请加强管控。",
    "en": "Frequent-outage warning {{ recipient_name }}: line {{ feeder }} has had {{ outages }} outages complained"
          " of within 12 months (incident {{ incident_id }}, {{ hall_name }}); it is on warning: raise control.",
})


def mark_line(rec: Record, now: datetime) -> None:
    start = rec.start
    if not start.registration.feeder or not start.feeder_alert:
        return
    feeder, n = start.registration.feeder, start.feeder_outages
    if start.feeder_alert == "warning":
        rec.log(now, "feeder_warning", detail=f"{feeder}: {n} outages in 12 months; told {', '.join(WARNED)}")
        rec.effects.append(rec.messages.inline("feeder_warning", list(WARNED), "feeder", FEEDER_WARNING,
                                               {"feeder": feeder, "outages": n}))
    else:
        rec.log(now, "feeder_study", detail=f"{feeder}: {n} outages in 12 months; special study and corrective plan")
