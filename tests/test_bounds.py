"""The bounds on what people type: one set of rules, the same answer from every door."""

from __future__ import annotations

import pytest

from groupdesk.engine import visibility
from groupdesk.runtime.config import REPO_ROOT
from groupdesk.core import validation as v
from groupdesk.core.durations import parse_duration
from groupdesk.core.validation import InputError
from groupdesk.incidents.registration import start_problems
from groupdesk.playbooks.loader import PlaybookError, load_playbook
from workflows.machine.messages import used_by

GOOD = dict(hall="xicheng", headcount=20, lead_name="张建国", lead_phone="13800138000", summary="电量异常",
            drill=False, time_scale=None, started_by="sun.li")


@pytest.mark.parametrize("override,field,says", [
    ({"summary": "电" * 501}, "summary", "501 characters is too long; keep it within 500"),
    ({"lead_name": "张" * 65}, "lead_name", "within 64"),
    ({"lead_name": "张\n三"}, "lead_name", "on one line"),
    ({"headcount": 2 ** 40}, "headcount", "from 1 to 10,000"),
    ({"headcount": 0}, "headcount", "at least 1"),
    ({"headcount": 1, "playbook": load_playbook(REPO_ROOT / "playbooks" / "smart-meter-group-complaint.yaml")},
     "headcount", "outside playbook smart-meter-group-complaint's range of 2 to 10,000 people"),
    ({"lead_phone": "1" * 5000}, "lead_phone", "is not a phone number"),
    ({"hall": 'x"y'}, "hall", "unknown hall"),
    ({"started_by": "feng.tao"}, "started_by", "may not start an incident at hall xicheng: it is started by hall_lead"),
    ({"time_scale": float("nan"), "drill": True}, "time_scale", "out of range"),
    ({"summary": "a\x00b"}, "summary", "control character"),
])
def test_start_bounds_name_the_field(directory, override, field, says):
    problems = start_problems(directory, **{**GOOD, **override})
    assert field in problems and says in problems[field], problems
    assert all(len(message) < 300 for message in problems.values()), "a bad value is not echoed whole"


def test_the_largest_allowed_start_is_accepted(directory):
    assert start_problems(directory, **{**GOOD, "summary": "电" * 500, "lead_name": "张" * 64,
                                        "headcount": 10_000}) == {}


def test_the_cli_names_its_flag_and_a_technician_cannot_start(make_start):
    with pytest.raises(InputError) as info:
        make_start(summary="x" * 501)
    assert info.value.field == "--summary"
    with pytest.raises(InputError) as info:
        make_start(started_by="feng.tao")  # a metering technician: refused here as in the console
    assert info.value.field == "--as"
    with pytest.raises(InputError) as info:
        make_start(incident_id='../../x y"z')
    assert info.value.field == "--incident-id"


@pytest.mark.parametrize("value,ok", [("xicheng-20261123-ec61f3", True), ("ops-1a2b", True), ("ab", False),
                                      ("../../x", False), ('x"y', False), ("A" * 10, False), ("a" * 65, False)])
def test_incident_id_pattern(value, ok):
    assert (v.incident_id_problem(value) is None) is ok


def test_outcome_bounds():
    assert v.outcome_problems("talk_with_lead", "accepted", "n" * 2000, {"calibration_at": "x" * 200}) == {}
    problems = v.outcome_problems("talk with lead", "accepted", "n" * 2001, {f"k{i}": "v" for i in range(3)})
    assert set(problems) == {"step", "note"}
    assert "too many" in v.outcome_problems("s", "o", "", {f"k{i}": "v" for i in range(11)})["data"]
    assert "within 200" in v.outcome_problems("s", "o", "", {"k": "v" * 201})["data.k"]
    assert v.first({"data.k": "too long"}, cli=True) == "--data k: too long"


def test_visibility_values_are_checked_and_open_means_running():
    query = visibility.list_query(hall="xicheng", tier=3)
    assert 'ExecutionStatus = "Running"' in query and 'GroupdeskHall = "xicheng"' in query
    assert "ExecutionStatus" in visibility.list_query(status=None) and "Running" not in visibility.list_query(status=None)
    for bad in ['x"', "x' OR '1'='1", "a b", "x" * 200, "a\\"]:
        with pytest.raises(visibility.QueryValueError) as info:
            visibility.list_query(hall=bad)
        assert str(info.value).startswith("hall: ")
    with pytest.raises(visibility.QueryValueError):
        visibility.literal("", "code")


