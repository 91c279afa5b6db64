"""The warning plan's language (issue 14), on the machine alone: tiers ordered as in Chinese plans (一级 is the
most severe), raised and ended by the director as actions, ended automatically at close, and every office
told once; old snapshots (`min_tier: 3`, no `warning_plan:`) keep their meaning."""

from __future__ import annotations

import re

import pytest
from temporalio.exceptions import ApplicationError

from groupdesk.incidents.actions import actions
from groupdesk.core.models import RecordOutcome
from groupdesk.core.playbook import ProgressReports
from groupdesk.core.warning_plan import at_or_above, more_severe, most_severe, tier_name
from machine_helpers import (  # noqa: F401  (no_temporal_server is autouse)
    PLAYBOOK, T0, chosen_data, decide, drain, kinds, new_machine, no_temporal_server, outcome, resolve, sends, text,
    timedelta, to_director, told_once,
)
from workflows import checks

MIN = timedelta(minutes=1)


def plan(m, action: str, now, actor: str = "wang.jun", note: str = "") -> list:
    """The director's action on the running plan, validated as the workflow validates it."""
    req = RecordOutcome(step="warning_plan", outcome=action, actor=actor, note=note)
    checks.check_outcome(m, req, now)
    m.record_outcome(req, now)
    return resolve(m, drain(m))


def approved(playbook=PLAYBOOK):
    m = new_machine(playbook=playbook)
    to_director(m)
    decide(m, T0 + 5 * MIN)
    assert m.state.warning_tier == 3
    return m


def variant(**changes):
    """The smart-meter playbook with some sections replaced (as an older or another playbook would say)."""
    return PLAYBOOK.model_copy(deep=True, update=changes)


def test_tiers_are_ordered_as_in_chinese_plans():
    assert more_severe(3, 2) == 2 and more_severe(0, 3) == 3 and more_severe(0, 0) == 0
    assert most_severe([3, 2, 0, 4]) == 2
    assert at_or_above(1, 3) and at_or_above(3, 3) and not at_or_above(4, 3) and not at_or_above(0, 3)
    assert tier_name(1, "zh-CN") == "一级" and tier_name(3, "en") == "tier 3" and tier_name(0, "zh-CN") == ""


def test_a_plan_raised_to_tier_2_and_then_1_keeps_the_progress_reports_going():
    m = approved()
    effects = plan(m, "raise", T0 + 10 * MIN)
    assert m.state.warning_tier == 2
    raised = [e for e in m.state.timeline if e.kind == "warning_tier"][-1]
    assert raised.detail == "warning tier 2 (raised from 3)" and raised.actor == "wang.jun"
    report = next(e for e in sends(effects) if "/report" in e.key)
    assert text(report, "emergency_leadership_office").startswith("进展报告:西城营业厅集体投诉(20人,预警:二级)")
    assert "升级为二级预警" in text(report, "emergency_leadership_office")
    plan(m, "raise", T0 + 11 * MIN)
    assert m.state.warning_tier == 1
    effects = outcome(m, "metering_explanation", "not_accepted", T0 + 20 * MIN)
    assert any("/report" in e.key for e in sends(effects)), "a tier-1 plan still reports every change"
    # an outcome that starts a tier-3 plan never lowers a running tier-1 plan
    m.set_tier(3, "metering_explanation", "wang.jun", T0 + 21 * MIN)
    assert m.state.warning_tier == 1


def test_old_snapshots_min_tier_3_keeps_its_meaning_and_reports_tiers_1_to_3():
    old = ProgressReports.model_validate({"min_tier": 3, "notify": ["emergency_leadership_office"],
                                          "template": "progress_report"})
    assert old.at_or_above == 3 and not old.while_plan_active
    m = approved(variant(progress_reports=old))
    for tier, reported in ((3, True), (2, True), (1, True), (4, False), (0, False)):
        assert m.reports_at(tier) is reported, tier


