"""The outbox's own rate on SQLite: threads claim and mark messages as the SMS activity does, no provider.

    python bench/outbox_rate.py --messages 4000 --threads 8 [--batch 9]

Prints messages per second. --batch 1: claim_to_send then mark per message (two transactions each, as the activity
did before batches); --batch N: claim_many and mark_many per N messages (two transactions per batch, as it does now).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from groupdesk.messaging.outbox import Mark, Outbox, OutboxRow, ToClaim  # noqa: E402


def row(n: int) -> OutboxRow:
    return OutboxRow(key=f"inc-{n // 10}/step#1/step_started/start/p{n % 10}", incident_id=f"inc-{n // 10}",
                     step="step", purpose="step_started", recipient=f"p{n % 10}", role="guide",
                     to_number="+8613800138000", lang="zh-CN", body="【演练】" + "短信正文" * 20, drill=True,
                     provider="outbox")


def rate(messages: int, threads: int, batch: int = 1) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        outbox = Outbox(Path(tmp) / "outbox.sqlite3")

        def one(n: int) -> None:
            claim = outbox.claim_to_send(row(n), f"wf-{n}/1#1")
            assert claim.owned and claim.created
            outbox.mark(claim.row.key, "sent", provider_id=f"SM{n}")

        def many(first: int) -> None:
            numbers = range(first, min(first + batch, messages))
            claims = outbox.claim_many([ToClaim(row(n)) for n in numbers], f"wf-{first}/1#1")
            assert all(c.owned and c.created for c in claims)
            outbox.mark_many([Mark(c.row.key, "sent", provider_id=f"SM{n}") for n, c in zip(numbers, claims)])

        began = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, range(messages)) if batch == 1 else pool.map(many, range(0, messages, batch)))
        seconds = time.perf_counter() - began
        assert len(outbox.list()) == messages and all(r.status == "sent" for r in outbox.list())
        return messages / seconds


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1, help="messages per claim_many/mark_many (1: per message)")
    args = parser.parse_args()
    found = sorted(rate(args.messages, args.threads, args.batch) for _ in range(args.runs))
    print(f"outbox on SQLite: {found[len(found) // 2]:.0f} messages/s (median of {args.runs}: "
          f"{', '.join(f'{r:.0f}' for r in found)}), {args.threads} threads, batch {args.batch}, load {os.getloadavg()[0]:.1f}")
