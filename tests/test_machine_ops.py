"""The incident machine without a server, beyond the playbook's paths: what sending, ops and
time outside the playbook change (parked failures, retries, skips, delivery reports, resets,
migrations, notes, continue-as-new, the approval code's hash), with `now` passed in.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from groupdesk.runtime.config import REPO_ROOT
from groupdesk.core.models import AddNote, DeliveryReport, MigratePlaybook, RecordReset, RetryAction, SkipAction
from machine_helpers import (
    T0,
    by_purpose,
    decide,
    delivered,
    drain,
    kinds,
    new_machine,
    no_temporal_server,  # noqa: F401  (autouse)
    outcome,
    sends,
    to_director,
)
from workflows.machine.incident import IncidentMachine

MIN = timedelta(minutes=1)


def test_the_machine_imports_no_temporal_at_all():
    code = ("import sys, workflows.machine.incident, workflows.machine.timers, workflows.machine.messages;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'temporalio'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_failed_message_is_parked_then_retried_to_the_same_role():
    m = new_machine()
    guide_msg, _ = sends(drain(m))
    sent = m.record_sent(guide_msg, delivered(guide_msg, status="failed", error="30003 unreachable"), T0)
    assert sent.parked == 2 and not sent.key_registered
    assert [f.request["recipients"] for f in m.state.failed_actions] == [["guide"], ["hall_lead"]]
    assert kinds(m)[-2:] == ["sms_failed", "sms_failed"]
    assert len(m.parked("move_to_vip_room")) == 2 and m.parked("keep_order") == []
    m.retry(RetryAction(step="move_to_vip_room", actor="ma.ning"), T0 + MIN)
    retried = drain(m)
    assert [(r.recipients, r.retry, r.key) for r in retried] == [
        (["guide"], 1, guide_msg.key), (["hall_lead"], 2, guide_msg.key)]
    assert {f.status for f in m.state.failed_actions} == {"retried"} and m.state.action_retries == 2
    assert m.parked("move_to_vip_room") == []


def test_a_send_that_failed_for_good_is_parked_and_can_be_skipped_with_a_reason():
    m = new_machine()
    _, order_msg = sends(drain(m))
    m.park_failure(order_msg, "gateway down", 8, T0 + MIN)
    (parked,) = m.parked("keep_order")
    assert parked.attempts == 8 and parked.request["recipients"] == ["security_guard", "security_department"]
    m.skip(SkipAction(step="keep_order", actor="ma.ning", reason="已电话通知"), T0 + 2 * MIN)
    assert parked.status == "skipped" and parked.reason == "已电话通知" and parked.resolved_by == "ma.ning"
    assert drain(m) == [] and m.state.timeline[-1].kind == "action_skipped"


def test_a_delivery_report_marks_our_message_undelivered_and_ignores_others():
    m = new_machine()
    guide_msg, _ = sends(drain(m))
    m.record_sent(guide_msg, delivered(guide_msg), T0)
    key = m.state.deliveries[0].key
    assert not m.report_delivery(DeliveryReport(key="someone-else", status="undelivered"), T0 + MIN)
    assert m.report_delivery(DeliveryReport(key=key, status="undelivered", error_code="30005"), T0 + MIN)
    assert m.state.deliveries[0].status == "undelivered" and m.state.deliveries[0].error == "undelivered 30005"
    assert m.state.timeline[-1].kind == "sms_undelivered" and "13800138000" not in m.state.timeline[-1].detail


def test_a_reset_with_resend_gives_messages_new_keys():
    m = new_machine()
    before = sends(drain(m))[0].key
    m.record_reset(RecordReset(actor="ma.ning", reason="重发", to_step="move_to_vip_room", resend=True), T0)
    assert m.state.resend_epoch == 1 and m.state.timeline[-1].detail.endswith("(messages will be sent again)")
    m.fire_due(T0 + 5 * MIN)
    assert all(e.key.endswith("~resend1") for e in drain(m))
    m.record_reset(RecordReset(actor="ma.ning", reason="查看", to_step="keep_order"), T0 + 6 * MIN)
    assert m.state.resend_epoch == 1 and before.endswith("/start")


def test_a_migration_follows_the_newer_version_from_here_on():
    m = new_machine()
    drain(m)
    steps = {**m.pb.steps}
    steps["talk_with_lead"] = steps["talk_with_lead"].model_copy(update={"deadline": steps["keep_order"].deadline})
    old = m.pb.version
    v2 = m.pb.model_copy(update={"version": old + 1, "steps": steps})
    m.migrate(MigratePlaybook(playbook=v2, actor="ma.ning", reason="缩短时限"), T0 + MIN)
    assert m.pb.version == old + 1 and m.state.playbook_version == old + 1 and m.start.playbook.version == old + 1
    assert m.state.timeline[-1].detail == f"v{old} -> v{old + 1}: 缩短时限"
    outcome(m, "move_to_vip_room", "done", T0 + 2 * MIN)
    outcome(m, "keep_order", "done", T0 + 2 * MIN)
    assert m.state.steps["talk_with_lead"].deadline_at == T0 + 7 * MIN  # v2's 5 minutes, not v1's 30


def test_notes_are_kept_trimmed_with_their_author():
    m = new_machine()
    drain(m)
    m.add_note(AddNote(actor="sun.li", text="  群众情绪稳定  "), T0 + MIN)
    entry = m.state.timeline[-1]
    assert (entry.kind, entry.actor, entry.detail, entry.at) == ("note", "sun.li", "群众情绪稳定", T0 + MIN)
    assert drain(m) == [] and m.state.current_steps == ["move_to_vip_room", "keep_order"]


def test_continuing_as_new_hands_over_the_whole_state():
    m = new_machine()
    drain(m)
    outcome(m, "move_to_vip_room", "done", T0 + MIN)
    carried = m.continue_as_new(T0 + 2 * MIN, 2001)
    assert carried.carried.runs == 2 and carried.carried.timeline[-1].detail == "history at 2001 events"
    again = IncidentMachine(carried.model_copy(update={"carried": None}), carried.carried)
    effects = outcome(again, "keep_order", "done", T0 + 3 * MIN)
    assert again.state.current_steps == ["talk_with_lead"] and by_purpose(effects) == {"step_started": [["hall_lead"]]}


def test_an_approval_request_carries_no_code_the_workflow_made():
    """Codes are made by the send activity, outside workflow code; the machine keeps only their keyed hash."""
    m = new_machine()
    (request,) = sends(to_director(m))
    assert request.purpose == "approval_request" and "approval_code" not in request.context
    assert "approval_code" not in m.state.model_dump() and m.state.approval_key is None
    m.record_sent(request, delivered(request, key="hmac-of-code"), T0)
    assert m.state.approval_key == "hmac-of-code" and m.shown_state().approval_key is None
    decide(m, T0 + MIN)
    assert m.state.approval_key is None

def test_a_staff_message_that_fell_back_from_wecom_to_sms_is_on_the_timeline():
    from groupdesk.core.models import Delivery, SendResult, TimelineEntry
    from groupdesk.people.directory import current_directory
    from groupdesk.runtime.config import EXAMPLE_DIRECTORY
    from groupdesk.web.event_words import event_text
    from groupdesk.web.labels import event_label

    m = new_machine()
    guide_msg, _ = sends(drain(m))
    note = "WeCom → SMS: no wecom_userid in the staff directory"
    m.record_sent(guide_msg, SendResult(deliveries=[
        Delivery(key=f"{guide_msg.key}/zhao.min/wecom", recipient="zhao.min", role="guide", status="sent",
                 channel="wecom"),
        Delivery(key=f"{guide_msg.key}/sun.li", recipient="sun.li", role="hall_lead", status="sent", note=note)]), T0)
    (entry,) = [e for e in m.state.timeline if e.kind == "wecom_fallback"]
    assert entry.detail == f"hall_lead sun.li: {note}" and m.state.failed_actions == []
    directory = current_directory(EXAMPLE_DIRECTORY)
    assert event_label("wecom_fallback", "zh-CN") == "企业微信未送达,已改发短信"
    shown = event_text(TimelineEntry(**entry.model_dump()), m.pb, directory, "zh-CN")
    assert shown == "营业厅负责人 孙丽: no wecom_userid in the staff directory"
