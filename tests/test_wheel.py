"""The wheel the image installs carries every package, the playbooks and the migrations: installed into a
fresh virtualenv (third-party libraries borrowed from the test environment, groupdesk only from the wheel),
`groupdesk console` and the worker start and their health endpoints answer."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

from groupdesk.runtime.config import REPO_ROOT
from helpers import quiet_port, setup_for

pytestmark = pytest.mark.devserver


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("wheel")
    uv = [sys.executable, "-m", "uv"]  # as `make install` (constraints.txt pins it): ~3 CPU-s where pip took ~15
    subprocess.run([*uv, "build", "--wheel", "--quiet", "-o", str(root / "dist"), str(REPO_ROOT)], check=True,
                   timeout=300)
    wheel = next((root / "dist").glob("groupdesk-*.whl"))
    subprocess.run([*uv, "venv", "--quiet", "--python", sys.executable, str(root / "venv")], check=True, timeout=120)
    python = root / "venv" / "bin" / "python"
    subprocess.run([*uv, "pip", "install", "--quiet", "--no-deps", "--offline", "--python", str(python), str(wheel)],
                   check=True, timeout=300)
    # the dependencies, not groupdesk: a plain path entry, so the editable install's finder is not loaded
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return root


def healthy(url: str, process: subprocess.Popen, log: Path, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        assert process.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(url, timeout=3) as answer:
                return {"status": answer.status, "body": answer.read().decode()}
        except OSError:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)


def test_everything_is_imported_from_the_wheel(venv):
    found = subprocess.run(
        [str(venv / "venv" / "bin" / "python"), "-c",
         "import groupdesk.web.app, groupdesk.storage, workflows.group_incident, activities.sms, worker, playbooks;"
         "from groupdesk.runtime.config import Settings; from groupdesk.storage import migrate; s = Settings();"
         "print(groupdesk.__file__); print(worker.__file__); print(s.playbooks_dir); print(migrate.head())"],
        capture_output=True, text=True, cwd=venv, env={"PATH": "/usr/bin:/bin"})
    assert found.returncode == 0, found.stderr
    package, module, playbooks, head = found.stdout.split()
    assert all(p.startswith(str(venv / "venv")) for p in (package, module, playbooks))
    assert (Path(playbooks) / "smart-meter-group-complaint.yaml").exists() and head


def test_console_and_worker_start_from_the_wheel(venv, dev_env):
    bin_dir = venv / "venv" / "bin"
    web_port, health_port = quiet_port(), quiet_port()
    # production (both always are), with the wheel's own directory and playbooks: no path into this checkout
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(venv),
           **setup_for(venv / "data", dev_env, production=True, GROUPDESK_DIRECTORY=None, GROUPDESK_TASK_QUEUE="wheel",
                       GROUPDESK_HEALTH_PORT=health_port).env}
    logs = venv / "console.log", venv / "worker.log"
    console = subprocess.Popen([str(bin_dir / "groupdesk"), "console", "--port", str(web_port)], env=env, cwd=venv,
                               stdout=open(logs[0], "wb"), stderr=subprocess.STDOUT)
    worker = subprocess.Popen([str(bin_dir / "python"), "-m", "worker"], env=env, cwd=venv,
                              stdout=open(logs[1], "wb"), stderr=subprocess.STDOUT)
    try:
        assert healthy(f"http://127.0.0.1:{web_port}/healthz", console, logs[0])["status"] == 200
        assert healthy(f"http://127.0.0.1:{health_port}/healthz", worker, logs[1])["status"] == 200
        login = healthy(f"http://127.0.0.1:{web_port}/login", console, logs[0])  # templates and i18n shipped
        assert login["status"] == 200 and "groupdesk" in login["body"].lower()
        assert (venv / "data" / "groupdesk.sqlite3").exists()  # migrated at start
    finally:
        for process in (console, worker):
            process.terminate()
            process.wait(timeout=20)
