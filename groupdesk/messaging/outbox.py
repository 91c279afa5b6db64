"""The durable outbox: every outbound SMS is a row keyed by its idempotency key.

The row is written before any provider is called, and a sender takes it (a status change in
the same transaction as the insert) before it calls the provider, so a retried activity, a
restarted worker or a second worker on another host never stores or sends the same message twice.
A batch of messages is claimed in one transaction (`claim_many`) and its outcomes recorded in one (`mark_many`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from typing import Callable, Sequence

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from groupdesk.storage import Database, open_database
from groupdesk.storage.dialect import insert_new
from groupdesk.storage.schema import messages

# Once a message reached one of these, it is never sent again automatically.
DONE_STATUSES = ("sent", "delivered", "undelivered", "failed", "read")
# The provider may hold it: look before sending again.
UNCERTAIN_STATUSES = ("sending", "unknown")
# Delivery reports only ever move a message forward: a late "sent" never overwrites "delivered".
RANK = {"queued": 0, "accepted": 0, "scheduled": 0, "sending": 1, "unknown": 1, "sent": 2,
        "delivered": 3, "undelivered": 3, "failed": 3, "read": 4}
# A message another activity has been sending for longer than this is taken over (its worker died).
HOLD = timedelta(seconds=30)
# A message still "sending" this long after it was last taken has no sender left: the worker that took it stopped
# in a workflow task that never completed, and the incident went on without it (`sweep_abandoned`). Longer than a
# batch's whole retry schedule (workflows/effects.py WHOLE_RETRY), whose every attempt takes its rows again.
ABANDONED_AFTER = timedelta(minutes=5)
ABANDONED = ("abandoned", "its worker stopped while sending it and the incident went on without it; whether it went "
             "out only the provider can say")


@dataclass(frozen=True)
class OutboxRow:
    key: str
    incident_id: str
    step: str | None
    purpose: str
    recipient: str
    role: str
    to_number: str
    lang: str
    body: str
    drill: bool
    provider: str
    status: str = "queued"
    provider_id: str | None = None
    error_code: str | None = None
    error: str | None = None
    attempts: int = 0
    created_at: str = ""
    updated_at: str = ""
    channel: str = "sms"  # the kind of message (migration 0008); its provider sends it over this channel
    template_code: str | None = None  # a domestic provider's approved template (free text: None)
    params: str | None = None  # the template's parameters as sent, JSON (an object, or a list for Tencent)
    out_id: str | None = None  # the compact id the send carried (Aliyun OutId, Tencent SessionContext)

    def as_json(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["to"] = data.pop("to_number")
        return data


@dataclass(frozen=True)
class Claim:
    """What a sender learns when it claims a message: the row, and whether it may send it now."""
    row: OutboxRow
    created: bool
    owned: bool  # this sender holds it: no one else sends it while it does
    was: str  # the status before this claim ("sending"/"unknown": look at the provider first)
    reopened: bool = False  # an ops retry re-opened a message refused for good
    held_for: float = 0.0  # another sender holds it: seconds until that hold lapses (HOLD after it took it)


@dataclass(frozen=True)
class ToClaim:
    """One row for `claim_many`, with its own rules (see claim_many)."""
    row: OutboxRow
    retry: bool = False
    reopen_unknown: bool = False
    # Run in the claim's transaction when this row's text is stored (new, or re-opened by an ops retry):
    # what the text refers to (a status link) exists exactly when the text does.
    stored_with: Callable[[Connection], None] | None = None


@dataclass(frozen=True)
class Mark:
    """An outcome for `mark_many`: the status now, the provider's answer, and whether it cost an attempt."""
    key: str
    status: str
    error_code: str | None = None
    error: str | None = None
    provider_id: str | None = None
    attempt: bool = False


# Built once and executed with parameters: the outbox is on the worker's hot path.
_BY_KEY = select(messages).where(messages.c.key == bindparam("k"))
_BY_KEY_LOCKED = _BY_KEY.with_for_update()
_TAKE = update(messages).where(messages.c.key == bindparam("k")).values(
    status="sending", holder=bindparam("h"), updated_at=bindparam("t"), attempts=messages.c.attempts + bindparam("inc"))
_REOPEN_AND_TAKE = _TAKE.values(to_number=bindparam("to"), body=bindparam("b"), template_code=bindparam("tc"),
                                params=bindparam("pa"), error_code=None, error=None)
_MARK = {holding: update(messages).where(messages.c.key == bindparam("k")).values(
    status=bindparam("st"), error_code=bindparam("ec"), error=bindparam("er"), updated_at=bindparam("t"),
    attempts=messages.c.attempts + bindparam("inc"), **({} if holding else {"holder": None}),
    provider_id=func.coalesce(bindparam("pid"), messages.c.provider_id)) for holding in (True, False)}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _activity(holder: str) -> str:
    return holder.rpartition("#")[0] or holder


