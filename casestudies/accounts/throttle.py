"""Throttling of password guesses (sign-in and the current-password check), shared by every
worker process: the attempts are rows in the database, not memory of one process.

Limits follow OWASP's authentication guidance: the lock is on the account *and* the client
address together, with a delay that grows with each further failure, so a stranger
guessing from elsewhere can't lock the owner out; and each address has a ceiling on the
number of distinct accounts tried, against guessing one common password for many accounts.
Distinct accounts, not failures: behind NAT or an unconfigured proxy many people share an
address, and one person's forgotten password must not lock out the rest (SECURITY.md).

Each attempt is written and committed in its own short transaction *before* the password is
checked, then the attempts already recorded are counted. Whatever the order in which
parallel attempts commit, the k-th to commit sees at least k-1 others, so no more than the
limit are ever checked (a refused attempt's row is removed; a failed one's stays)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, insert, select

from casestudies.accounts.services import (
    AccountError,
    authenticate,
    change_own_password,
    check_current_password,
)
from casestudies.extensions import db
from casestudies.models import LoginAttempt, User, utcnow

FREE_FAILURES = 5  # per account and address, before delays start
FIRST_DELAY = timedelta(seconds=30)  # then doubled at each further failure...
LONGEST_DELAY = timedelta(minutes=15)  # ...up to this
PAIR_WINDOW = timedelta(hours=24)  # failures older than this are forgotten
ADDRESS_WINDOW = timedelta(minutes=15)
MAX_ACCOUNTS_PER_ADDRESS = 20  # distinct accounts with failures from one address in ADDRESS_WINDOW
WRONG_PASSWORD_MESSAGE = "Email address or password is not right"  # noqa: S105 - a message, not a password


def delay_after(failures: int) -> timedelta:
    """How long after the last failure another try is allowed, given the failures so far."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(LONGEST_DELAY, FIRST_DELAY * 2 ** (failures - FREE_FAILURES))


def blocked_message(wait: timedelta, *, signed_in: bool = False) -> str:
    """The refusal, pointing to a reset by email (the reset page itself tells accounts that
    sign in with their organisation to use its sign-in instead)."""
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    when = "1 minute" if minutes == 1 else f"{minutes} minutes"
    where = "on the sign-in page" if signed_in else "below"
    return (
        f"Too many failed attempts with this password. For your security, wait {when} and try again, "
        f"or choose “Forgot your password?” {where} to set a new one by email."
    )


@dataclass(frozen=True)
class Claim:
    attempt_id: int
    wait: timedelta | None  # None: the attempt may go ahead


def _key(email: str) -> str:
    return email.strip().lower()[:254]


def claim_attempt(email: str, address: str) -> Claim:
    """Record an attempt for (email, address) and decide whether its password may be checked.
    The row is committed on a connection of its own, so that parallel requests see it and
    a request that later fails still leaves it counted."""
    email, address, now = _key(email), address[:64], utcnow()
    with db.engine.begin() as connection:
        connection.execute(delete(LoginAttempt).where(LoginAttempt.created_at < now - PAIR_WINDOW))
        attempt_id = connection.execute(
            insert(LoginAttempt).values(email=email, address=address, created_at=now)
        ).inserted_primary_key[0]
    with db.engine.begin() as connection:
        others = LoginAttempt.id != attempt_id
        failures, last = connection.execute(
            select(func.count(), func.max(LoginAttempt.created_at)).where(
                others, LoginAttempt.email == email, LoginAttempt.address == address
            )
        ).one()
        accounts_tried = connection.scalar(
            select(func.count(func.distinct(LoginAttempt.email))).where(
                others, LoginAttempt.address == address, LoginAttempt.created_at >= now - ADDRESS_WINDOW
            )
        )
        wait: timedelta | None = None
        if (accounts_tried or 0) >= MAX_ACCOUNTS_PER_ADDRESS:
            wait = ADDRESS_WINDOW
        elif failures >= FREE_FAILURES and last is not None and now - last < delay_after(failures):
            wait = delay_after(failures) - (now - last)
        if wait is not None:
            # A refused attempt doesn't count: the delay runs from the last checked one.
            connection.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt_id))
    return Claim(attempt_id, wait)


def succeeded(email: str, address: str) -> None:
    """The password was right: forget this account's failures from this address (on a
    connection of its own too, whatever becomes of the request)."""
    with db.engine.begin() as connection:
        connection.execute(
            delete(LoginAttempt).where(LoginAttempt.email == _key(email), LoginAttempt.address == address[:64])
        )


@dataclass(frozen=True)
class SignIn:
    user: User | None
    problem: str | None = None
    blocked: bool = False


def attempt_sign_in(email: str, password: str, address: str) -> SignIn:
    """The user, or why not. A refused attempt gets the same answer whether the account
    exists or not, and whether it signs in with a password or single sign-on."""
    claim = claim_attempt(email, address)
    if claim.wait is not None:
        return SignIn(None, blocked_message(claim.wait), blocked=True)
    user = authenticate(email, password)
    if user is None:
        return SignIn(None, WRONG_PASSWORD_MESSAGE)
    succeeded(email, address)
    return SignIn(user)


class Throttled(AccountError):
    """Too many wrong passwords: refused without checking."""


def attempt_password_change(user: User, current: str, new: str, confirm: str, address: str) -> None:
    """change_own_password, with its current-password check throttled as sign-in is (the
    same counts: both guess the same password)."""
    claim = claim_attempt(user.email, address)
    if claim.wait is not None:
        raise Throttled(blocked_message(claim.wait, signed_in=True), field="current_password")
    check_current_password(user, current)  # a wrong one leaves the attempt counted
    succeeded(user.email, address)  # before the change writes anything (SQLite: one writer)
    change_own_password(user, current, new, confirm, current_checked=True)