def test_a_snapshot_without_warning_plan_has_no_plan_actions_and_no_end_notice():
    m = approved(variant(warning_plan=None))
    assert not [a for a in actions(m.state, m.pb) if a["step"] == "warning_plan"]
    with pytest.raises(ApplicationError, match="unknown step 'warning_plan'"):
        checks.check_outcome(m, RecordOutcome(step="warning_plan", outcome="end", actor="wang.jun"), T0)
    effects = outcome(m, "metering_explanation", "accepted", T0 + 20 * MIN)
    assert [e.recipients for e in sends(effects) if e.purpose == "progress_report"] \
        == [["emergency_leadership_office"]], "as before: the report alone"


def test_the_director_ends_the_plan_as_an_action_and_each_office_is_told_once():
    m = approved()
    mine = actions(m.state, m.pb, _directory(), viewer="wang.jun")
    assert [(a["step"], a["outcome"], a["label"]) for a in mine if a["step"] == "warning_plan"] \
        == [("warning_plan", "raise", "升级为二级预警"), ("warning_plan", "end", "结束三级预警预案")]
    assert not [a for a in actions(m.state, m.pb, _directory(), viewer="sun.li") if a["step"] == "warning_plan"]
    effects = plan(m, "end", T0 + 30 * MIN, note="现场秩序恢复")
    told_once(effects)
    assert m.state.warning_tier == 0 and not [a for a in actions(m.state, m.pb) if a["step"] == "warning_plan"]
    ended = [e for e in m.state.timeline if e.kind == "warning_plan_ended"]
    assert [(e.actor, e.detail) for e in ended] == [("wang.jun", "tier 3 warning plan ended: 现场秩序恢复")]
    notice, report = sends(effects)
    assert notice.recipients == ["city_emergency_office"] and report.recipients == ["emergency_leadership_office"]
    assert "三级供电服务预警预案已结束(王军)" in text(notice, "city_emergency_office")
    assert "预警:已结束" in text(report, "emergency_leadership_office")
    assert "0级" not in text(report, "emergency_leadership_office")
    # the plan is over: closing neither ends it again nor reports it
    effects = outcome(m, "metering_explanation", "accepted", T0 + 40 * MIN)
    assert kinds(m).count("warning_plan_ended") == 1 and not [e for e in sends(effects) if e.step is None]


def test_only_the_director_acts_on_a_running_plan_and_a_tier_1_plan_cannot_be_raised():
    m = new_machine()
    to_director(m)
    with pytest.raises(ApplicationError, match="no warning plan is running"):
        plan(m, "end", T0)
    decide(m, T0 + 5 * MIN)
    with pytest.raises(ApplicationError, match="may not end the warning plan"):
        plan(m, "end", T0 + 6 * MIN, actor="sun.li")
    plan(m, "raise", T0 + 7 * MIN)
    plan(m, "raise", T0 + 8 * MIN)
    with pytest.raises(ApplicationError, match="a tier-1 plan cannot be raised"):
        plan(m, "raise", T0 + 9 * MIN)


def test_a_plan_running_at_close_ends_automatically_and_the_city_office_is_told():
    m = approved()
    plan(m, "raise", T0 + 10 * MIN)
    effects = outcome(m, "metering_explanation", "accepted", T0 + 20 * MIN)
    told_once(effects)
    ended = next(e for e in m.state.timeline if e.kind == "warning_plan_ended")
    assert ended.actor is None and ended.detail == "tier 2 warning plan ended: automatically at close"
    notice = next(e for e in sends(effects) if "/plan-ended" in e.key)
    assert notice.recipients == ["city_emergency_office"]
    assert "二级供电服务预警预案已结束(事件办结,自动结束)" in text(notice, "city_emergency_office")
    close = next(e for e in sends(effects) if e.key.endswith("/closed"))
    assert "已办结" in text(close, "hall_lead")  # the plan's end is the city office's notice, not a branch here