def test_durations_are_bounded():
    assert parse_duration("90d").seconds == 90 * 86400
    for bad in ("3000000d", "91d", "61wd", "9" * 5000 + "d"):
        with pytest.raises(ValueError) as info:
            parse_duration(bad)
        assert len(str(info.value)) < 200


def test_a_huge_deadline_is_one_line_naming_file_step_and_fix(tmp_path, playbook):
    path = _copy_mini(tmp_path, "deadline: 5m", "deadline: 3000000d")
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "step 'greet'" in message and "within 90d" in message
    assert "\n" not in message
    path = _copy_mini(tmp_path, "deadline: 5m", "deadline: {seconds: 99999999999}")
    with pytest.raises(PlaybookError, match=r"step 'greet', deadline: .* out of range"):
        load_playbook(path)


def test_non_utf8_and_non_yaml_files_give_one_line(tmp_path):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("id: 测试\n".encode("gbk"))
    with pytest.raises(PlaybookError) as info:
        load_playbook(bad)
    assert "not UTF-8" in str(info.value) and "\n" not in str(info.value)
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\n  steps: [\n", encoding="utf-8")
    with pytest.raises(PlaybookError) as info:
        load_playbook(broken)
    assert "not valid YAML at line" in str(info.value) and "\n" not in str(info.value)


def test_activity_inputs_carry_only_what_the_template_uses():
    context = {"summary": "电" * 500, "headcount": 20, "reason": "n" * 2000, "incident_id": "x"}
    assert used_by({"zh-CN": "{{ headcount }}人 {{incident_id}}", "en": "{{ headcount }} people"}, context) == \
        {"headcount": 20, "incident_id": "x"}
    assert set(used_by({"zh-CN": "事由:{{ summary }}"}, context)) == {"summary"}


def _copy_mini(tmp_path, old: str, new: str):
    import shutil
    from pathlib import Path

    corpus = Path(__file__).parent / "bad_playbooks"
    shutil.copytree(corpus / "templates", tmp_path / "templates", dirs_exist_ok=True)
    path = tmp_path / "mini.yaml"
    text = (corpus / "_valid_mini.yaml").read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize("text,one_line,says", [
    ("客户\u202e同意", False, "U+202E RIGHT-TO-LEFT OVERRIDE, which reorders"),
    ("a\u2066b\u2069", False, "U+2066 LEFT-TO-RIGHT ISOLATE"),
    ("a\u200fb", False, "U+200F RIGHT-TO-LEFT MARK"),
    ("已\u200b引导", False, "U+200B ZERO WIDTH SPACE, which shows as nothing"),
    ("\ufeff回电", False, "U+FEFF"),
    ("a\u0085b", True, "line break"),
    ("a\u009b2Jb", False, "control character (U+009B)"),
    ("a\x1bb", False, "control character (U+001B)"),
    ("a\ud800", False, "lone surrogate"),
    ("第一行\n第二行", True, "on one line"),
    ("a\tb", True, "on one line"),
    ("a\u2028b", False, "U+2028 line break"),
])
def test_the_one_text_rule_names_what_is_hidden(text, one_line, says):
    """The rule every free-text field follows (names, notes, summaries, reasons, the directory, the calendar)."""
    problem = v.text_problem(text, 500, one_line=one_line)
    assert problem and says in problem, problem


@pytest.mark.parametrize("text", ["第一行\n第二行\t缩进", "第一行\r\n第二行", "全角\u3000空格", "Zoë", "e\u0301",
                                  "😀", "生僻字\ue000"])
def test_plain_text_passes_and_is_kept_as_nfc(text):
    assert v.text_problem(text, 500) is None
    kept = v.normal_text(text)
    assert "\r" not in kept and kept == __import__("unicodedata").normalize("NFC", kept)
    assert v.normal_text("e\u0301") == "é" and len(v.normal_text("e\u0301")) == 1


def test_the_length_bound_counts_what_is_kept():
    assert v.text_problem("e\u0301" * 64, 64, one_line=True) is None  # 64 letters, 128 code points as typed
    assert "too long" in v.text_problem("é" * 65, 64, one_line=True)


def test_requests_reach_the_workflow_as_kept():
    from groupdesk.core.models import AddNote, RecordOutcome

    sent = v.normal_fields(RecordOutcome(step="s", outcome="o", actor="a", note="Zoe\u0301\r\n!",
                                         data={"room": "e\u0301"}))
    assert sent.note == "Zo\u00e9\n!" and sent.data == {"room": "\u00e9"}
    assert v.normal_fields(AddNote(actor="a", text="plain")).text == "plain"
