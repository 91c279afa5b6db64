"""How many open incidents still need each branch of the workflow code, counted from visibility.

The filters are groupdesk.core.versions.BRANCHES: the patch ids an incident recorded (the SDK writes them to
the `TemporalChangeVersion` search attribute when it records a patch marker) and `GroupdeskEngine`, which
the workflow code of this release publishes. `groupdesk ops versions` prints them (the drain check).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from temporalio.client import Client

from groupdesk.core.versions import BRANCHES, OPEN_INCIDENTS


@dataclass(frozen=True)
class BranchCount:
    branch: str
    open: int
    runs_here: bool  # whether the workflow code of this release runs them
    meaning: str


async def open_by_branch(client: Client) -> list[BranchCount]:
    """One row per branch, and a row `unknown` for open incidents no filter matched (none, normally)."""
    rows = [BranchCount(b.name, (await client.count_workflows(f"{OPEN_INCIDENTS} AND ({b.where})")).count,
                        b.runs_here, b.meaning) for b in BRANCHES]
    total = (await client.count_workflows(OPEN_INCIDENTS)).count
    if total != sum(r.open for r in rows):
        rows.append(BranchCount("unknown", total - sum(r.open for r in rows), False,
                                "open incidents no filter matched: inspect their histories (groupdesk history)"))
    return rows


def as_json(rows: list[BranchCount]) -> list[dict]:
    return [asdict(r) for r in rows]
