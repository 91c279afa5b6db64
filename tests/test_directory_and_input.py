from __future__ import annotations

import os
from pathlib import Path

import pytest

from groupdesk.people.directory import DirectoryError, current_directory, load_directory
from groupdesk.core.validation import InputError


def test_example_directory_has_two_halls_with_every_role(directory):
    from groupdesk.core.roles import ROLE_IDS

    assert len(directory.halls) >= 2
    for hall in directory.halls:
        for role in ROLE_IDS:
            assert directory.staff(hall.id, role), f"{hall.id} has nobody as {role}"
    assert all(p.mobile.startswith("+861") for p in directory.people)  # E.164


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "directory.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_invalid_phone_names_the_person(tmp_path):
    path = write(tmp_path, """
people:
  - {id: li.si, name: 李四, mobile: "12345"}
halls:
  - {id: h1, name: 一厅, centre: c, roles: {guide: [li.si]}}
""")
    with pytest.raises(DirectoryError, match=r"person 'li.si' \(李四\): mobile '12345' is not a valid phone number"):
        load_directory(path)


ONE_PERSON = """
people:
  - {{id: li.si, name: 李四, mobile: "{mobile}"}}
halls:
  - {{id: h1, name: 一厅, centre: c, roles: {{guide: [li.si]}}}}
"""


def test_the_next_send_reads_a_corrected_number_even_when_the_file_is_swapped(tmp_path):
    """The worker reads the directory at every send: an edit in place and a file renamed over it
    (how a ConfigMap or an editor's save replaces it) are both seen, without a restart."""
    path = write(tmp_path, ONE_PERSON.format(mobile="13800000001"))
    assert current_directory(path).person("li.si").mobile == "+8613800000001"
    assert current_directory(path) is current_directory(path)  # unchanged: not parsed again
    replacement = tmp_path / "new.yaml"
    replacement.write_text(ONE_PERSON.format(mobile="13800000002"), encoding="utf-8")
    stat = path.stat()
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size and mtime: only the inode tells
    os.replace(replacement, path)
    assert current_directory(path).person("li.si").mobile == "+8613800000002"


def test_a_missing_directory_is_one_line_wherever_it_is_read(tmp_path):
    """The console and the worker read it through the cache: a file gone is named as the loader names it."""
    for read in (load_directory, current_directory):
        with pytest.raises(DirectoryError, match="staff directory not found; set GROUPDESK_DIRECTORY"):
            read(tmp_path / "gone.yaml")


def test_unknown_person_and_role_are_named(tmp_path):
    with pytest.raises(DirectoryError, match="no person with id 'ghost'"):
        load_directory(write(tmp_path, """
people: [{id: a, name: A, mobile: "13900000001"}]
halls: [{id: h1, name: 一厅, centre: c, roles: {guide: [ghost]}}]
"""))
    with pytest.raises(DirectoryError, match="unknown role 'cleaner'"):
        load_directory(write(tmp_path, """
people: [{id: a, name: A, mobile: "13900000001"}]
halls: [{id: h1, name: 一厅, centre: c, roles: {cleaner: [a]}}]
"""))


@pytest.mark.parametrize("override,field", [
    ({"hall_id": "nowhere"}, "--hall"),
    ({"headcount": 1}, "--headcount"),
    ({"lead_phone": "12"}, "--lead-phone"),
    ({"lead_name": " "}, "--lead-name"),
    ({"summary": ""}, "--summary"),
    ({"time_scale": 60.0}, "--time-scale"),
    ({"started_by": "zhou.jie"}, "--as"),  # staff of another hall
])
def test_bad_start_input_names_the_field(make_start, override, field):
    with pytest.raises(InputError) as info:
        make_start(**override)
    assert info.value.field == field


def test_start_input_is_normalised(make_start):
    request = make_start(lead_phone="138 0013 8000", drill=True, time_scale=60.0)
    assert request.lead.phone == "+8613800138000"
    assert request.time_scale == 60.0 and request.drill
    assert {s.id for s in request.roster["metering_technician"]} == {"feng.tao", "chen.yu"}
