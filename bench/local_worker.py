"""The groupdesk worker as `groupdesk dev` runs it, for benchmarks on this machine: no production keys and no
payload encryption (the bare baseline it is compared with has none either). worker.py is production only."""

from __future__ import annotations

import sys
from pathlib import Path

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from groupdesk.runtime.logs import configure_logging  # noqa: E402
from groupdesk.startup import settings_or_exit  # noqa: E402
from worker import run_worker  # noqa: E402

if __name__ == "__main__":
    settings = settings_or_exit("dev")  # the checks `groupdesk dev` makes: settings that parse, a directory that loads
    configure_logging(settings.log_format)
    try:
        uvloop.run(run_worker(settings))  # as worker.py and `groupdesk dev` run it
    except KeyboardInterrupt:
        pass
