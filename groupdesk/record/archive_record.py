"""An incident's archive record, built from its start and final state (pure: no I/O, no clock)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from groupdesk.runtime.keyed import keyed
from groupdesk.record.repeat_keys import complainant_key, match_keys
from groupdesk.core.models import IncidentState, StartIncident
from groupdesk.core.warning_plan import most_severe
from groupdesk.core.promise_models import figures
from groupdesk.core.workcal import LOCAL_TZ

ESCALATED = re.compile(r"level (\d+): escalated to (\S+)")


def iso(at: datetime | None) -> str | None:
    return at.astimezone(timezone.utc).isoformat() if at else None


def build_record(start: StartIncident, state: IncidentState, run_id: str, key: bytes) -> dict[str, Any]:
    """Registration, path, timings per step, missed deadlines, escalations, tier, satisfaction, who was responsible.

    No phone and no complainant name in clear: both only as keyed hashes.
    """
    pb = start.playbook
    steps = _visits(start, state)
    escalations = [e for s in steps for e in s.pop("_escalations")]
    missed = [{"step": s["step"], "visit": s["visit"]} for s in steps if s["deadline_missed"]]
    tiers = [int(found.group(1)) for e in state.timeline
             if e.kind == "warning_tier" and (found := re.match(r"warning tier (\d)", e.detail))]
    follow = state.follow_up
    started_local = state.started_at.astimezone(LOCAL_TZ)
    year, week, _ = started_local.isocalendar()
    people = sorted({(s["actor"], s["owner_role"]) for s in steps if s["actor"]})
    return {
        "incident_id": state.id, "run_id": run_id, "hall_id": state.hall_id, "hall_name": state.hall_name,
        "headcount": state.headcount, "summary": state.summary,
        "complainant_key": complainant_key(key, start.lead.phone),
        "lead_name_key": keyed(key, "complainant-name", start.lead.name),
        "playbook": state.playbook, "playbook_version": state.playbook_version, "drill": state.drill,
        "time_scale": state.time_scale, "started_by": state.started_by,
        "started_at": iso(state.started_at), "closed_at": iso(state.closed_at or state.started_at),
        "started_on": started_local.date().isoformat(), "week": f"{year}-W{week:02d}",
        "path": [s["step"] for s in steps], "steps": steps,
        "deadlines_missed": missed, "escalations": escalations,
        "warning_tier": most_severe(tiers + [state.warning_tier]),  # 一级 is the most severe
        "resolution": state.resolution or "", "rejection_reason": state.rejection_reason or "",
        "follow_up": follow.outcome if follow else "none",
        "satisfaction": follow.score if follow and follow.outcome == "answered" else None,
        "failed_actions": len(state.failed_actions),
        "responsible": {"hall": state.hall_id, "unit": state.hall_name, "playbook_owner": pb.id,
                        "people": [{"person": p, "role": r} for p, r in people],
                        "roles": {role: [s.id for s in start.roster.get(role, [])]
                                  for role in sorted({s["owner_role"] for s in steps})}},
        "repeat_of": getattr(start, "repeat_of", None) or None,
        "person_involved": state.registration.person_involved or None,  # 更换当事人: whom it was about
        # what finishing outcomes recorded, by step (e.g. the accountability entry: finding, measure)
        "outcome_data": {sid: dict(st.data) for sid, st in state.steps.items() if st.data},
        # outcomes recorded on a step that went on (an agreed time, 信访 reported): the report counts 信访 by them
        "stays": _stays(start, state),
        **registered(start, state, key),
        "promises": figures(state.promises),  # made, kept, kept_late, missed, waived
        "told": sum(1 for e in state.timeline if e.kind == "told"),  # 进度告知: messages staff chose to send
        # 有效投诉的认定: its own object, apart from the role-based `responsible` above; None without one
        "finding": state.finding.model_dump(mode="json") if state.finding else None,
        # the files attached while it ran (both hashes, kind, size, step, who, when): the sealed record names them
        "evidence": [{**e.model_dump(mode="json"), "added_at": iso(e.added_at)} for e in state.evidence],
        **answers(state),
    }


DISSATISFIED = 2  # a follow-up score of this or lower counts against the hall
ANSWERED = re.compile(r"satisfaction (\d)/5")


def answers(state: IncidentState) -> dict[str, Any]:
    """Every follow-up answer's score, in order (those that reopened the incident too), and how many were
    dissatisfied (the ledger counts the incident once, the report every answer)."""
    scores = [int(found.group(1)) for e in state.timeline
              if e.kind == "follow_up_answered" and (found := ANSWERED.match(e.detail))]
    follow = state.follow_up
    if not scores and follow and follow.outcome == "answered" and follow.score is not None:
        scores = [follow.score]  # a timeline without the answer: the last answer alone
    return {"follow_up_scores": scores, "dissatisfied_answers": sum(1 for n in scores if n <= DISSATISFIED)}


def registered(start: StartIncident, state: IncidentState, key: bytes) -> dict[str, Any]:
    """What the registration adds (issue 16): the category, the complainant type, the account number and the
    community only as keyed hashes, why it was a repeat, and the sensitive period it started in."""

    reg = start.registration
    keys = match_keys(key, start.lead.phone, reg.account_no, reg.address, reg.channel, reg.ticket_no)
    period = state.sensitive_period
    return {
        "category": reg.category, "complainant_type": reg.complainant_type, "media_present": reg.media_present,
        "account_key": keys.get("same_account"), "community_key": keys.get("same_community"),
        # how it came in and its work-order number (issue 28): the number plain (a work order, not a person)
        "channel": reg.channel, "ticket_no": reg.ticket_no or None, "ticket_key": keys.get("same_ticket"),
        "repeat_reasons": list(start.repeat_reasons),
        "sensitive_period": period.name if period else None,
        **({"feeder": reg.feeder} if reg.feeder else {}),  # 频繁停电: an outage incident's line
    }


def _visits(start: StartIncident, state: IncidentState) -> list[dict[str, Any]]:
    """Every visit of every step, in the order they started, from the timeline."""
    pb = start.playbook
    visits: list[dict[str, Any]] = []
    open_by_step: dict[str, dict[str, Any]] = {}
    count: dict[str, int] = {}

    def finish(visit: dict[str, Any], at: datetime) -> None:
        visit["finished_at"] = iso(at)
        seconds = (at - visit.pop("_started")).total_seconds() * state.time_scale
        visit["seconds"] = int(round(seconds))

    for entry in state.timeline:
        step = entry.step
        if entry.kind == "step_started" and step in pb.steps:
            if step in open_by_step:  # entered again without an outcome (a reset): the old visit ends here
                finish(open_by_step.pop(step), entry.at)
            count[step] = count.get(step, 0) + 1
            visit = {"step": step, "visit": count[step], "owner_role": pb.steps[step].owner, "outcome": None,
                     "actor": None, "started_at": iso(entry.at), "finished_at": None, "seconds": None,
                     "deadline_missed": 0, "escalations": 0, "_started": entry.at, "_escalations": []}
            visits.append(visit)
            open_by_step[step] = visit
        elif step in open_by_step and entry.kind == "outcome":
            visit = open_by_step.pop(step)
            visit["outcome"], visit["actor"] = _outcome_id(pb, step, entry.detail), entry.actor
            finish(visit, entry.at)
        elif step in open_by_step and entry.kind == "resolved":
            visit = open_by_step.pop(step)
            visit["outcome"] = "resolved"
            finish(visit, entry.at)
        elif step in open_by_step and entry.kind == "reminder":
            open_by_step[step]["deadline_missed"] = 1
        elif step in open_by_step and entry.kind == "escalation":
            visit = open_by_step[step]
            visit["escalations"] += 1
            found = ESCALATED.search(entry.detail)
            visit["_escalations"].append({"step": step, "visit": visit["visit"], "at": iso(entry.at),
                                          "level": int(found.group(1)) if found else visit["escalations"],
                                          "role": found.group(2) if found else ""})
    for visit in open_by_step.values():  # still open when the incident closed
        finish(visit, state.closed_at or visit["_started"])
    for visit in visits:
        visit.pop("_started", None)
    return visits


def _stays(start: StartIncident, state: IncidentState) -> list[dict[str, Any]]:
    """Every stay recorded, in order: its step, outcome id and time (its timeline entry begins with the label)."""
    pb, found = start.playbook, []
    for entry in state.timeline:
        if entry.kind != "recorded" or entry.step not in pb.steps:
            continue
        labels = sorted(((pb.outcome_label(entry.step, name), name) for name, o in pb.steps[entry.step].outcomes.items()
                         if o.stay), key=lambda x: -len(x[0]))
        name = next((name for label, name in labels if entry.detail.startswith(label)), None)
        if name:
            found.append({"step": entry.step, "outcome": name, "at": iso(entry.at)})
    return found


def _outcome_id(pb, step: str, detail: str) -> str | None:
    """The outcome's id from the timeline's label (the label, then ' — note' if any)."""
    for name in pb.steps[step].outcomes:
        label = pb.outcome_label(step, name)
        if detail == label or detail.startswith(label + " — "):
            return name
    return None


def corrective_record(start, state, run_id: str) -> dict[str, Any]:
    """A verified corrective action's archive row (kind `corrective`): its own row in the incidents' hash chain,
    never counted as an incident (reports, the export and the ledger read `kind = 'incident'`). `repeat_of` names
    the incident it came from."""
    made_local = state.made_at.astimezone(LOCAL_TZ)
    year, week, _ = made_local.isocalendar()
    escalations = [{"step": "corrective", "detail": e.detail} for e in state.timeline if e.kind == "corrective_escalation"]
    return {
        "kind": "corrective", "incident_id": state.id, "run_id": run_id, "hall_id": state.hall_id,
        "hall_name": start.hall_name, "playbook": "corrective", "playbook_version": 0, "drill": state.drill,
        "time_scale": start.time_scale, "started_by": state.made_by,
        "started_at": iso(state.made_at), "closed_at": iso(state.verified_at or state.made_at),
        "started_on": made_local.date().isoformat(), "week": f"{year}-W{week:02d}",
        "path": [], "steps": [], "warning_tier": 0, "follow_up": "none", "satisfaction": None,
        "complainant_key": "", "repeat_of": state.incident_id,
        "deadlines_missed": [{"step": "corrective", "visit": 1}] if state.missed_at else [],
        "escalations": escalations,
        "corrective": {"what": state.what, "owner": state.owner, "made_by": state.made_by, "due_at": iso(state.due_at),
                       "source": state.source, "feeder": state.feeder or None, "missed_at": iso(state.missed_at),
                       "done_by": state.done_by, "done_at": iso(state.done_at), "note": state.note,
                       "evidence": state.evidence or None, "verified_by": state.verified_by,
                       "verified_at": iso(state.verified_at), "rejections": state.rejections},
    }
