"""What the role fuzzer (tests/api_fuzz.py) counts: who may call each operation, and per role and operation the
statuses it got, with the report docs/security/fuzz-coverage.md is written from."""

from __future__ import annotations

import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import schemathesis

ROLES = {"hall_lead": "sun.li", "guide": "zhao.min", "security_guard": "qian.lei", "centre_director": "wang.jun",
         "operator": "lin.yue", "ops": "ma.ning"}
EVERYONE = frozenset(ROLES)
AT_THE_HALL = frozenset({"hall_lead", "guide", "security_guard", "centre_director"})
# The suite fuzzes the roles in two files run side by side (tests/test_openapi_fuzz.py, ..._office.py).
HALL_STAFF = ("hall_lead", "guide", "security_guard")
OFFICE = ("centre_director", "operator", "ops")
# Who may call each operation (the console's permission rules: groupdesk/people/permissions.py, web/service.py), in the
# state the fuzzer prepares for it. Twilio's webhooks are Twilio's, signed: the bad-input corpus covers them.
MAY = {
    "POST /api/session": EVERYONE, "DELETE /api/session": EVERYONE, "GET /api/me": EVERYONE,
    "GET /healthz": EVERYONE, "GET /api/incidents": EVERYONE, "GET /api/approvals": EVERYONE,
    "GET /api/promises": EVERYONE, "GET /api/incidents/{incident_id}": EVERYONE,
    # a group (the example start): the smart-meter playbook's started_by roles
    # who a playbook's started_by names: guide and guard start a group, the director the dispute ladder
    "POST /api/incidents": frozenset({"hall_lead", "guide", "security_guard", "centre_director"}),
    "POST /api/incidents/{incident_id}/outcomes": frozenset({"hall_lead", "guide", "security_guard"}),
    "POST /api/incidents/{incident_id}/approval": frozenset({"centre_director"}),
    "POST /api/incidents/{incident_id}/follow-up": frozenset({"hall_lead", "centre_director"}),
    "POST /api/incidents/{incident_id}/notes": AT_THE_HALL,
    "POST /api/incidents/{incident_id}/handover": frozenset({"hall_lead", "centre_director"}),
    "POST /api/incidents/{incident_id}/tell": frozenset({"hall_lead", "centre_director"}),
    "POST /api/incidents/{incident_id}/registration": frozenset({"hall_lead", "centre_director"}),
    "POST /api/incidents/{incident_id}/finding": frozenset({"hall_lead", "centre_director"}),
    "GET /api/failed": frozenset({"ops"}),
    "POST /api/incidents/{incident_id}/failed/{step}/retry": frozenset({"ops"}),
    "POST /api/incidents/{incident_id}/failed/{step}/skip": frozenset({"ops"}),
    "POST /api/incidents/{incident_id}/promises": AT_THE_HALL,
    "POST /api/incidents/{incident_id}/promises/{promise_id}/kept": frozenset({"hall_lead", "centre_director"}),
    "POST /api/incidents/{incident_id}/promises/{promise_id}/due": frozenset({"hall_lead", "centre_director"}),
    "POST /api/incidents/{incident_id}/promises/waive": frozenset({"centre_director"}),
    # evidence: staff of the hall attach; whoever sees the incident lists and downloads
    "POST /api/incidents/{incident_id}/attachments": AT_THE_HALL,
    "GET /api/incidents/{incident_id}/attachments": EVERYONE,
    "GET /api/incidents/{incident_id}/attachments/{sha}": EVERYONE,
    # corrective actions (整改): opened by the incident's owner, the hall lead or the director; done by its owner
    # (a staff member of the hall); verified by the director; frequent-outage lines listed for everyone
    "GET /api/correctives": EVERYONE, "GET /api/lines": EVERYONE,
    "POST /api/incidents/{incident_id}/correctives": frozenset({"hall_lead", "centre_director"}),
    "POST /api/correctives/{cid}/done": AT_THE_HALL,
    "POST /api/correctives/{cid}/verify": frozenset({"centre_director"}),
}
SIGNED_BY_TWILIO = {"POST /twilio/status", "POST /twilio/inbound"}
# which prepared incident an operation is aimed at (the rest: a fresh one)
STATE_OF = {"approval": "approval", "follow-up": "follow_up", "promises/{promise_id}": "promise",
            "promises/waive": "promise"}


