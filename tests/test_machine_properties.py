"""Property tests of the incident machine (hypothesis, no server): random sequences of valid
outcomes, decisions, timer firings, calendar answers, sends, failures, retries and replies
never break what staff rely on.

Invariants after every move: one owner per active step and at most one pending reminder
and escalation for it; every active step has a deadline once its working-day deadline is
resolved; every transition produced its messages; closing ends the warning plan; no
message key twice.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from hypothesis import HealthCheck, event, given, settings, strategies as st

from groupdesk.core.models import (
    AddNote,
    DecideApproval,
    DeliveryReport,
    RecordFollowUp,
    RecordOutcome,
    RetryAction,
    SendMessages,
    SkipAction,
)
from groupdesk.core.workcal import add_working_days
from groupdesk.core.links import ChildResult
from machine_helpers import T0, STAFF, delivered, new_machine, no_temporal_server  # noqa: F401  (autouse)
from workflows.machine import timers
from workflows.machine.record import StartChild
from workflows.machine.incident import IncidentMachine, ResolveWorkingDays

STEPS = [timedelta(seconds=1), timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=10),
         timedelta(hours=1), timedelta(days=1), timedelta(days=3)]


class Run:
    """One incident driven at random, with everything it asked the outside world for."""

    def __init__(self, time_scale: float | None, plan: dict[str, list[str]] | None = None):
        self.m: IncidentMachine = new_machine(time_scale=time_scale)
        self.plan = plan or {}  # step -> the outcomes to record there, in order (the last one repeats)
        self.now = T0
        self.sent: list[SendMessages] = []  # every send request the machine made, in order
        self.in_flight: list[SendMessages] = []  # not yet answered by the send activity
        self.calendar: list[ResolveWorkingDays] = []  # not yet answered by the calendar
        self.children: list[StartChild] = []  # hand-overs whose child incident has not ended
        self.take()

    def take(self) -> None:
        for effect in self.m.take_effects():
            if isinstance(effect, ResolveWorkingDays):
                self.calendar.append(effect)
            elif isinstance(effect, StartChild):
                self.children.append(effect)
            else:
                self.sent.append(effect)
                self.in_flight.append(effect)

    # ---- what may happen now ------------------------------------------------------------

    def moves(self) -> list[str]:
        m = self.m
        if m.state.status != "open":
            return []
        found = ["advance", "wake", "note"]
        if self.outcomes():
            found.append("outcome")
        if m.pending_approvals():
            found.append("decide")
        if self.calendar:
            found.append("calendar")
        if self.children:
            found.append("child")
        if self.in_flight:
            found += ["send_ok", "send_failed", "send_gave_up"]
        if any(f.status == "parked" for f in m.state.failed_actions):
            found += ["retry", "skip"]
        if m.state.deliveries:
            found.append("undelivered")
        if m.state.follow_up and m.state.follow_up.outcome == "pending":
            found.append("follow_up")
        return found

    def outcomes(self) -> list[tuple[str, str]]:
        return [(sid, name) for sid in self.m.active_steps() if self.m.pb.steps[sid].kind == "task"
                for name in self.m.pb.steps[sid].outcomes]

    def play(self, move: str, data) -> None:
        m, draw = self.m, data.draw
        if move == "advance":
            self.now += draw(st.sampled_from(STEPS))
            m.fire_due(self.now)
        elif move == "wake":  # the workflow's timer: sleep until the next thing is due
            due = timers.next_due(m)
            self.now = max(self.now, due) if due else self.now + timedelta(hours=1)
            m.fire_due(self.now)
        elif move == "note":
            m.add_note(AddNote(actor="sun.li", text="情况说明"), self.now)
        elif move == "outcome":
            step, name = draw(st.sampled_from(self.outcomes()))
            if self.plan.get(step):
                name = self.plan[step].pop(0) if len(self.plan[step]) > 1 else self.plan[step][0]
            spec = m.pb.steps[step].outcomes[name]
            extra = {f: (self.now + draw(st.sampled_from(STEPS[3:]))).isoformat() for f in spec.requires_data}
            m.record_outcome(RecordOutcome(step=step, outcome=name, actor=STAFF[m.pb.steps[step].owner],
                                           note="原因" if spec.requires_reason else "", data=extra), self.now)
        elif move == "decide":
            approve = draw(st.booleans())
            m.decide(DecideApproval(decision="approve" if approve else "reject", actor="wang.jun",
                                    reason="" if approve else "现场可控"), self.now)
        elif move == "child":  # a hand-over's child incident starts and ends
            child = self.children.pop(0)
            m.child_started(child.child_id, self.now)
            m.child_finished(ChildResult(id=child.child_id, status="closed", resolution="已签下处理协议"), self.now)
        elif move == "calendar":  # answers may come in any order, some after their step has moved on
            ask = self.calendar.pop(draw(st.integers(0, len(self.calendar) - 1)))
            m.apply_working_days(ask, add_working_days(ask.start, ask.working_days))
        elif move.startswith("send_"):
            request = self.in_flight.pop(draw(st.integers(0, len(self.in_flight) - 1)))
            if move == "send_gave_up":
                m.park_failure(request, "gateway down", 8, self.now)
            else:
                key = f"key-{len(self.sent)}" if request.purpose == "approval_request" else None
                status = "sent" if move == "send_ok" else "failed"
                m.record_sent(request, delivered(request, status=status, error="30003", key=key), self.now)
        elif move in ("retry", "skip"):
            step = draw(st.sampled_from(sorted({f.step or "-" for f in m.state.failed_actions if f.status == "parked"})))
            if move == "retry":
                m.retry(RetryAction(step=step, actor="ma.ning"), self.now)
            else:
                m.skip(SkipAction(step=step, actor="ma.ning", reason="已电话通知"), self.now)
        elif move == "undelivered":
            delivery = draw(st.sampled_from(m.state.deliveries))
            m.report_delivery(DeliveryReport(key=delivery.key, status="undelivered", error_code="30005"), self.now)
        elif move == "follow_up":
            m.answer_follow_up(RecordFollowUp(score=draw(st.integers(1, 5)), actor="sun.li"), self.now)
        self.take()

    # ---- what must always hold ----------------------------------------------------------

    def check(self) -> None:
        m, s = self.m, self.m.state
        active = m.active_steps()
        assert s.current_steps == (active if s.status == "open" else [])
        roster = m.start.roster
        for sid in active:  # one owner, someone holds that role, and at most one pending rung
            owner = m.pb.steps[sid].owner
            assert roster.get(owner), f"{sid}: nobody holds {owner}"
            ahead = Counter(d.kind for d in timers.upcoming(m) if d.step == sid)
            assert ahead["step"] <= 1 and ahead["escalation"] <= 1
            spec = m.pb.steps[sid].deadline
            waiting = any(a.target == "step" and a.step == sid and a.visit == s.steps[sid].visit
                          for a in self.calendar)
            if spec is not None and not waiting:
                assert s.steps[sid].deadline_at is not None, f"{sid} is under way without a deadline"
                announced = f"{s.id}/{sid}#{s.steps[sid].visit}/"
                assert any(r.key.startswith(announced) and r.key.endswith("/start") for r in self.sent), \
                    f"{sid} started without its message"
        self.check_messages()
        if s.stage == "waiting_child":
            assert not active and m.waiting_child() is not None, "a parent that waits has nothing else under way"
        if s.stage in ("follow_up", "closed"):
            assert s.warning_tier == 0, "closing ends the warning plan"
        if s.status == "closed":
            assert s.approval_key is None and timers.upcoming(m) == []
            assert s.timeline[-1].kind == "incident_closed"
        assert [e.at for e in s.timeline] == sorted(e.at for e in s.timeline)
        first = [r.key for r in self.sent if r.retry == 0]
        assert len(first) == len(set(first)), "a message key was used twice"

    def check_messages(self) -> None:
        """Every transition the timeline shows produced its messages, and no more."""
        s, pb = self.m.state, self.m.pb
        tail = Counter((r.step, r.key.split("/", 2)[2].split("~")[0]) for r in self.sent if r.retry == 0)
        events = Counter(e.kind for e in s.timeline)
        assert events["reminder"] == sum(n for k, n in tail.items() if k[1].startswith("reminder/deadline"))
        assert events["escalation"] == sum(n for k, n in tail.items() if k[1].startswith("escalation/"))
        assert events["appointment_reminder"] == sum(n for k, n in tail.items() if "/appointment" in k[1])
        assert events["follow_up_sent"] == sum(n for k, n in tail.items() if k[1] == "follow_up/survey")
        assert events["resolved"] == sum(n for k, n in tail.items() if k[1] == "step_started/closed")
        for e in s.timeline:
            if e.kind == "outcome":
                name = next(n for n, o in pb.steps[e.step].outcomes.items()
                            if e.detail.startswith(pb.outcome_label(e.step, n)))
                if pb.steps[e.step].outcomes[name].notify:
                    assert tail[(e.step, f"progress_report/outcome-{name}")] >= 1


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), time_scale=st.sampled_from([None, 60.0]))
def test_random_runs_keep_the_invariants(data, time_scale):
    run = Run(time_scale)
    run.check()
    for _ in range(data.draw(st.integers(10, 50), label="moves")):
        moves = run.moves()
        if not moves:
            break
        run.play(data.draw(st.sampled_from(moves), label="move"), data)
        run.check()
    event(f"reached: {'+'.join(sid for sid in run.m.pb.steps if sid in run.m.state.steps)}")
    event(f"status: {run.m.state.status}")


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_path_that_keeps_answering_ends_closed_with_every_message_keyed_once(data):
    """Staff who keep acting down a path of the playbook (while time, failures and retries happen
    too) close every incident."""
    plan = {
        "talk_with_lead": [data.draw(st.sampled_from(["accepted", "not_accepted"]))],
        "metering_explanation": [data.draw(st.sampled_from(["accepted", "not_accepted"]))],
        "metrology_calibration": ["scheduled"] * data.draw(st.integers(0, 2))
        + [data.draw(st.sampled_from(["meter_accurate", "meter_inaccurate"]))],
    }
    run = Run(None, plan)
    for _ in range(300):
        if run.m.state.status != "open":
            break
        moves = run.moves()
        progress = [mv for mv in ("calendar", "decide", "outcome", "send_ok", "follow_up", "child") if mv in moves]
        others = [mv for mv in moves if mv not in progress]
        run.play(data.draw(st.sampled_from(progress * 3 + others)) if progress else "wake", data)
        run.check()
    event(f"path: {'+'.join(sid for sid in run.m.pb.steps if sid in run.m.state.steps)}")
    assert run.m.state.status == "closed"
    assert run.m.state.follow_up.outcome in ("answered", "expired")
    assert run.m.state.warning_tier == 0
