"""The tiny mass event (bench/mass_event.py --smoke) inside the suite: 6 drill incidents at once against their
own dev server, groupdesk beside the bare baseline; it fails if any SMS is stored twice or lost."""

from __future__ import annotations

import subprocess
import sys

import pytest

from groupdesk.runtime.config import REPO_ROOT

pytestmark = pytest.mark.devserver


def test_a_small_mass_event_stores_every_sms_once():
    done = subprocess.run([sys.executable, "bench/mass_event.py", "--smoke"], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "duplicates 0, lost 0" in done.stdout, done.stdout[-2000:]
