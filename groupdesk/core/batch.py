"""One local activity per transition: every message a workflow task decided, sent together."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from groupdesk.core.models import SendMessages, SendResult


class SendBatch(BaseModel):
    """The messages of one transition; `attempt` is the workflow's own (it retries only what failed)."""

    requests: list[SendMessages]
    attempt: int = 1


class SendOutcome(BaseModel):
    """One request's result, or why it was not sent and whether trying again may help."""

    result: SendResult | None = None
    error: str = ""
    retryable: bool = False
    retry_after: float = 0.0  # seconds the provider asked to wait (its rate window); 0: the usual backoff


class BatchResult(BaseModel):
    outcomes: list[SendOutcome]  # in the order of the batch's requests
    # When the batch finished, by the worker's clock: the workflow's clock (workflow.now()) stays at the start
    # of the task while a local activity runs, so timers armed after it count from here. None in old markers.
    finished_at: datetime | None = None