def test_after_a_rejection_the_hall_lead_is_told_the_reason_and_so_is_whoever_the_yaml_names():
    m = new_machine()
    to_director(m)
    effects = decide(m, T0 + 5 * MIN, approve=False, reason="现场可控,暂不启动")
    told_once(effects)
    rejected, start = sends(effects)  # the rejection's own notice to the hall lead, the technicians' step
    assert rejected.recipients == ["hall_lead"] and start.recipients == ["metering_technician"]
    assert "主任未同意启动预警预案,理由:现场可控,暂不启动" in text(rejected, "hall_lead")
    assert "现场可控" not in text(start, "metering_technician")
    assert "reason: 现场可控" in text(rejected, "hall_lead", "en")
    # a playbook may name others: they get the rejection with its reason
    pb = PLAYBOOK.model_copy(deep=True)
    rejected = pb.steps["director_review"].outcomes["rejected"]
    rejected.notify, rejected.template = ["security_department"], "rejected_notice"
    pb.templates["rejected_notice"] = {"zh-CN": "{{ actor_name }}未同意启动预警:{{ reason }}",
                                       "en": "{{ actor_name }} refused: {{ reason }}"}
    m = new_machine(playbook=pb)
    to_director(m)
    effects = decide(m, T0 + 5 * MIN, approve=False, reason="现场可控")
    notice = next(e for e in sends(effects) if e.recipients == ["security_department"])  # instead of the lead
    assert text(notice, "security_department") == "王军未同意启动预警:现场可控"


def test_the_follow_up_names_the_playbooks_own_topic():
    def follow_up_text(playbook, lang="zh-CN"):
        m = new_machine(playbook=playbook)
        drain(m)
        outcome(m, "move_to_vip_room", "done", T0)
        outcome(m, "keep_order", "done", T0)
        outcome(m, "talk_with_lead", "accepted", T0)
        m.fire_due(m.state.follow_up.send_at)
        (survey,) = [e for e in drain(m) if e.purpose == "follow_up"]
        return text(survey, "lead_complainant", lang)

    assert "关于近日反映的智能电表计量问题" in follow_up_text(PLAYBOOK)
    outage = variant(topic={"zh-CN": "小区频繁停电问题", "en": "the frequent outages"})
    assert "小区频繁停电问题" in follow_up_text(outage) and "电表" not in follow_up_text(outage)
    assert "the frequent outages" in follow_up_text(outage, "en")


def test_the_complainant_is_told_the_calibration_time_result_and_remedy_and_the_close():
    m = new_machine()
    to_director(m)
    decide(m, T0, approve=False)
    outcome(m, "metering_explanation", "not_accepted", T0 + MIN)
    at = T0 + timedelta(days=2)
    (told,) = outcome(m, "metrology_calibration", "scheduled", T0 + 2 * MIN, calibration_at=at.isoformat())
    assert "电表现场校验已与市计量监督局商定于" in text(told, "lead_complainant")
    (again,) = outcome(m, "metrology_calibration", "scheduled", T0 + 3 * MIN,
                       calibration_at=(at + timedelta(hours=1)).isoformat())
    assert again.key != told.key, "a new time is a new message"
    effects = outcome(m, "metrology_calibration", "meter_inaccurate", T0 + timedelta(days=1))
    told_once(effects)
    assert m.state.current_steps == ["meter_replacement_and_refund"]
    step = m.pb.steps["meter_replacement_and_refund"]
    assert step.owner == "metering_technician" and step.deadline.working_days == 5
    (remedy,) = sends(effects)
    assert remedy.recipients == ["metering_technician", "hall_lead", "lead_complainant"]
    assert "现场校验结果为表计误差超差" in text(remedy, "lead_complainant")
    assert "更换电表并按误差退补电费" in text(remedy, "lead_complainant")
    assert "incident" not in text(remedy, "lead_complainant", "en").lower()
    effects = outcome(m, "meter_replacement_and_refund", "done", T0 + timedelta(days=2))
    told_once(effects)
    close = next(e for e in sends(effects) if e.key.endswith("/closed"))
    assert "已办结,处理结果:已更换表计并退补电费" in text(close, "lead_complainant")
    # the accurate meter: the complainant reads the result in the close notice
    m = new_machine()
    to_director(m)
    decide(m, T0, approve=False)
    outcome(m, "metering_explanation", "not_accepted", T0 + MIN)
    effects = outcome(m, "metrology_calibration", "meter_accurate", T0 + timedelta(days=1))
    close = next(e for e in sends(effects) if e.key.endswith("/closed"))
    assert "处理结果:表计准确" in text(close, "lead_complainant")


