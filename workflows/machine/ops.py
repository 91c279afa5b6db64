"""The machine's changes that come from sending and from ops: deliveries, parked failures, retries, resets.

Also the approval code's keyed hash, skips, delivery reports, migrations, hand-overs of ownership and
continuing as new. Pure like the rest of the machine: given `now`, effects appended to the record's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from groupdesk.core.models import (
    Delivery,
    DeliveryReport,
    FailedAction,
    HandOver,
    MigratePlaybook,
    RecordReset,
    RetryAction,
    SendMessages,
    SendResult,
    SkipAction,
    StartIncident,
)
from workflows.machine.record import Record


@dataclass(frozen=True)
class Sent:
    """What a finished send changed that the workflow must publish now."""

    key_registered: bool  # an approval request's code can now be answered by SMS
    parked: int  # messages refused for good, parked for ops


# ---- sending ------------------------------------------------------------------------

def accept_approval_key(rec: Record, request: SendMessages, key: str) -> bool:
    """Keep the keyed hash of the code an approval request's SMS carried, if that approval still waits."""
    state = rec.state.steps.get(request.step or "")
    if request.purpose != "approval_request" or state is None or state.status != "active" \
            or state.visit != request.visit or rec.pb.steps[request.step].kind != "approval":
        return False
    rec.state.approval_key = key
    return True


def record_sent(rec: Record, request: SendMessages, result: SendResult, now: datetime) -> Sent:
    """A send's deliveries; its approval code's keyed hash; every message refused for good parked."""
    rec.state.deliveries.extend(result.deliveries)
    registered = bool(result.approval_key) and accept_approval_key(rec, request, result.approval_key)
    for delivery in result.deliveries:  # WeCom could not take a staff message: the SMS went instead
        if delivery.note:
            rec.log(now, "wecom_fallback", request.step, detail=f"{delivery.role} {delivery.recipient}: {delivery.note}")
    failed = [d for d in result.deliveries if d.status == "failed"]
    for delivery in failed:
        park_failure(rec, request.model_copy(update={"recipients": [delivery.role]}), delivery.error, 1, now)
    return Sent(key_registered=registered, parked=len(failed))


def park_failure(rec: Record, request: SendMessages, error: str, attempts: int,
                 now: datetime) -> None:
    """An action that failed for good waits for ops (retry or skip), whole."""
    rec.state.failed_actions.append(FailedAction(
        at=now, step=request.step, purpose=request.purpose, error=error, attempts=attempts,
        request=request.model_dump(mode="json"),
    ))
    rec.log(now, "sms_failed", request.step, detail=f"{request.purpose} to {', '.join(request.recipients)}: {error}")


def report_delivery(rec: Record, report: DeliveryReport, now: datetime) -> bool:
    """A message the provider accepted but could not deliver; True if it is one of ours."""
    for delivery in rec.state.deliveries:
        if delivery.key == report.key and report.status == "delivered":
            return settle_unknown(rec, delivery, now)
        if delivery.key == report.key:
            delivery.status, delivery.error = "undelivered", f"{report.status} {report.error_code}".strip()
            rec.log(now, "sms_undelivered", detail=f"{delivery.role} {delivery.to_masked}:"
                    f" {report.status}{' (' + report.error_code + ')' if report.error_code else ''}")
            return True
    return False


def settle_unknown(rec: Record, delivery: Delivery, now: datetime) -> bool:
    """A message parked as maybe-sent (Tencent Cloud cannot tell) that its delivery report shows
    delivered: sent after all, and its parked action waits for ops no longer."""
    if delivery.status != "failed":
        return False
    delivery.status, delivery.error = "sent", ""
    for action in rec.state.failed_actions:
        if action.status == "parked" and delivery.key.startswith(str(action.request.get("key", "")) + "/") \
                and delivery.role in action.request.get("recipients", []):
            action.status, action.resolved_at, action.reason = "skipped", now, "delivered (delivery report)"
    rec.log(now, "sms_settled", detail=f"{delivery.role} {delivery.to_masked}: delivered")
    return True


# ---- ops ----------------------------------------------------------------------------

def parked(rec: Record, step: str) -> list[FailedAction]:
    """Failed actions of a step ('-' for the incident's own) that wait for ops."""
    return [f for f in rec.state.failed_actions if f.status == "parked" and (f.step or "-") == step]


def retry(rec: Record, req: RetryAction, now: datetime) -> None:
    """Run a step's parked actions again; messages go to whoever the directory names now."""
    for action in parked(rec, req.step):
        rec.state.action_retries += 1
        action.status, action.resolved_by, action.resolved_at = "retried", req.actor, now
        request = SendMessages.model_validate(action.request)
        rec.effects.append(request.model_copy(update={"retry": rec.state.action_retries}))
        rec.log(now, "action_retried", action.step, req.actor,
                detail=f"{action.purpose} to {', '.join(request.recipients)} (was: {action.error})")


def skip(rec: Record, req: SkipAction, now: datetime) -> None:
    """Give up a step's parked actions, with the reason on the timeline."""
    for action in parked(rec, req.step):
        action.status, action.resolved_by, action.resolved_at, action.reason = "skipped", req.actor, now, req.reason
        rec.log(now, "action_skipped", action.step, req.actor, detail=f"{action.purpose}: {req.reason}")


def record_reset(rec: Record, req: RecordReset, now: datetime) -> None:
    """Written right after an ops reset, into the new run: who reset, to where, why."""
    if req.resend:
        rec.state.resend_epoch += 1
    rec.log(now, "reset", req.to_step, req.actor,
             detail=req.reason + (" (messages will be sent again)" if req.resend else ""))


def migrate(rec: Record, req: MigratePlaybook, now: datetime) -> None:
    """Carry on under a newer playbook version."""
    old = rec.pb.version
    rec.switch_playbook(req.playbook)
    rec.log(now, "playbook_migrated", actor=req.actor,
             detail=f"v{old} -> v{req.playbook.version}" + (f": {req.reason}" if req.reason else ""))


# ---- ownership (首问负责制) ----------------------------------------------------------------

def hand_over(rec: Record, req: HandOver, now: datetime) -> None:
    """A new named owner, on the timeline; they are told by SMS."""
    previous, rec.state.owner = rec.state.owner, req.to
    number = sum(1 for e in rec.state.timeline if e.kind == "handover") + 1
    rec.log(now, "handover", actor=req.actor, detail=f"{previous or '-'} -> {req.to}: {req.reason}")
    rec.effects.append(rec.messages.handover(req.to, previous or "", req.reason, number))


def continue_as_new(rec: Record, now: datetime, history_length: int) -> StartIncident:
    """The input of the next run, which picks up exactly where this one stops."""
    rec.state.runs += 1
    rec.log(now, "continued_as_new", detail=f"history at {history_length} events")
    return rec.start.model_copy(update={"carried": rec.state})
