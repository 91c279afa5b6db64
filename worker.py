"""The groupdesk worker: runs incident workflows and their activities on the task queue."""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
from datetime import date

if __name__ == "__main__":  # a bad setting is refused before the worker's imports (~1.5 CPU-s): one line each, exit 2
    from groupdesk.startup import settings_or_exit

    settings_or_exit("worker")  # remembered: main() does not check again

import structlog
import uvloop
from temporalio.client import Client
from temporalio.worker import Worker

from activities.archive import ArchiveActivities
from activities.calendar import working_day_deadline
from activities.playbooks import PlaybookActivities
from activities.reports import ReportActivities
from activities.sms import SmsActivities
from activities.wecom_staff import WecomRoute
from groupdesk.messaging.approval_codes import ApprovalCodes
from groupdesk.engine.codec import codec_from_settings
from groupdesk.runtime.config import Settings, get_settings
from groupdesk.core.workcal import is_working_day
from groupdesk.people.directory import current_directory, load_directory
from groupdesk.runtime.logs import configure_logging
from groupdesk.messaging.outbox import Outbox
from groupdesk.messaging.status_links import StatusLinks
from groupdesk.messaging.channels import make_channels
from groupdesk.messaging.sms_templates import cached_registry
from groupdesk.storage import open_database
from workflows.corrective import CorrectiveActionWorkflow
from workflows.group_incident import GroupIncidentWorkflow
from workflows.periodic_report import PeriodicReportWorkflow
from workflows.sandbox import workflow_runner

log = structlog.get_logger("groupdesk.worker")


def build_worker(client: Client, settings: Settings) -> Worker:
    """A worker with every workflow and activity; fails at once on a bad directory or provider."""
    load_directory(settings.directory)  # a broken directory stops the worker here, not at the first SMS
    codec_from_settings(settings)  # so do malformed encryption keys
    is_working_day(date.today())  # loads the holiday calendar (~80 ms) now, not in the first incident's deadline
    outbox = Outbox(settings)
    sms = SmsActivities(
        outbox=outbox,
        provider=make_channels(settings),  # every provider GROUPDESK_SMS_ROUTES uses
        directory_loader=lambda: current_directory(settings.directory),
        codes=ApprovalCodes.for_settings(settings),
        registry_loader=lambda: cached_registry(settings.playbooks_dir),
        # GROUPDESK_STAFF_CHANNEL=wecom: staff messages go as WeCom messages, the SMS as the fallback
        wecom=WecomRoute.from_settings(settings, outbox) if settings.staff_channel == "wecom" else None,
        links=StatusLinks.for_settings(settings),  # each message to a complainant carries their status link
    )
    archive = ArchiveActivities(open_database(settings), settings.hash_key())
    reports = ReportActivities(open_database(settings), lambda: current_directory(settings.directory))
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[GroupIncidentWorkflow, PeriodicReportWorkflow, CorrectiveActionWorkflow],
        workflow_runner=workflow_runner(),
        activities=[sms.send_messages, sms.send_batch, working_day_deadline, archive.archive_incident, archive.archive_corrective,
                    reports.summaries, PlaybookActivities(settings.playbooks_dir).load],
        activity_executor=concurrent.futures.ThreadPoolExecutor(max_workers=8),
        # Each cached incident costs ~0.27 MB of RSS; fewer cached means less memory and a replay
        # when an evicted incident wakes (GROUPDESK_MAX_CACHED_WORKFLOWS, groupdesk/runtime/config.py).
        max_cached_workflows=settings.max_cached_workflows,
        # Up to half of the workflow-task polls (the SDK's default: a fifth) on the queue where new incidents'
        # first tasks wait: in a mass event the last incidents started no longer wait for their first SMS behind
        # those already running. Up to all of them (1.0) starves the running ones instead: their tasks time out
        # on the worker's own queue and are scheduled again (bench/results/profile.md, "Who waits in a surge").
        nonsticky_to_sticky_poll_ratio=0.5,
    )


