"""Repeat complaints by account number (户号) or community, not only by the lead's phone: keyed hashes in the
archive (SQLite and PostgreSQL) found within 90 days with the reason, never the number or address in clear."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from conftest import utc
from groupdesk.record.chain import append, verify
from groupdesk.record.archive_record import build_record
from groupdesk.record.repeats import archived
from groupdesk.record.repeat_keys import community_of, match_keys
from groupdesk.storage import Database
from workflows.machine.incident import IncidentMachine

KEY = b"k" * 40
T0 = utc(2026, 11, 2, 2, 0)


@pytest.mark.parametrize("address, community", [
    ("阳光花园5栋", "阳光花园"), ("阳光花园 3号楼 2单元", "阳光花园"), ("北京市西城区幸福小区3号楼", "幸福小区"),
    ("幸福小区(东区)3号楼", "幸福小区"), ("西直门大街12号", "西直门大街12号"), ("", "")])
def test_an_address_names_its_community(address, community):
    assert community_of(address) == community


def test_the_keys_are_keyed_per_purpose_and_never_the_value():
    keys = match_keys(KEY, "+8613800138000", "1234-5678", "阳光花园5栋")
    assert set(keys) == {"same_complainant", "same_account", "same_community"}
    assert len(set(keys.values())) == 3 and not any("1234" in k or "阳光" in k for k in keys.values())
    assert match_keys(KEY, "+8613900139000", "12345678", "阳光花园 2号楼")["same_account"] == keys["same_account"]
    assert match_keys(b"x" * 40, "+8613800138000", "1234-5678")["same_account"] != keys["same_account"]
    assert set(match_keys(KEY, "+8613800138000")) == {"same_complainant"}  # nothing else registered


def archive_one(db, make_start, n: int, phone: str, started, **registration):
    start = make_start(incident_id=f"xicheng-2026110{n}-00000{n}", lead_phone=phone, registration=registration)
    m = IncidentMachine.new(start, started)
    m.finish("move_to_vip_room", "done", "zhao.min", "", started + timedelta(minutes=3))
    m.finish("keep_order", "done", "qian.lei", "", started + timedelta(minutes=4))
    m.finish("talk_with_lead", "accepted", "sun.li", "", started + timedelta(minutes=20))
    m.close_incident(started + timedelta(days=1), "closed without follow-up")
    record = build_record(start, m.state, f"run-{n}", KEY)
    append(db, KEY, record)
    return record


def test_the_archive_finds_the_same_account_or_community_within_90_days(database_url, make_start):
    db = Database(database_url)
    try:
        a = archive_one(db, make_start, 1, "13800138001", T0, account_no="1234-5678", address="阳光花园5栋",
                        category="business")
        b = archive_one(db, make_start, 2, "13800138002", T0 + timedelta(days=1), address="北京市幸福小区1号楼")
        assert a["account_key"] and a["community_key"] and a["category"] == "business"
        assert "1234" not in str(a) and "阳光" not in str(a)  # only keyed hashes of either
        now = T0 + timedelta(days=30)

        def found(phone, account="", address="", at=now):
            earlier = archived(db, match_keys(KEY, phone, account, address), at)
            return (earlier.incident_id, earlier.reasons) if earlier else None

        assert found("13900139000", account="12345678") == (a["incident_id"], ("same_account",))
        assert found("13900139000", address="阳光花园 2号楼") == (a["incident_id"], ("same_community",))
        assert found("13900139000", "1234 5678", "西城区阳光花园") == (a["incident_id"],
                                                                   ("same_account", "same_community"))
        assert found("13900139000", address="幸福小区9号楼") == (b["incident_id"], ("same_community",))
        assert found("+8613800138001") == (a["incident_id"], ("same_complainant",))
        assert found("13900139000", "9999-0000", "别的小区") is None
        assert found("13900139000", account="12345678", at=T0 + timedelta(days=91)) is None  # past the window
        assert verify(db, KEY).intact
        with db.write() as c:  # the new columns sit outside the row hash: verify compares them with the record
            c.execute(text("UPDATE archive_records SET category = 'outage' WHERE seq = 1"))
        assert verify(db, KEY).problems == [
            f"seq 1 ({a['incident_id']}): altered: its category, match keys, promise or follow-up counts, finding or kind differ from the sealed record"]
    finally:
        db.dispose()
