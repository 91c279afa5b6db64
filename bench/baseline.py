"""The baseline: a bare Temporal workflow doing per incident what groupdesk's does, minus groupdesk.

The same number of activities, updates and timers as a groupdesk incident on the same path,
with no playbook, templates, staff directory or outbox: the most the engine can do here.

    python bench/baseline.py worker      # a worker on task queue "baseline" (TEMPORAL_ADDRESS)
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Awaitable, Callable

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

TASK_QUEUE = "baseline"


@dataclass
class Plan:
    first_activities: int  # sent when the incident starts (the first SMS)
    updates: int  # outcomes recorded by staff
    activities_per_update: int
    timer_seconds: float  # one deadline timer per update, like a step's deadline


@activity.defn
async def noop_sms(workflow_id: str) -> float:
    """Stands for an SMS: records when it ran, nothing else."""
    path = Path(os.environ.get("BASELINE_DB", "baseline.sqlite3"))
    now = time.time()
    await asyncio.to_thread(_record, path, workflow_id, now)
    return now


def _record(path: Path, workflow_id: str, at: float) -> None:
    with sqlite3.connect(path, timeout=30) as db:
        db.execute("CREATE TABLE IF NOT EXISTS sent (workflow_id TEXT, at REAL)")
        db.execute("INSERT INTO sent VALUES (?, ?)", (workflow_id, at))


@workflow.defn
class BaselineIncident:
    def __init__(self) -> None:
        self.updates = 0
        self.waiting_for = 0

    @workflow.run
    async def run(self, plan: Plan) -> int:
        wid = workflow.info().workflow_id
        await asyncio.gather(*(self.sms(wid) for _ in range(plan.first_activities)))
        for n in range(plan.updates):
            self.waiting_for = n + 1
            try:
                await workflow.wait_condition(lambda: self.updates > n, timeout=plan.timer_seconds)
            except asyncio.TimeoutError:
                await self.sms(wid)  # the reminder a missed deadline sends
                await workflow.wait_condition(lambda: self.updates > n)
            await asyncio.gather(*(self.sms(wid) for _ in range(plan.activities_per_update)))
        return self.updates

    async def sms(self, wid: str) -> None:
        await workflow.execute_activity(noop_sms, wid, start_to_close_timeout=timedelta(seconds=10))

    @workflow.update
    def step(self) -> int:
        self.updates += 1
        return self.updates

    @workflow.query
    def waiting(self) -> int:
        return self.waiting_for


async def drive(client: Client, wid: str, plan: Plan, sent: Callable[[], Awaitable[int]], poll: float) -> None:
    """Run one baseline incident: start it, record each update once its activities have run, await the end."""
    handle = await client.start_workflow(BaselineIncident.run, plan, id=wid, task_queue=TASK_QUEUE)
    for step in range(plan.updates):
        expected = plan.first_activities + step * plan.activities_per_update
        while await sent() < expected:
            await asyncio.sleep(poll)
        await handle.execute_update(BaselineIncident.step)
    await handle.result()


async def start(client: Client, wid: str, plan: Plan) -> None:
    """Start one baseline incident without driving it (the bench's burst of starts)."""
    await client.start_workflow(BaselineIncident.run, plan, id=wid, task_queue=TASK_QUEUE)


async def history_length(client: Client, wid: str) -> int:
    return len((await client.get_workflow_handle(wid).fetch_history()).events)


async def run_worker() -> None:
    client = await Client.connect(os.environ.get("TEMPORAL_ADDRESS", "127.0.0.1:7233"))
    worker = Worker(client, task_queue=TASK_QUEUE, workflows=[BaselineIncident], activities=[noop_sms])
    print("baseline worker started", flush=True)
    await worker.run()


if __name__ == "__main__":
    if sys.argv[1:] == ["worker"]:
        asyncio.run(run_worker())
    else:
        sys.exit(__doc__)
