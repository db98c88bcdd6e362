"""Sign-in throttling, per account and per client address, shared by every worker process
(the attempts are rows in the database, not memory of one process)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select

from casestudies.accounts.services import authenticate
from casestudies.extensions import db
from casestudies.models import LoginAttempt, User, utcnow

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
BLOCKED_MESSAGE = (
    "Too many failed attempts to sign in. For your security, wait 15 minutes and try again, "
    "or ask an administrator to reset your password."
)


def _failures(column, value: str) -> int:  # type: ignore[no-untyped-def]
    since = utcnow() - WINDOW
    return (
        db.session.scalar(
            select(func.count()).select_from(LoginAttempt).where(column == value, LoginAttempt.created_at >= since)
        )
        or 0
    )


def is_blocked(email: str, address: str) -> bool:
    """Whether sign-in is refused for now, whatever the password. The same answer for a
    known and an unknown email, so the refusal reveals nothing about accounts."""
    return (
        _failures(LoginAttempt.email, email.strip().lower()) >= MAX_FAILURES_PER_ACCOUNT
        or _failures(LoginAttempt.address, address) >= MAX_FAILURES_PER_ADDRESS
    )


def record_failure(email: str, address: str) -> None:
    db.session.add(LoginAttempt(email=email.strip().lower()[:254], address=address[:64]))
    # Old rows are of no use: keep the table small.
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < utcnow() - WINDOW * 4))


def clear_failures(email: str) -> None:
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == email.strip().lower()))


def attempt_sign_in(email: str, password: str, address: str) -> tuple[User | None, str | None]:
    """(user, None) on success; (None, message) otherwise. A blocked account or address is
    refused before the password is checked, with the same message whether or not the
    account exists."""
    if is_blocked(email, address):
        return None, BLOCKED_MESSAGE
    user = authenticate(email, password)
    if user is None:
        record_failure(email, address)
        return None, "Email address or password is not right"
    clear_failures(email)
    return user, None
