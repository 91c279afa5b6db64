"""Evidence the incident is told of (issue 29), on the pure machine: the `evidence_added` update's validator
refuses a malformed file description or someone outside the hall, the timeline says it in words, a file told twice
is kept once, evidence is still taken while the closed incident waits for its follow-up, and the archive record
lists every file with both hashes. No Temporal server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError

from groupdesk.core.evidence import EvidenceAdded
from groupdesk.record.archive_record import build_record
from groupdesk.web.event_words import event_text
from machine_helpers import DIRECTORY, T0, drain, new_machine, no_temporal_server  # noqa: F401
from workflows import checks

ORIGINAL, STORED = "a" * 64, "b" * 64


def told(m, now=T0, **change):
    """Through the validator, as the workflow does: whether the file was new to the incident."""
    fields = {"attachment_id": 7, "original_sha256": ORIGINAL, "stored_sha256": STORED, "kind": "image/jpeg",
              "size": 245_760, "step": "metrology_calibration", "actor": "feng.tao", "roles": None, **change}
    req = EvidenceAdded(**fields)
    checks.check_evidence(m, req)
    return m.evidence_added(req, now)


@pytest.mark.parametrize("change, words", [
    ({"stored_sha256": "B" * 64}, "stored_sha256: must be 64 lower-case hex"),
    ({"original_sha256": "abc"}, "original_sha256: must be 64"),
    ({"kind": "image/gif"}, "kind: must be one of"),
    ({"size": 0}, "size: must be 1 to"),
    ({"size": 10 * 1024 * 1024 + 1}, "size: must be 1 to"),
    ({"step": "no_such_step"}, "step: 'no_such_step' is not a step"),
    ({"actor": "someone.else"}, "someone.else holds no role at hall xicheng"),
    ({"actor": "someone.else", "roles": []}, "holds no role"),
])
def test_a_malformed_or_outside_request_is_refused_and_nothing_is_kept(change, words):
    m = new_machine()
    drain(m)
    before = len(m.state.timeline)
    with pytest.raises(ApplicationError) as info:
        told(m, **change)
    assert words in str(info.value), str(info.value)
    assert m.state.evidence == [] and len(m.state.timeline) == before


def test_a_file_is_on_the_timeline_in_words_kept_once_and_listed_by_the_archive_record():
    m = new_machine()
    drain(m)
    assert m.pb.steps and "metrology_calibration" in m.pb.steps
    assert told(m, now=T0 + timedelta(minutes=5)) is True
    assert told(m, now=T0 + timedelta(minutes=6)) is False  # a retried attach: kept once
    assert told(m, now=T0 + timedelta(minutes=7), attachment_id=8, original_sha256="c" * 64, stored_sha256="c" * 64,
                kind="application/pdf", size=3 * 1024 * 1024, step=None, actor="sun.li", roles=["hall_lead"]) is True
    entries = [e for e in m.state.timeline if e.kind == "evidence_added"]
    assert [(e.step, e.actor, e.at) for e in entries] == [("metrology_calibration", "feng.tao", T0 + timedelta(minutes=5)),
                                                          (None, "sun.li", T0 + timedelta(minutes=7))]
    assert event_text(entries[0], m.pb, DIRECTORY, "zh-CN") == "JPEG 照片,240 KB(SHA-256 bbbbbbbbbbbb…)"
    assert event_text(entries[1], m.pb, DIRECTORY, "en") == "PDF document, 3.0 MB (SHA-256 cccccccccccc…)"
    shown = m.shown_state()
    assert [e.stored_sha256 for e in shown.evidence] == [STORED, "c" * 64]

    record = build_record(m.start, m.state, "run-1", b"k" * 32)
    assert record["evidence"] == [
        {"attachment_id": 7, "original_sha256": ORIGINAL, "stored_sha256": STORED, "kind": "image/jpeg",
         "size": 245_760, "step": "metrology_calibration", "added_by": "feng.tao",
         "added_at": (T0 + timedelta(minutes=5)).isoformat()},
        {"attachment_id": 8, "original_sha256": "c" * 64, "stored_sha256": "c" * 64, "kind": "application/pdf",
         "size": 3 * 1024 * 1024, "step": None, "added_by": "sun.li",
         "added_at": (T0 + timedelta(minutes=7)).isoformat()},
    ]


def test_a_closed_incident_waiting_for_its_follow_up_still_takes_evidence():
    m = new_machine()
    drain(m)
    m.state.status = "closed"  # the archive is written after the follow-up: evidence is attached until then
    assert told(m) is True
    assert [e.stored_sha256 for e in m.state.evidence] == [STORED]


def test_an_incident_without_evidence_has_an_empty_list_in_its_record():
    m = new_machine()
    drain(m)
    assert build_record(m.start, m.state, "run-1", b"k" * 32)["evidence"] == []
