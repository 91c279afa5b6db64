"""Files in the data dir hold phones, SMS text and keys: the dir is 0700, every file 0600."""

from __future__ import annotations

import os
from pathlib import Path

SQLITE_SIDECARS = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """Create the directory (and its parents) readable by this user only; tighten one we own."""
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Create the file 0600 before anyone writes it (SQLite's -wal/-shm inherit its mode); tighten old ones."""
    path = Path(path)
    private_dir(path.parent)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600))
    return tighten(path)


def tighten(path: Path) -> Path:
    """Make an existing file (and its SQLite -wal/-shm/-journal) 0600; create nothing."""
    path = Path(path)
    for file in (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_SIDECARS)):
        _tighten(file, 0o600)
    return path


def write_private(path: Path, text: str) -> None:
    """Write a secret so that it is never readable by others, not even for a moment."""
    private_file(path)
    Path(path).write_text(text, encoding="utf-8")


def _tighten(path: Path, mode: int) -> None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    # Only our own files: a shared volume's mount point belongs to someone else and stays as it is.
    if info.st_uid == os.getuid() and info.st_mode & 0o777 != mode:
        path.chmod(mode)
