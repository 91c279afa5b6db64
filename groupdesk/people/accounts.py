"""Sign-in accounts for staff in the directory: argon2id hashes, never passwords."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Every password this project ships in a file anyone can read (the README, examples/accounts.yaml, the
# dev banner): an account with one of these is nobody's secret, so production refuses it.
EXAMPLE_PASSWORDS = ("groupdesk-demo",)


def load_accounts(path: Path) -> dict[str, str]:
    """`accounts: {staff_id: argon2 hash}` from a YAML file; ValueError naming the file and the fix."""
    from groupdesk.playbooks.textfiles import parse_yaml, read_text

    path = Path(path)
    text = read_text(path, limit=1024 * 1024, error=ValueError, too_large="keep an accounts file within",
                     missing="no such accounts file; point GROUPDESK_ACCOUNTS at one")
    raw = parse_yaml(path, text, error=ValueError) or {}
    accounts = raw.get("accounts") if isinstance(raw, dict) else None
    if not isinstance(accounts, dict):
        raise ValueError(f"{path}: an accounts file is a YAML mapping `accounts: {{staff_id: argon2 hash}}`")
    return {str(person): str(stored) for person, stored in accounts.items()}


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


def is_example_password(password: str) -> bool:
    return password in EXAMPLE_PASSWORDS


def with_example_passwords(accounts: dict[str, str]) -> list[str]:
    """The accounts whose hash opens with a shipped example password (production refuses them), in file order.

    One argon2 check per account and example password, a few at once (the hashing releases the GIL)."""
    def shipped(item: tuple[str, str]) -> bool:
        return any(check_password({item[0]: item[1]}, item[0], password) for password in EXAMPLE_PASSWORDS)

    with ThreadPoolExecutor(max_workers=4) as pool:
        flags = list(pool.map(shipped, accounts.items()))
    return [person for person, flagged in zip(accounts, flags) if flagged]
