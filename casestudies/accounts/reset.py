"""Password reset by email: "Forgot your password?" on the sign-in page, and a link an
admin sends from a user's page.

The link carries a token signed with SECRET_KEY (itsdangerous, its own salt) holding the
account's id and a fingerprint of what a reset changes: the password hash, the session
token (renewed at every password change) and the email address. It is valid for 30
minutes, and single-use: setting the password changes the fingerprint, so the link (and
any other link sent before it) stops working; so does a password change, an address
change or deactivation meanwhile. Nothing is stored for a link.

Asking for a link answers the same, and does the same work (a token signed, the message
rendered), whether or not the address has an account: only a real account's message is
queued. Requests are throttled as sign-ins are (throttle.py), on their own key per address
typed, sharing the per-client ceiling on distinct accounts tried."""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import delete, func, select

from casestudies.accounts import sessions
from casestudies.accounts.passwords import password_problem
from casestudies.accounts.services import AccountError, normalise_email
from casestudies.accounts.throttle import claim_attempt
from casestudies.audit import services as audit
from casestudies.errors import Refused
from casestudies.extensions import db
from casestudies.mail import absolute_url, queue_mail, render_mail
from casestudies.models import LoginAttempt, User

LINK_VALID = timedelta(minutes=30)
SALT = "every-seat password reset"
THROTTLE_PREFIX = "reset:"  # a reset request's key in login_attempt, apart from sign-ins
MAIL_KIND = "password-reset"
SUBJECT = "Reset your Every Seat password"
SSO_SUBJECT = "Signing in to Every Seat"
# Tried while the link can still be used: waits of 30 s, 1, 2, 4, 8, 16 minutes (with the
# default JOB_RETRY_BASE_SECONDS) make about 31 minutes. A later link would be dead on arrival.
MAIL_ATTEMPTS = 7

_clock = time.time  # the tokens' clock (a test moves it on)


class _Signer(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(_clock())


class ResetLinkInvalid(Refused):
    """The link is wrong, has expired, or was already used."""

    def __init__(self) -> None:
        super().__init__(
            "This link to reset your password has expired or has already been used. Ask for a new one.", status=400
        )


class ResetThrottled(Refused):
    def __init__(self, wait: timedelta) -> None:
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        when = "1 minute" if minutes == 1 else f"{minutes} minutes"
        super().__init__(f"Too many requests for a reset link. Wait {when} and try again.", status=429)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT, signer=_Signer)


def _fingerprint(user: User) -> str:
    """Changes when the password, the session token, the address or the active flag does."""
    state = "\x00".join((user.password_hash or "", user.session_token or "", user.email, str(bool(user.is_active))))
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(key, state.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def make_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user)})


def _nobody() -> User:
    """A stand-in for an unknown address (never added to the database), so its request
    signs and renders as a real one does."""
    return User(id=0, email="nobody@example.invalid", name="nobody", password_hash="", session_token="0" * 32)


@dataclass(frozen=True)
class Requested:
    """What a request for a link did (the page shows the same whatever it was)."""

    queued: bool


def _reset_mail(user: User, *, by_admin: bool) -> tuple[str, str, str | None]:
    if user.is_single_sign_on:
        rendered = render_mail("password_sso", subject=SSO_SUBJECT, user=user, sign_in_url=absolute_url("auth.login"))
        return SSO_SUBJECT, rendered.text, rendered.html
    link = absolute_url("auth.reset_link", token=make_token(user))
    minutes = int(LINK_VALID.total_seconds() // 60)
    rendered = render_mail("password_reset", subject=SUBJECT, user=user, link=link, minutes=minutes, by_admin=by_admin)
    return SUBJECT, rendered.text, rendered.html


def _account(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def request_reset(email: str, address: str) -> Requested:
    """Someone asks for a reset link for `email`. An active account with a password gets
    the link; an active single sign-on account gets a message saying to sign in with its
    organisation; an unknown or deactivated address gets nothing. Throttled (ResetThrottled)."""
    email = normalise_email(email)[:254]
    claim = claim_attempt(THROTTLE_PREFIX + email, address)
    if claim.wait is not None:
        raise ResetThrottled(claim.wait)
    user = _account(email)
    real = user is not None and user.is_active
    subject, text, html = _reset_mail(user if real else _nobody(), by_admin=False)
    where = address or "an unknown address"
    if not real:
        audit.record_repeated(
            "password-reset",
            f"unknown|{address}",
            actor_label=f"not signed in: {where}",
            detail=f"A reset link was asked for an address with no active account (the first: “{email}”) from {where}",
        )
        return Requested(queued=False)
    queue_mail(to=user.email, subject=subject, text=text, html=html, kind=MAIL_KIND, max_attempts=MAIL_ATTEMPTS)
    what = "a message to sign in with their organisation" if user.is_single_sign_on else "a reset link"
    audit.record(
        None, "password-reset", actor_label=f"not signed in: {where}", detail=f"{_label(user)}: {what} sent on request"
    )
    return Requested(queued=True)


def send_reset_link(user: User, actor: User) -> None:
    """An admin sends a user a reset link (the user sets the password; the admin never
    knows it)."""
    if user.is_single_sign_on:
        raise AccountError(f"{user.name} signs in with their organisation account: there is no password to reset")
    if not user.is_active:
        raise AccountError(f"{user.name} is deactivated: reactivate the account before sending a reset link")
    subject, text, html = _reset_mail(user, by_admin=True)
    queue_mail(to=user.email, subject=subject, text=text, html=html, kind=MAIL_KIND, max_attempts=MAIL_ATTEMPTS)
    audit.record(actor, "password-reset", detail=f"{_label(user)}: sent a reset link")


def user_for_token(token: str) -> User:
    """The account a valid, unused, unexpired link is for; else ResetLinkInvalid."""
    if not token or len(token) > 400:
        raise ResetLinkInvalid()
    try:
        data = _serializer().loads(token, max_age=int(LINK_VALID.total_seconds()))
    except (SignatureExpired, BadSignature):
        raise ResetLinkInvalid() from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("f"), str):
        raise ResetLinkInvalid()
    user = db.session.get(User, data["u"])
    if user is None or not user.is_active or user.is_single_sign_on:
        raise ResetLinkInvalid()
    if not hmac.compare_digest(data["f"], _fingerprint(user)):
        raise ResetLinkInvalid()
    return user


class PasswordRefused(AccountError):
    """The new password breaks a rule (the link stays valid: the form is shown again)."""


def reset_password(token: str, new: str, confirm: str) -> User:
    """Set a new password through a link: the password rules apply, every session of the
    account ends, its sign-in failures are forgotten, and the link is used up."""
    user = user_for_token(token)
    problem = password_problem(new)
    if problem:
        raise PasswordRefused(problem, field="new_password")
    if new != confirm:
        raise PasswordRefused("The two new passwords are not the same", field="confirm_password")
    user.set_password(new)  # a new hash and session token: this link, and every other, is used up
    user.must_change_password = False
    ended = sessions.end_all_sessions(user)
    # The owner proved they hold the mailbox: earlier wrong guesses no longer delay them.
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.email.in_((user.email, THROTTLE_PREFIX + user.email))))
    audit.record(
        user,
        "user-password",
        detail=f"{_label(user)} set a new password with an emailed link; {ended} other session(s) ended",
    )
    return user


def _label(user: User) -> str:
    return f"{user.name} <{user.email}>"
