"""Driving incidents in tests the way staff do: through the workflow's Updates."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from datetime import datetime, timedelta

from temporalio.client import WorkflowHandle

from groupdesk.incidents.gateway import start_incident
from groupdesk.core.models import DecideApproval, IncidentState, RecordFollowUp, RecordOutcome
from groupdesk.messaging.outbox import Outbox
from worker import build_worker
from workflows.group_incident import GroupIncidentWorkflow

WF = GroupIncidentWorkflow


@contextlib.asynccontextmanager
async def running_worker(env, settings):
    async with build_worker(env.client, settings):
        yield


async def start(env, settings, request) -> WorkflowHandle:
    return await start_incident(env.client, settings, request)


async def outcome(handle, step, name, actor, note="", **data):
    return await handle.execute_update(WF.record_outcome, RecordOutcome(step=step, outcome=name, actor=actor,
                                                                        note=note, data=data))


async def decide(handle, actor, approve=True, reason=""):
    return await handle.execute_update(WF.decide_approval, DecideApproval(
        decision="approve" if approve else "reject", actor=actor, reason=reason))


async def answer_follow_up(handle, score, actor="sun.li", comment=""):
    return await handle.execute_update(WF.record_follow_up, RecordFollowUp(score=score, actor=actor, comment=comment))


async def state(handle) -> IncidentState:
    return await handle.query(WF.state)


async def settle(env, handle, seconds: float = 1) -> IncidentState:
    """Let a little workflow time pass so queued messages are sent, then read the state."""
    await env.sleep(timedelta(seconds=seconds))
    return await state(handle)


async def through_talk(handle):
    await outcome(handle, "move_to_vip_room", "done", "zhao.min")
    await outcome(handle, "keep_order", "done", "qian.lei")


def messages(settings, incident_id):
    return Outbox(settings).list(incident_id=incident_id)


def timeline(st: IncidentState, kind: str, step: str | None = None):
    return [e for e in st.timeline if e.kind == kind and (step is None or e.step == step)]


def local(dt: datetime):
    from groupdesk.core.workcal import LOCAL_TZ

    return dt.astimezone(LOCAL_TZ)


async def visible(client, query: str, tries: int = 60) -> None:
    """Wait until Temporal visibility answers `query` (it trails the workflow by a moment)."""
    import asyncio

    for _ in range(tries):
        if [w async for w in client.list_workflows(query, limit=1)]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"visibility never showed: {query}")


async def approval_code_by_sms(client, settings, incident_id: str, tries: int = 300) -> str:
    """The code the director's approval SMS carries, once visibility knows it by its keyed hash.

    The director reads it on the phone; tests read it from the outbox row that sent that SMS.
    """
    import asyncio
    import re

    from groupdesk.runtime.keyed import code_key
    from groupdesk.core import search_attributes as sa

    for _ in range(tries):
        sent = [m for m in Outbox(settings).list(incident_id)
                if m.purpose == "approval_request" and m.role == "centre_director"]
        if sent:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"{incident_id}: no approval request SMS to the director")
    code = re.search(r"(?:同意|Y) (\d{6})", sent[-1].body).group(1)
    await visible(client, f'{sa.APPROVAL_KEY.name} = "{code_key(settings.hash_key(), code)}"')
    return code


async def run_cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    """`groupdesk ARGS` in a subprocess with only the given groupdesk/Twilio settings, without blocking the loop."""
    from groupdesk.runtime.config import REPO_ROOT

    full = {k: v for k, v in os.environ.items() if not k.startswith(("GROUPDESK_", "TWILIO_"))} | env
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "groupdesk.cli", *args, env=full,
                                                   cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await process.communicate()
    return subprocess.CompletedProcess(args, process.returncode, out.decode(), err.decode())