@pytest.mark.parametrize("approve", [True, False])
@pytest.mark.parametrize("meter", ["meter_accurate", "meter_inaccurate"])
def test_no_one_is_told_twice_at_one_moment_on_the_longest_paths(approve, meter):
    m = new_machine()
    moments = [to_director(m), decide(m, T0 + 5 * MIN, approve=approve)]
    if approve:
        moments.append(plan(m, "raise", T0 + 6 * MIN))
    moments.append(outcome(m, "metering_explanation", "not_accepted", T0 + 20 * MIN))
    moments.append(outcome(m, "metrology_calibration", meter, T0 + 60 * MIN))
    if meter == "meter_inaccurate":
        moments.append(outcome(m, "meter_replacement_and_refund", "done", T0 + 90 * MIN))
    for effects in moments:
        told_once(effects)
    assert m.state.stage == "follow_up" and m.state.warning_tier == 0


def _directory():
    from machine_helpers import DIRECTORY

    return DIRECTORY


def test_the_timeline_says_the_tier_in_words_most_severe_first():
    from groupdesk.web.event_words import event_text

    m = approved()
    plan(m, "raise", T0 + 10 * MIN)
    outcome(m, "metering_explanation", "accepted", T0 + 20 * MIN)
    said = [event_text(e, m.pb, _directory(), "zh-CN") for e in m.state.timeline
            if e.kind in ("warning_tier", "warning_plan_ended")]
    assert said == ["启动三级预警", "预警升级为二级预警", "二级预警预案随办结自动结束"]
    old = m.state.timeline[-1].model_copy(update={"kind": "warning_plan_ended", "actor": "wang.jun",
                                                  "detail": "tier-3 warning plan ended; warning tier 0"})
    assert event_text(old, m.pb, _directory(), "zh-CN") == "三级预警预案结束", "older incidents read the same way"


def _every_moment(pb, choice: dict[str, str]):
    """Drive one incident of `pb` down `choice` (one leaving outcome per step); the effects of each moment."""
    from groupdesk.core.models import DecideApproval

    m = new_machine(playbook=pb)
    moments, now = [resolve(m, drain(m))], T0
    for _ in range(50):
        active = [sid for sid in m.active_steps() if pb.steps[sid].kind != "close"]
        if not active:
            break
        sid, now = active[0], now + MIN
        if pb.steps[sid].kind == "approval":
            approve = choice[sid] == "approved"
            m.decide(DecideApproval(decision="approve" if approve else "reject", actor="wang.jun",
                                    reason="" if approve else "现场可控"), now)
        else:
            picked = pb.steps[sid].outcomes[choice[sid]]
            data = {f: (now + timedelta(days=2)).isoformat() for f in picked.requires_data}
            data |= chosen_data(picked)  # became_group: the playbook the client chose
            m.record_outcome(RecordOutcome(step=sid, outcome=choice[sid], actor="sun.li", note="原因", data=data), now)
        moments.append(resolve(m, drain(m)))
    return moments


