"""Choosing a playbook: each says when it applies (95598 category, headcount); a start that names none gets
the one that fits, or one line saying why none (or several) do. No server: the refusals come first."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from typer.testing import CliRunner

from groupdesk.cli import app
from groupdesk.runtime.config import REPO_ROOT
from groupdesk.playbooks.choice import NoChoice, choose
from groupdesk.playbooks.choice import ChoiceError, pick_playbook, valid_playbooks
from groupdesk.playbooks.loader import PlaybookError, load_playbook, load_playbooks

PLAYBOOKS = REPO_ROOT / "playbooks"
SHIPPED = valid_playbooks(PLAYBOOKS)


@pytest.mark.parametrize("category, headcount, chosen", [
    (None, 20, "smart-meter-group-complaint"),  # a group, no category: the default (as before choosing existed)
    ("business", 20, "smart-meter-group-complaint"),
    ("outage", 20, "outage-group-complaint"),
    ("power_quality", 3, "outage-group-complaint"),  # 频繁停电 is filed under power quality too
    (None, 1, "single-complaint"),
    ("outage", 1, "single-complaint"),
    ("service", 1, "single-complaint"),
])
def test_the_playbook_that_fits_is_chosen(category, headcount, chosen):
    assert choose(SHIPPED, category, headcount).id == chosen


@pytest.mark.parametrize("category, headcount", [("service", 1), (None, 1), ("service", 3)])
def test_naming_the_person_involved_chooses_the_service_attitude_playbook(category, headcount):
    assert choose(SHIPPED, category, headcount, {"person_involved"}).id == "service-attitude-complaint"
    assert choose(SHIPPED, "outage", headcount, {"person_involved"}).id != "service-attitude-complaint"
    # a group naming a staff member, with no category: still the default group playbook
    assert choose(SHIPPED, None, 25, {"person_involved"}).id == "smart-meter-group-complaint"


def test_a_playbook_for_hand_overs_only_is_never_chosen_by_situation():
    ladder = next(p for p in SHIPPED if p.id == "dispute-ladder")
    assert ladder.applies.by_name_only
    for category in (None, "business", "outage", "grid_construction"):
        for headcount in (1, 2, 20):
            try:
                assert choose(SHIPPED, category, headcount).id != "dispute-ladder"
            except NoChoice as exc:
                assert "dispute-ladder" not in str(exc)
    assert pick_playbook(PLAYBOOKS, "dispute-ladder", None, 20).id == "dispute-ladder", "named, it starts"


def test_none_or_several_fitting_is_one_line_naming_the_way_out():
    with pytest.raises(NoChoice) as none:
        choose(SHIPPED, "grid_construction", 20)
    assert str(none.value).startswith("no playbook applies to category grid_construction and 20 people; for 20 people: ")
    assert "outage-group-complaint (outage, power_quality)" in str(none.value)
    assert "service-attitude-complaint (service; needs person_involved)" in str(none.value)
    assert "single-complaint" not in str(none.value), "only those for this many people"
    assert str(none.value).endswith("; choose one (--playbook), or correct the category") and len(str(none.value)) < 300
    assert "\n" not in str(none.value)
    meter = next(p for p in SHIPPED if p.id == "smart-meter-group-complaint")
    twin = meter.model_copy(update={"id": "twin"})
    with pytest.raises(NoChoice, match=r"several playbooks apply to category business and 2 people \(smart-meter-group"
                                       r"-complaint, twin\); choose one with --playbook"):
        choose([meter, twin], "business", 2)


def test_named_playbook_wins_and_a_wrong_headcount_or_category_waits_for_its_own_message():
    assert pick_playbook(PLAYBOOKS, "outage-group-complaint", "business", 20).id == "outage-group-complaint"
    assert pick_playbook(PLAYBOOKS, None, "metering", 20) is None  # --category says what is wrong
    assert pick_playbook(PLAYBOOKS, None, None, 0) is None  # --headcount says what is wrong
    with pytest.raises(ChoiceError, match="unknown playbook 'nope'"):
        pick_playbook(PLAYBOOKS, "nope", None, 20)


@pytest.mark.parametrize("applies, says", [
    ({"categories": ["metering"]}, "applies.categories: Value error, 'metering' is not a 95598 category"),
    ({"categories": []}, "applies.categories: Value error, name at least one category"),
    ({"headcount": {"min": 5, "max": 2}}, "applies.headcount: Value error, give 1 <= min <= max <= 10000"),
    ({"headcount": {"min": 0, "max": 2}}, "applies.headcount: Value error, give 1 <= min"),
])
def test_a_wrong_applies_is_refused_naming_it(tmp_path, applies, says):
    import yaml

    raw = yaml.safe_load((PLAYBOOKS / "single-complaint.yaml").read_text(encoding="utf-8"))
    raw["applies"] = applies
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    shutil.copytree(PLAYBOOKS / "templates", tmp_path / "templates")
    with pytest.raises(PlaybookError) as refused:
        load_playbook(path)
    assert says.replace("Value error, ", "") in str(refused.value)


def test_two_defaults_in_one_directory_are_refused(tmp_path):
    import yaml

    shutil.copytree(PLAYBOOKS, tmp_path / "playbooks")
    path = tmp_path / "playbooks" / "single-complaint.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["applies"]["default"] = True
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PlaybookError, match="applies.default: .* is the default already; keep one default"):
        load_playbooks(tmp_path / "playbooks")


def cli(tmp_path, *args):
    return CliRunner().invoke(app, list(args), env={"GROUPDESK_DATA_DIR": str(tmp_path)})


def test_playbooks_list_shows_when_each_applies(tmp_path):
    rows = {r["id"]: r for r in json.loads(cli(tmp_path, "playbooks", "list", "--json").stdout)}
    assert {"smart-meter-group-complaint", "outage-group-complaint", "single-complaint", "service-attitude-complaint",
            "dispute-ladder"} <= set(rows)
    for row in rows.values():
        assert row["valid"] and set(row["description"]) == {"zh-CN", "en"} and row["steps"]
        assert set(row["applies"]) == {"categories", "headcount", "default", "by_name_only"}
    assert rows["single-complaint"]["applies"]["headcount"] == {"min": 1, "max": 1}
    table = cli(tmp_path, "playbooks", "list").stdout
    assert "single-complaint" in table and "一位客户投诉" in table


START = ["start", "--hall", "xicheng", "--lead-name", "张建国", "--lead-phone", "13800138000", "--summary", "停电"]


@pytest.mark.parametrize("extra, says", [
    (["--headcount", "1", "--playbook", "smart-meter-group-complaint"],
     "error: --headcount: 1 is outside playbook smart-meter-group-complaint's range of 2 to 10,000 people;"),
    (["--headcount", "3", "--playbook", "single-complaint"],
     "error: --headcount: 3 is outside playbook single-complaint's range of 1 person;"),
    (["--headcount", "20", "--category", "grid_construction"],
     "error: --playbook: no playbook applies to category grid_construction and 20 people;"),
])
def test_start_refuses_a_headcount_outside_the_playbook_or_no_fitting_playbook(tmp_path, extra, says):
    result = CliRunner().invoke(app, START + extra, env={"GROUPDESK_DATA_DIR": str(tmp_path),
                                                         "TEMPORAL_ADDRESS": "127.0.0.1:9"})
    assert result.exit_code == 2 and result.stderr.startswith(says), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


async def test_the_console_offers_each_playbook_by_situation_and_shows_the_area_limits(tmp_path):
    from helpers import setup_for
    from groupdesk.web.app import create_app
    from web_helpers import signed_in

    app = create_app(setup_for(tmp_path).settings, client=None)  # no incident is read: no server
    async with signed_in(app, "sun.li") as lead:
        form = (await lead.get("/incidents/new")).text
        assert 'type="radio" name="playbook" value="" checked' in form, "by default: chosen from the situation"
        for playbook in SHIPPED:
            assert f'value="{playbook.id}"' in form and playbook.description["zh-CN"] in form
        assert "仅手动选择或由其他事件移交" in form  # the dispute ladder
        assert "须登记被投诉的当事人" in form  # the service-attitude playbook is chosen when the person is named
        page = (await lead.get("/playbooks/outage-group-complaint")).text
        for label, limit in (("城区", "45分钟"), ("农村", "1小时30分钟"), ("边远地区", "2小时")):
            assert re.search(rf"已派单\({label},[^)]*\): 抢修人员到达现场 \(时限 {limit}\)", page), label


def test_a_start_reads_the_playbooks_again_only_when_a_file_of_them_changed(tmp_path):
    """Every start picks among every playbook: they are kept as loaded until the playbook's file or one of its
    templates changes, and what a caller does to the one it was given is not what the next caller gets."""
    root = tmp_path / "playbooks"
    shutil.copytree(PLAYBOOKS, root)
    path = root / "outage-group-complaint.yaml"
    first = load_playbook(path)
    first.steps.clear()
    assert load_playbook(path).steps, "a caller's change leaked into the next caller's playbook"
    template = sorted((root / "templates" / first.id).glob("*.zh-CN.j2"))[0]
    template.write_text(template.read_text(encoding="utf-8") + "{{ no_such_variable }}", encoding="utf-8")
    with pytest.raises(PlaybookError, match="no_such_variable"):
        load_playbook(path)
    path.write_text(path.read_text(encoding="utf-8").replace("version: ", "version: 9", 1), encoding="utf-8")
    with pytest.raises(PlaybookError):
        load_playbook(path)  # the file changed too: read again (a version of 9<n> is still wrong with that template)
    template.write_text(template.read_text(encoding="utf-8").replace("{{ no_such_variable }}", ""), encoding="utf-8")
    assert load_playbook(path).version == int(f"9{first.version}")