def _hold_left(taken_at: str, now: str) -> float:
    """Seconds until a hold taken at `taken_at` lapses (HOLD later), as of `now`; never below 0."""
    return max((datetime.fromisoformat(taken_at) + HOLD - datetime.fromisoformat(now)).total_seconds(), 0.0)


class Outbox:
    def __init__(self, target):
        """`target`: a Database, settings, a database URL, or the path of a SQLite file."""
        self.db: Database = open_database(target)

    def claim(self, row: OutboxRow) -> tuple[OutboxRow, bool]:
        """Store the row unless its key exists; return the stored row and whether it was new."""
        with self.db.write() as c:
            created = self._insert(c, row, _now())
            return _row(self._select(c, row.key)), created

    def claim_to_send(self, row: OutboxRow, holder: str, retry: bool = False, reopen_unknown: bool = False) -> Claim:
        """One message claimed as `claim_many` claims a batch (its rules are there)."""
        return self.claim_many([ToClaim(row, retry, reopen_unknown)], holder)[0]

    def claim_many(self, items: Sequence[ToClaim], holder: str) -> list[Claim]:
        """Store each row unless its key exists and take it for sending, all in ONE write transaction.

        A row is taken when queued, when its own sender gave up on it (unknown), when the same activity's
        earlier attempt held it (Temporal starts attempt n+1 only after attempt n ended), or when another
        holder went silent for HOLD. `retry`: an ops retry re-opens a message refused for good, to the
        number and text the directory gives now. A message taken straight from queued counts an attempt
        here (the sender calls the provider next); an uncertain one is looked up first, then marked.
        `reopen_unknown`: the provider cannot say whether it has a message (Tencent Cloud), so a message
        parked as unknown is sent again only by an ops retry, which re-opens it like a failed one.
        A key twice in one call is owned once. Rows are stored in the order given (the console lists them so);
        two workers that lock the same rows in another order (PostgreSQL) fail one attempt, which is retried.
        """
        now = _now()
        fresh = (datetime.now(timezone.utc) - HOLD).isoformat(timespec="milliseconds")
        claims: list[Claim] = []
        seen: set[str] = set()
        with self.db.write() as c:
            for item in items:
                claim = self._claim(c, item, holder, now, fresh, item.row.key in seen)
                seen.add(item.row.key)
                if item.stored_with is not None and (claim.created or claim.reopened):
                    item.stored_with(c)
                claims.append(claim)
        return claims

    def _claim(self, c, item: ToClaim, holder: str, now: str, fresh: str, repeated: bool) -> Claim:
        row = item.row
        # The usual case, a new message: stored already taken, one statement (not insert, read, take).
        if not repeated and self._insert(c, row, now, holder):
            taken = {f.name: getattr(row, f.name) for f in fields(row)}
            taken.update(status="sending", provider_id=None, error_code=None, error=None, attempts=1,
                         created_at=now, updated_at=now)
            return Claim(OutboxRow(**taken), created=True, owned=True, was="queued")
        stored = c.execute(_BY_KEY_LOCKED, {"k": row.key}).first()
        was, reopened = stored.status, False
        if item.retry and (was == "failed" or (was == "unknown" and item.reopen_unknown)):
            was, reopened = "queued", True
        held_by_other = (was == "sending" and stored.holder and _activity(stored.holder) != _activity(holder)
                         and stored.updated_at > fresh)
        owned = was not in DONE_STATUSES and not held_by_other and not repeated
        held_for = _hold_left(stored.updated_at, now) if held_by_other else 0.0
        data = {k: v for k, v in stored._mapping.items() if k in _FIELDS}
        if owned:
            inc = int(was not in UNCERTAIN_STATUSES)
            params = {"k": row.key, "h": holder, "t": now, "inc": inc}
            if reopened:
                c.execute(_REOPEN_AND_TAKE, {**params, "to": row.to_number, "b": row.body,
                                             "tc": row.template_code, "pa": row.params})
                data.update(to_number=row.to_number, body=row.body, template_code=row.template_code,
                            params=row.params, error_code=None, error=None)
            else:
                c.execute(_TAKE, params)
            data.update(status="sending", updated_at=now, attempts=data["attempts"] + inc)
        data["drill"] = bool(data["drill"])
        return Claim(OutboxRow(**data), False, owned, was, reopened and owned, held_for)

    def mark(self, key: str, status: str, error_code: str | None = None, error: str | None = None,
             provider_id: str | None = None, attempt: bool = False) -> None:
        """Record what the sending activity knows now (it owns the row until it is done)."""
        self.mark_many([Mark(key, status, error_code, error, provider_id, attempt)])

    def mark_many(self, marks: Sequence[Mark]) -> None:
        """Record every outcome of a batch in ONE write transaction (`sending`: still held, else let go)."""
        now = _now()
        by_kind: dict[bool, list[dict]] = {}
        for m in marks:
            by_kind.setdefault(m.status == "sending", []).append(
                {"k": m.key, "st": m.status, "ec": m.error_code, "er": m.error, "t": now, "inc": int(m.attempt),
                 "pid": m.provider_id})
        if not by_kind:
            return
        with self.db.write() as c:
            for holding, params in by_kind.items():
                c.execute(_MARK[holding], params)

    def sweep_abandoned(self, now: datetime) -> list[OutboxRow]:
        """Messages left "sending" by a worker that stopped, which no one took over since: parked as unknown, with
        why, so the console shows them as unconfirmed instead of sending for ever. Returns the rows parked."""
        cutoff = (now - ABANDONED_AFTER).astimezone(timezone.utc).isoformat(timespec="milliseconds")
        stale = (messages.c.status == "sending") & (messages.c.updated_at < cutoff)
        with self.db.write() as c:
            found = [_row(r) for r in c.execute(select(messages).where(stale).with_for_update())]
            if found:
                c.execute(update(messages).where(stale, messages.c.key.in_([r.key for r in found])).values(
                    status="unknown", holder=None, error_code=ABANDONED[0], error=ABANDONED[1], updated_at=_now()))
        return found

    def requeue(self, key: str, to_number: str, body: str) -> None:
        """An ops retry of a message refused for good: try again, to the number the directory has now."""
        with self.db.write() as c:
            c.execute(update(messages).where(messages.c.key == key, messages.c.status == "failed").values(
                status="queued", to_number=to_number, body=body, error_code=None, error=None, updated_at=_now()))

    def report(self, key: str, status: str, provider_id: str | None = None, error_code: str | None = None) -> bool:
        """Apply a delivery report; only a move forward changes the row. Return whether it did."""
        if status not in RANK:
            return False
        with self.db.write() as c:
            row = c.execute(select(messages.c.status, messages.c.provider_id)
                            .where(messages.c.key == key).with_for_update()).first()
            moved = row is not None and RANK[status] > RANK.get(row.status, 0)
            if moved:
                values = dict(status=status, updated_at=_now())
                if provider_id:
                    values["provider_id"] = provider_id
                if error_code:
                    values["error_code"] = error_code
                c.execute(update(messages).where(messages.c.key == key).values(**values))
            elif row is not None and provider_id and not row.provider_id:
                c.execute(update(messages).where(messages.c.key == key).values(provider_id=provider_id))
        return moved

    def find(self, provider: str, provider_id: str | None = None, out_id: str | None = None) -> OutboxRow | None:
        """The message a provider's report names, by the id the send carried or the provider's own id."""
        query = select(messages).where(messages.c.provider == provider)
        if out_id:
            query = query.where(messages.c.out_id == out_id)
        elif provider_id:
            query = query.where(messages.c.provider_id == provider_id)
        else:
            return None
        with self.db.read() as c:
            found = c.execute(query.limit(1)).first()
        return _row(found) if found else None

    def unknown_to(self, provider: str, to_number: str) -> list[OutboxRow]:
        """Messages to this number whose outcome the provider never told (no id of its own yet)."""
        query = select(messages).where(messages.c.provider == provider, messages.c.to_number == to_number,
                                       messages.c.status == "unknown", messages.c.provider_id.is_(None))
        with self.db.read() as c:
            return [_row(r) for r in c.execute(query)]

    def get(self, key: str) -> OutboxRow | None:
        with self.db.read() as c:
            found = self._select(c, key)
        return _row(found) if found else None

    def list(self, incident_id: str | None = None, limit: int | None = None) -> list[OutboxRow]:
        query = select(messages).order_by(messages.c.created_at, messages.c.id)
        if incident_id:
            query = query.where(messages.c.incident_id == incident_id)
        if limit:
            query = query.limit(int(limit))
        with self.db.read() as c:
            return [_row(r) for r in c.execute(query)]

    def _insert(self, c, row: OutboxRow, now: str, holder: str | None = None) -> bool:
        """Store the row unless its key exists; with a holder it is stored taken for sending (an attempt)."""
        values = {f.name: getattr(row, f.name) for f in fields(row)}
        values.update(status="queued", provider_id=None, error_code=None, error=None, attempts=0,
                      created_at=now, updated_at=now, holder=None)
        if holder:
            values.update(status="sending", holder=holder, attempts=1)
        return insert_new(c, messages, "key", values)

    @staticmethod
    def _select(c, key: str, lock: bool = False):
        return c.execute(_BY_KEY_LOCKED if lock else _BY_KEY, {"k": key}).first()


_FIELDS = {f.name for f in fields(OutboxRow)}


def _row(r) -> OutboxRow:
    data = {k: v for k, v in r._mapping.items() if k in _FIELDS}
    data["drill"] = bool(data["drill"])
    return OutboxRow(**data)
