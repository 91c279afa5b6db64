"""A throwaway PostgreSQL cluster for the tests: initdb as the postgres user, a free port, a password role.

Root cannot run the server, so as root every command runs through `runuser -u postgres --`.
Missing binaries are a loud failure (`make test` installs Debian's postgresql), never a skip.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

USER, PASSWORD = "groupdesk", "groupdesk-test-password"


class PostgresMissing(RuntimeError):
    pass


def bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    if shutil.which("initdb") and shutil.which("pg_ctl"):
        return Path(shutil.which("initdb")).parent
    raise PostgresMissing("PostgreSQL's server binaries (initdb, pg_ctl) are not installed: run `make test`, "
                          "which installs Debian's postgresql (apt-get install -y postgresql)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """initdb + pg_ctl start on 127.0.0.1:<free port>; `url(db)` for SQLAlchemy, `create_database()` per test."""

    def __init__(self):
        self.bin = bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="groupdesk-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        self._template: str | None = None

    def _run(self, *args: str) -> None:
        command = (["runuser", "-u", "postgres", "--"] if self.as_postgres else []) + list(args)
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> "Cluster":
        password_file = self.root / "pw"
        password_file.write_text(PASSWORD)
        if self.as_postgres:
            shutil.chown(self.root, "postgres")
            shutil.chown(password_file, "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, "--pwfile", str(password_file),
                  "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8")
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
                   " -c synchronous_commit=off -c full_page_writes=off -c max_connections=300")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                  "-w", "-t", "60", "start")
        return self

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def create_database(self, migrated: bool = False) -> str:
        """A fresh database, empty or (`migrated`) a copy of one at the schema's head; its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        template = f' TEMPLATE "{self._migrated()}"' if migrated else ""
        with psycopg.connect(host="127.0.0.1", port=self.port, user=USER, password=PASSWORD, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{template} STRATEGY FILE_COPY')
        return self.url(name)

    def _migrated(self) -> str:
        """A database this cluster migrated once, to copy (none may be connected to it while it is copied)."""
        if self._template is None:
            from groupdesk.storage import Database

            url = self.create_database()
            Database(url).dispose()
            self._template = url.rsplit("/", 1)[1]
        return self._template
