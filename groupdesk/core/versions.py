"""Which incidents the workflow code can run: its execution mode, and the patch branches of earlier releases.

The versioning policy (README, "Versioning: old incidents and new code"): a change to what the workflow
commands goes behind `workflow.patched(id)` for one release; the next release makes the patched branch the
only code and keeps `workflow.deprecate_patch(id)` (accepted on replay, recorded by no new incident) for as
long as incidents started under the patch are open; the release after removes it. This release reads the
`perf-timers` marker with `workflow.patched` while replaying instead: its incidents run as the previous release
ran them, and a change of this undeployed release needs no patch of its own (README). An incident records the
patch ids it took as markers, which the SDK also writes to the `TemporalChangeVersion` search attribute:
`groupdesk ops versions` counts open incidents by these filters.
"""

from __future__ import annotations

from dataclasses import dataclass

ENGINE = "one-mode"  # GroupdeskEngine, published by every incident this code runs: one execution mode, no marker
DEPRECATED = ("perf-timers",)  # the previous release's patch: its incidents replay here; gone next release
# Patch ids whose branches this code no longer has: incidents that recorded them must end before it is deployed.
RETIRED = ("perf-local-effects", "approval-code-activity", "publicity-alert", "sms-reply-keys", "board-attributes",
           "failed-actions-flag", "wake-on-failure", "archive-at-close", "continue-as-new-budget")

OPEN_INCIDENTS = "WorkflowType = 'GroupIncident' AND ExecutionStatus = 'Running'"


@dataclass(frozen=True)
class Branch:
    """Open incidents that need one branch of the code, found by a visibility filter."""

    name: str
    runs_here: bool  # whether this release's workflow code runs them
    where: str  # ANDed with OPEN_INCIDENTS
    meaning: str


def _ids(patches: tuple[str, ...]) -> str:
    return ", ".join(f"'{patch}'" for patch in patches)


# No marker of any release: TemporalChangeVersion unset, or (once the incident upserted anything, on SQL
# visibility) an empty list, which `NOT IN` matches and `IS NULL` does not.
_UNMARKED = f"(TemporalChangeVersion IS NULL OR TemporalChangeVersion NOT IN ({_ids(DEPRECATED + RETIRED)}))"
BRANCHES = (
    Branch(ENGINE, True, f"GroupdeskEngine = '{ENGINE}' AND {_UNMARKED}",
           "started by this release or later: no patch marker"),
    Branch("perf-timers", True, "TemporalChangeVersion = 'perf-timers'",
           "started by the previous release: replays here (its marker read); must end before the next release"),
    Branch("perf-local-effects", False, "TemporalChangeVersion = 'perf-local-effects'",
           "local effects, timer on the task's clock: retired, must end before this release runs them"),
    Branch("remote-activities", False, f"TemporalChangeVersion IN ({_ids(RETIRED[1:])})",
           "one activity per message, a timer per wake-up: retired, must end before this release runs them"),
    Branch("before-patches", False, f"GroupdeskEngine IS NULL AND {_UNMARKED}",
           "started before the first patch: retired, must end before this release runs them"),
)