def test_no_shipped_playbook_tells_one_person_twice_at_one_moment():
    import itertools

    from groupdesk.runtime.config import REPO_ROOT
    from groupdesk.playbooks.loader import load_playbooks

    for pb in load_playbooks(REPO_ROOT / "playbooks").values():
        options = {sid: [n for n, o in s.outcomes.items() if not o.stay]
                   for sid, s in pb.steps.items() if s.kind != "close"}
        for combo in itertools.product(*options.values()):
            for effects in _every_moment(pb, dict(zip(options, combo))):
                told_once(effects)


def test_inside_a_sensitive_period_each_change_of_the_plan_reaches_the_responsible_person():
    from datetime import date

    from groupdesk.core.periods import SensitivePeriod
    from groupdesk.incidents.registration import prepare_start
    from machine_helpers import DIRECTORY
    from workflows.machine.incident import IncidentMachine

    request = prepare_start(
        directory=DIRECTORY, playbook=PLAYBOOK, hall_id="xicheng", headcount=20, lead_name="张建国",
        lead_phone="13800138000", summary="智能电表换装后电量异常增长", started_by="sun.li", incident_id="inc-1")
    request.sensitive_period = SensitivePeriod(name="全国两会", first_day=date(2026, 11, 20),
                                               last_day=date(2026, 11, 30), responsible="lin.yue")
    m = IncidentMachine.new(request, T0)
    to_director(m)
    decide(m, T0 + 5 * MIN)
    keys = [e.key for moment in (plan(m, "raise", T0 + 6 * MIN), plan(m, "raise", T0 + 7 * MIN),
                                 plan(m, "end", T0 + 8 * MIN))
            for e in sends(moment) if e.recipients == ["person:lin.yue"]]
    assert len(keys) == 3 and len(set(keys)) == 3, "two raises are two messages, not one key twice"


def test_the_playbook_page_previews_every_template_of_every_shipped_playbook():
    from groupdesk.runtime.config import REPO_ROOT
    from groupdesk.playbooks.loader import load_playbooks
    from groupdesk.web.diagram import template_previews

    for pb in load_playbooks(REPO_ROOT / "playbooks").values():
        for lang in ("zh-CN", "en"):  # each rendered with its use's sample values (StrictUndefined)
            assert all(p["texts"] for p in template_previews(pb, lang)), pb.id
    labels = [p["label"] for p in template_previews(PLAYBOOK, "zh-CN")]
    assert {"预警升级", "预警结束"} <= set(labels) and "市计量监督局现场校验: 已商定校验时间" in labels


@pytest.mark.parametrize("change, says", [
    (lambda raw: raw.pop("topic"), "topic: templates close_notice_complainant, follow_up use {{ topic }}"),
    (lambda raw: raw["progress_reports"].update(at_or_above=5), "progress_reports.at_or_above: give a tier from 1"),
    (lambda raw: raw["warning_plan"].update(managed_by="mayor"), "warning_plan.managed_by: unknown role 'mayor'"),
    (lambda raw: raw["warning_plan"]["ended"].update(template="nope"), "warning_plan.ended.template: unknown template"),
    (lambda raw: raw["steps"].update(warning_plan=raw["steps"]["keep_order"]), "the warning plan's own"),
])
def test_the_loader_names_each_mistake_in_the_plan_language(tmp_path, change, says):
    import shutil

    import yaml

    from groupdesk.runtime.config import REPO_ROOT
    from groupdesk.playbooks.loader import PlaybookError, load_playbook

    source = REPO_ROOT / "playbooks" / "smart-meter-group-complaint.yaml"
    shutil.copytree(REPO_ROOT / "playbooks" / "templates", tmp_path / "templates")
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    change(raw)
    if "warning_plan" in raw["steps"]:
        raw["steps"]["move_to_vip_room"]["outcomes"]["done"]["next"] = "warning_plan"  # reachable
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PlaybookError, match=re.escape(says)):
        load_playbook(tmp_path / "p.yaml")
