"""Password rules: long enough, and not one that attackers try first."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

MIN_PASSWORD_LENGTH = 12
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text("utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str) -> str | None:
    """Why this password can't be used, or None if it can."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > 1024:
        return "Password must be 1,024 characters or fewer"
    if password.casefold() in common_passwords():
        return "That password is on a list of common passwords that attackers try first: choose another"
    return None
