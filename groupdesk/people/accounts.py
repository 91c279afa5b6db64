"""Sign-in accounts for staff in the directory: argon2id hashes, never passwords."""

from __future__ import annotations

from pathlib import Path

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def load_accounts(path: Path) -> dict[str, str]:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return dict(raw.get("accounts") or {})


def check_password(accounts: dict[str, str], person_id: str, password: str) -> bool:
    stored = accounts.get(person_id)
    if not stored:
        _hasher.hash(password)  # the same work either way: timing does not tell who has an account
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_password(password: str) -> str:
    return _hasher.hash(password)
