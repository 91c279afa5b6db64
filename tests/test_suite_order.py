"""The suite's longest files are named in tests/conftest.py so that `make test` starts them first: each name is a file."""

from __future__ import annotations

from pathlib import Path

from conftest import LONGEST_FIRST


def test_every_file_started_first_exists():
    here = Path(__file__).parent
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
    assert [name for name in LONGEST_FIRST if not (here / name).is_file()] == [], "renamed? update LONGEST_FIRST"