def state_for(label: str) -> str:
    return next((state for part, state in STATE_OF.items() if part in label), "fresh")


@dataclass
class Coverage:
    """What each role's requests got, by operation: status counts."""

    statuses: dict[tuple[str, str], Counter] = field(default_factory=lambda: defaultdict(Counter))
    linked: Counter = field(default_factory=Counter)  # 2xx in stateful scenarios, on an incident a scenario started
    seconds: float = 0.0

    def record(self, role: str, label: str, status: int) -> None:
        self.statuses[(role, label)][status] += 1

    def server_errors(self) -> list[str]:
        return [f"{role} {label}: {dict(c)}" for (role, label), c in self.statuses.items()
                if any(s >= 500 for s in c)]

    def unauthorised(self) -> dict[str, int]:
        """2xx answers to a role not among those who may call the operation, by "role label"."""
        found = {f"{role} {label}": sum(n for status, n in c.items() if 200 <= status < 300)
                 for (role, label), c in self.statuses.items() if label in MAY and role not in MAY[label]}
        return {k: n for k, n in found.items() if n}

    def reached(self, role: str, label: str) -> bool:
        return any(200 <= s < 300 for s in self.statuses.get((role, label), {}))

    def missing(self) -> list[str]:
        """Operations a role may call that never reached a 2xx."""
        return [f"{role} {label}" for label, roles in MAY.items() for role in sorted(roles)
                if role in {r for r, _ in self.statuses} and not self.reached(role, label)]

    def report(self, command: str) -> str:
        roles = sorted({r for r, _ in self.statuses}, key=list(ROLES).index)
        total = sum(sum(c.values()) for c in self.statuses.values())
        lines = ["# API fuzzing: what each role reached", "",
                 f"schemathesis {schemathesis.__version__} against the console's OpenAPI (with its links), one run"
                 f" as each role: {total:,} requests in {self.seconds:.0f} s, "
                 f"{sum(1 for c in self.statuses.values() for s in c.elements() if s >= 500)} answered 5xx;"
                 f" {sum(self.unauthorised().values())} answered 2xx to a role that may not call the operation.", "",
                 f"Reproduce: `{command}` (this run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())},"
                 f" {os.cpu_count()} cores).", "",
                 "Per role: the operations it may call that reached a 2xx (of those it may call), and the requests"
                 " sent. A cell: requests `2xx/4xx/5xx`; `-` the role may not call it (its requests are refused)."
                 " The last column: 2xx answers on an incident reached only through the OpenAPI links from"
                 " `POST /api/incidents` (the example start followed link by link with each target's example, then"
                 " schemathesis's stateful scenarios), and over how many operations; the example (a group) is started by the"
                 " roles its playbook's started_by names (guide, guard, hall lead)."
                 " Operations on an incident that reach no 2xx through links need a state another role makes"
                 " first (the director decides only after the guide, the guard and the hall lead have acted).",
                 "", "| role | reached | requests | 2xx through links |", "|---|---|---|---|"]
        for role in roles:
            may = [label for label, who in MAY.items() if role in who]
            linked = {label: n for (r, label), n in self.linked.items() if r == role}
            lines.append(f"| {role} ({ROLES[role]}) | {sum(self.reached(role, l) for l in may)} of {len(may)} |"
                         f" {sum(sum(c.values()) for (r, _), c in self.statuses.items() if r == role):,} |"
                         f" {sum(linked.values())} ({len(linked)}) |")
        lines += ["", "| operation | " + " | ".join(roles) + " |", "|---|" + "---|" * len(roles)]
        for label in sorted({lab for _, lab in self.statuses}):
            cells = []
            for role in roles:
                c = self.statuses.get((role, label), Counter())
                ok = sum(n for s, n in c.items() if 200 <= s < 300)
                bad = sum(n for s, n in c.items() if 400 <= s < 500)
                broken = sum(n for s, n in c.items() if s >= 500)
                mark = "" if role in MAY.get(label, ()) else " -"
                cells.append(f"{ok}/{bad}/{broken}{mark}")
            lines.append(f"| `{label}` | " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"
