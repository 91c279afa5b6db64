"""Scripted staff for the service-attitude playbook (更换当事人): every path as data, driven against a running
incident (recorded histories, drills) or the pure machine (tests). The guide zhao.min is complained about; the hall
lead and the director act."""

from __future__ import annotations

from typing import Awaitable, Callable, NamedTuple

from groupdesk.core.models import RecordOutcome
from groupdesk.drills.smart_meter import Target, wait_for
from groupdesk.incidents.gateway import Incident

SERVICE_ATTITUDE = "service-attitude-complaint"
PERSON_INVOLVED = "zhao.min"  # the guide at 西城 the customer complains about
FINDING = {"finding": "当事员工答复生硬、未起身接待", "measure": "批评教育,参加服务礼仪培训,当月考核扣分"}


class Act(NamedTuple):
    step: str
    outcome: str
    actor: str
    note: str = ""
    data: dict[str, str] = {}

    def request(self) -> RecordOutcome:
        return RecordOutcome(step=self.step, outcome=self.outcome, actor=self.actor, note=self.note,
                             data=dict(self.data))


_FOUNDED = [Act("take_over", "received", "sun.li"), Act("investigate", "confirmed", "sun.li")]

# Every path of the service-attitude playbook, by name (its recorded histories are "service-attitude-<name>").
SERVICE_ATTITUDE_ACTS: dict[str, list[Act]] = {
    "apology_accepted": _FOUNDED + [Act("apology", "accepted", "sun.li"),
                                    Act("accountability", "recorded", "sun.li", data=FINDING)],
    "director_apology": _FOUNDED + [Act("apology", "not_accepted", "sun.li"),
                                    Act("director_apology", "done", "wang.jun"),
                                    Act("accountability", "recorded", "wang.jun", data=FINDING)],
    "not_founded": [Act("take_over", "received", "sun.li"),
                    Act("investigate", "not_confirmed", "sun.li", note="录像显示员工接待规范,客户误会"),
                    Act("accountability", "recorded", "sun.li",
                        data={"finding": "投诉不属实,员工接待规范", "measure": "无需处理,向客户说明核实结果"})],
}


def driver(acts: list[Act]) -> Callable[[Target], Awaitable[None]]:
    """Record each act once its step is under way, through the same Update the CLI sends."""

    async def drive(handle: Target) -> None:
        for act in acts:
            await wait_for(handle, lambda st, step=act.step: step in st.current_steps)
            await Incident.of(handle).record_outcome(act.request())

    return drive


SERVICE_ATTITUDE_PATHS = {name: driver(acts) for name, acts in SERVICE_ATTITUDE_ACTS.items()}