async def connect_worker_client(settings: Settings) -> Client:
    """The worker's client (with the metrics runtime); `groupdesk dev` gives the console the same one, so
    a start from the console is eager: its first workflow task runs here without a round trip to the queue."""
    from groupdesk.engine.client import connect

    return await connect(settings, runtime=metrics_runtime(settings.metrics_port))


async def run_worker(settings: Settings | None = None, client: Client | None = None) -> None:
    from groupdesk.engine.client import ensure_search_attributes

    settings = settings or get_settings()
    open_database(settings)  # migrated (and earlier SQLite files imported) before any task is taken
    client = client or await connect_worker_client(settings)
    if settings.register_search_attributes:
        added = await ensure_search_attributes(client)
        log.info("search attributes checked", added=added)
    await ensure_report_schedules(client, settings)
    worker = build_worker(client, settings)
    if settings.health_port:
        await serve_health(worker, client, settings.health_port)
    sweeping = asyncio.create_task(sweep_abandoned_messages(Outbox(settings)))
    running = asyncio.create_task(worker.run())
    try:
        # "worker started" once it runs (its namespace checked, polling): /healthz says ok from that line on
        while not worker.is_running and not running.done():
            await asyncio.sleep(0.01)
        if not running.done():
            log.info("worker started", task_queue=settings.task_queue, address=settings.temporal_address,
                     sms_provider=settings.sms_provider)
        await running
    finally:
        sweeping.cancel()
        running.cancel()


async def sweep_abandoned_messages(outbox: Outbox, every: float = 60.0) -> None:
    """Every minute, messages a stopped worker left "sending" are parked as unknown, each logged for ops
    (Outbox.sweep_abandoned; every worker sweeps, the update is the same whoever makes it)."""
    from datetime import datetime, timezone

    from groupdesk.runtime.masking import mask_phone

    while True:
        try:
            for row in await asyncio.to_thread(outbox.sweep_abandoned, datetime.now(timezone.utc)):
                log.warning("sms abandoned by a stopped worker", incident_id=row.incident_id, step=row.step,
                            purpose=row.purpose, to=mask_phone(row.to_number), key=row.key)
        except Exception as exc:  # the database away for a moment: the next sweep catches up
            log.warning("abandoned messages not swept", error=str(exc))
        await asyncio.sleep(every)


async def ensure_report_schedules(client: Client, settings: Settings) -> None:
    """The weekly and monthly report schedules exist once any worker has started (a failure is logged, not fatal)."""
    from temporalio.service import RPCError

    from groupdesk.record.schedules import ensure_schedules

    try:
        log.info("report schedules checked", created=await ensure_schedules(client, settings))
    except RPCError as exc:
        log.warning("report schedules not checked", error=exc.message)


def metrics_runtime(port: int):
    """A Temporal runtime whose Prometheus exporter serves the SDK's and groupdesk's metrics."""
    if not port:
        return None
    from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"0.0.0.0:{port}")))


async def serve_health(worker: Worker, client: Client, port: int) -> None:
    """GET /healthz: 200 while the worker runs and Temporal answers, 503 otherwise."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        try:
            await asyncio.wait_for(client.service_client.check_health(), timeout=3)
            healthy = worker.is_running
        except Exception:
            healthy = False
        body = b'{"status":"ok"}' if healthy else b'{"status":"unavailable"}'
        status = b"200 OK" if healthy else b"503 Service Unavailable"
        writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    await asyncio.start_server(handle, "0.0.0.0", port)


def main() -> None:
    from groupdesk.startup import settings_or_exit
    from groupdesk.storage import StorageUnavailable

    settings = settings_or_exit("worker")  # one line per problem and exit 2, before anything starts
    configure_logging(settings.log_format)
    try:
        # uvloop: each workflow activation and local activity hands its result from a thread to the loop, which
        # uvloop does in C; 4 % less worker CPU per incident in a mass event (bench/results/profile.md, "uvloop")
        uvloop.run(run_worker(settings))
    except KeyboardInterrupt:
        pass
    except RuntimeError as exc:
        if "client connect" not in str(exc).lower():
            raise
        print(f"error: cannot reach Temporal at {settings.temporal_address} (TEMPORAL_ADDRESS): {exc}",
              file=sys.stderr)
        sys.exit(1)
    except StorageUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
