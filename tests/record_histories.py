"""Record a full history of every current path of every playbook on the real dev server, for the replay tests.

    make record-histories                                      # all of them, into tests/histories/
    .venv/bin/python tests/record_histories.py --only=talk_accepted,handed_over   # just those names
    .venv/bin/python tests/record_histories.py --playbook outage-group-complaint  # one library playbook's paths

What is recorded, each as tests/histories/<name>.json (a hand-over the parent waits for drives the child too;
its history is <name>-child.json):
- the smart-meter drills of groupdesk.drills.smart_meter (PATHS, RECORDED_ONLY), the hand-over ladder (LADDER_PATHS), the
  dispute ladder on its own, the service-attitude paths and a media-present start (publicity alert);
- `sensitive-period-approved_then_metrology`: started inside a sensitive period;
- `single-complaint-amended-became_group`: a single complaint amended (media arrives; 6 people about an outage,
  a corrected 户号), then handed over by became_group (the parent closes; its child runs on, not recorded);
- `finding-founded-sent_back`: a founded finding, sent back by the director, corrected and confirmed;
- every path of every playbook in playbooks/ (groupdesk.drills.paths: <playbook>-<choices>), and its two
  dissatisfied follow-ups where the playbook reopens.
Each runs as a drill on compressed time, so reminders, escalations and the follow-up all happen within
seconds and end up in the history. Paths run a few at a time; histories from before this code are not
touched (tests/histories/perf-timers/, retired/: README, "Versioning").
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.client import WorkflowExecutionStatus  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from groupdesk.engine.binaries import temporal_cli  # noqa: E402
from groupdesk.runtime.config import EXAMPLE_DIRECTORY, REPO_ROOT, Settings  # noqa: E402
from groupdesk.core import search_attributes as sa  # noqa: E402
from groupdesk.core.models import RecordOutcome  # noqa: E402
from groupdesk.core.periods import SensitivePeriod  # noqa: E402
from groupdesk.people.directory import load_directory  # noqa: E402
from groupdesk.drills.smart_meter import PATHS, RECORDED_ONLY, answer_follow_up, talk_accepted  # noqa: E402
from groupdesk.drills.handovers import LADDER_OWN_PATHS, LADDER_PATHS  # noqa: E402
from groupdesk.drills.paths import drive, reopened_route, routes  # noqa: E402
from groupdesk.drills.service_attitude import PERSON_INVOLVED, SERVICE_ATTITUDE, SERVICE_ATTITUDE_PATHS  # noqa: E402
from groupdesk.incidents.gateway import start_incident  # noqa: E402
from groupdesk.incidents.registration import prepare_start  # noqa: E402
from groupdesk.playbooks.loader import find_playbook, playbook_files  # noqa: E402
from worker import build_worker  # noqa: E402

HISTORIES = Path(__file__).resolve().parent / "histories"
TIME_SCALE = 20_000.0  # 5 min -> 15 ms; one working day (up to 4 days) -> under 20 s
AT_ONCE = 4  # paths recorded concurrently
# sensitive-period-approved_then_metrology starts inside this period (deadlines halved, its responsible told).
PERIOD = SensitivePeriod(name="全国两会", first_day="2027-03-03", last_day="2027-03-15", deadline_factor=0.5,
                         responsible="wang.jun")
LIBRARY = sorted(p.stem for p in playbook_files(REPO_ROOT / "playbooks"))


class Recorder:
    """Starts each path's incident as the directory's 西城 staff, drives it to its end, saves its history."""

    def __init__(self, client, settings: Settings):
        self.client, self.settings = client, settings
        self.directory = load_directory(EXAMPLE_DIRECTORY)
        self.gate = asyncio.Semaphore(AT_ONCE)
        self.jobs: dict[str, Callable[[], Awaitable[None]]] = {}

    def add(self, name: str, playbook_id: str, drive_it: Callable, answer: bool = True, **start) -> None:
        """A path to record as <name>.json (the first one added under a name wins)."""
        period = start.pop("sensitive_period", None)

        async def job() -> None:
            playbook = find_playbook(REPO_ROOT / "playbooks", playbook_id)
            request = prepare_start(directory=self.directory, playbook=playbook, hall_id="xicheng",
                                    started_by="sun.li", incident_id=history_id(name), drill=True,
                                    time_scale=TIME_SCALE, **start)
            request.sensitive_period = period
            handle = await start_incident(self.client, self.settings, request)
            await drive_it(handle)
            await save(self.client, handle, name, answer)

        self.jobs.setdefault(name, job)

    async def run(self, only: list[str] | None) -> None:
        async def one(name: str, job) -> None:
            async with self.gate:
                await job()

        await asyncio.gather(*(one(n, j) for n, j in self.jobs.items() if not only or n in only))


def smart_meter(rec: Recorder) -> None:
    group = dict(headcount=18, lead_name="张建国", lead_phone="13800138000", summary="智能电表换装后电量异常增长")
    for name, drive_it in {**PATHS, **RECORDED_ONLY, **LADDER_PATHS}.items():
        rec.add(name, "smart-meter-group-complaint", drive_it, **group)
    rec.add("sensitive-period-approved_then_metrology", "smart-meter-group-complaint",
            PATHS["approved_then_metrology"], sensitive_period=PERIOD, **group)
    rec.add("finding-founded-sent_back", "smart-meter-group-complaint", founded_finding, **group)
    rec.add("publicity-alert-talk_accepted", "smart-meter-group-complaint", talk_accepted, headcount=30,
            lead_name="王大伟", lead_phone="13700137000", summary="电费异常,记者在场",
            registration={"media_present": True, "complainant_type": "publicity"})
    rec.add("single-complaint-amended-became_group", "single-complaint", lambda handle: amended_became_group(
        handle, rec.settings.hash_key()), answer=False, headcount=1, lead_name="刘小梅", lead_phone="13500135000",
        summary="电费异常", registration={"category": "business", "account_no": "3200111111"})
    for name, drive_it in LADDER_OWN_PATHS.items():
        rec.add(f"dispute-ladder-{name}", "dispute-ladder", drive_it, headcount=2, lead_name="赵志刚",
                lead_phone="13600136000", summary="对电表校验结果有异议")
    for name, drive_it in SERVICE_ATTITUDE_PATHS.items():
        rec.add(f"service-attitude-{name}", SERVICE_ATTITUDE, drive_it, headcount=2, lead_name="李秀英",
                lead_phone="13900139000", summary="营业员态度生硬",
                registration={"person_involved": PERSON_INVOLVED, "category": "service",
                              "complainant_type": "venting"})


async def amended_became_group(handle, hash_key: bytes) -> None:
    """Media arrive; then 6 people about an outage and a corrected 户号; became_group hands over to the outage
    playbook (the data `playbook` is what the gateway would choose)."""
    from groupdesk.core.amend import AmendRegistration
    from groupdesk.core.models import RecordOutcome
    from groupdesk.drills.smart_meter import wait_for
    from groupdesk.incidents.amend import amend_keys
    from groupdesk.incidents.gateway import Incident

    incident = Incident.of(handle)
    state = await wait_for(handle, lambda s: "contact_customer" in s.current_steps)
    for req in (AmendRegistration(actor="sun.li", reason="记者到场", media_present=True),
                AmendRegistration(actor="sun.li", reason="户号听错,又来了5位邻居", headcount=6, category="outage",
                                  account_no="3200222222")):
        await incident.amend_registration(req.model_copy(update={"keys": amend_keys(hash_key, state, req)}))
    await incident.record_outcome(RecordOutcome(step="contact_customer", outcome="became_group", actor="sun.li",
                                                data={"playbook": "outage-group-complaint"}))
async def founded_finding(handle) -> None:
    """有效投诉的认定: a founded finding goes to the director, is sent back, corrected and confirmed, then closes."""
    from groupdesk.core.finding import RecordFinding
    from groupdesk.drills.smart_meter import record, wait_for
    from groupdesk.incidents.gateway import Incident

    incident = Incident.of(handle)

    async def find(founded: str, unit: str) -> None:
        await incident.finding(RecordFinding(actor="sun.li", founded=founded, cause="metering",
                                             responsible_people=["feng.tao"], responsible_unit=unit,
                                             reason="换表后未告知客户新表起码"))

    await record(handle, "move_to_vip_room", "done", "zhao.min")
    await record(handle, "keep_order", "done", "qian.lei")
    await find("yes", "xicheng")
    await record(handle, "talk_with_lead", "accepted", "sun.li")
    await wait_for(handle, lambda s: s.steps["finding_review"].deadline_at is not None)
    await incident.record_outcome(RecordOutcome(step="finding_review", outcome="sent_back", actor="wang.jun",
                                                note="责任单位应为城区客户服务中心"))
    await find("partly", "city-centre")
    await record(handle, "talk_with_lead", "accepted", "sun.li")
    await record(handle, "finding_review", "confirmed", "wang.jun")


def library(rec: Recorder, playbook_ids: list[str]) -> None:
    """Every path of each playbook (groupdesk.drills.paths), and the reopened-then-handed-over one."""
    for playbook_id in playbook_ids:
        playbook = find_playbook(REPO_ROOT / "playbooks", playbook_id)
        span = playbook.applies.headcount
        staff = {role: people[0].id for role in playbook.escalation.chain.keys() | {
            s.owner for s in playbook.steps.values()} if (people := rec.directory.staff("xicheng", role))}
        start = dict(headcount=min(max(18, span.min), span.max), lead_name="张建国", lead_phone="13800138000",
                     summary="小区频繁停电" if "outage" in playbook.id else "投诉处理",
                     registration={"person_involved": PERSON_INVOLVED, "category": "service"}
                     if "person_involved" in playbook.registration_requires else None)
        for name, choice in routes(playbook).items():
            rec.add(name, playbook_id, lambda handle, c=choice, pb=playbook, st=staff: drive(handle, pb, c, st), **start)
        if name := reopened_route(playbook):  # the first path, answered 2 (handled again), then 1 (handed over)
            first = next(iter(routes(playbook).values()))

            async def reopened(handle, pb=playbook, first=first, st=staff) -> None:
                await drive(handle, pb, first, st)
                await answer_follow_up(handle, 2)
                await drive(handle, pb, first, st)
                await answer_follow_up(handle, 1)

            rec.add(name, playbook_id, reopened, answer=False, **start)


def history_id(name: str) -> str:
    """A workflow id for a path's recording, unique even when the path's name is long."""
    wid = f"history-{name.replace('_', '-')}"
    return wid if len(wid) <= 64 else f"{wid[:55]}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"


async def save(client, handle, name: str, answer: bool = True) -> None:
    """Answer the follow-up (unless a hand-over closed it), then write <name>.json and a finished child's
    <name>-child.json."""
    if answer and (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
        await answer_follow_up(handle)
    final = await handle.result()
    history = await handle.fetch_history()
    (HISTORIES / f"{name}.json").write_text(history.to_json(), encoding="utf-8")
    print(f"{name}: {len(history.events)} events", flush=True)
    for link in final.linked:
        child = client.get_workflow_handle(link.id)
        if (await child.describe()).status == WorkflowExecutionStatus.COMPLETED:
            child_history = await child.fetch_history()
            (HISTORIES / f"{name}-child.json").write_text(child_history.to_json(), encoding="utf-8")
            print(f"{name}-child: {len(child_history.events)} events", flush=True)


async def main(only: list[str] | None, playbooks: list[str] | None) -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()), search_attributes=sa.ALL,
        data_converter=pydantic_data_converter,
    )
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(GROUPDESK_DATA_DIR=Path(tmp), GROUPDESK_TASK_QUEUE="record")
        async with build_worker(env.client, settings):
            rec = Recorder(env.client, settings)
            if not playbooks:
                smart_meter(rec)
            library(rec, playbooks or LIBRARY)
            await rec.run(only)
    await env.shutdown()


if __name__ == "__main__":
    args = sys.argv[1:]
    only_names = [n for a in args if a.startswith("--only=") for n in a[7:].split(",")]
    chosen = [a for a in args if not a.startswith("--")]
    if args and args[0] == "--playbook" and not chosen:
        sys.exit("--playbook: name a playbook id, e.g. --playbook outage-group-complaint")
    asyncio.run(main(only_names or None, chosen if args[:1] == ["--playbook"] else None))
