"""Account services: creating users and checking sign-in."""

from __future__ import annotations

from sqlalchemy import func, select

from .extensions import db
from .models import Role, User

MIN_PASSWORD_LENGTH = 12


class AccountError(ValueError):
    pass


def normalise_email(email: str) -> str:
    return email.strip().lower()


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Password must be at least {MIN_PASSWORD_LENGTH} characters")


def create_user(email: str, *, role: Role, password: str, name: str | None = None) -> User:
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError(f"'{email}' is not an email address")
    if db.session.scalar(select(User).where(func.lower(User.email) == email)) is not None:
        raise AccountError(f"A user with the email {email} already exists")
    validate_password(password)
    user = User(email=email, name=(name or email.split("@")[0]).strip()[:120], role=role, is_active=True)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


# Compared against when the email is unknown, so both failures cost the same time.
_DUMMY_HASH = None


def authenticate(email: str, password: str) -> User | None:
    global _DUMMY_HASH
    user = db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))
    if user is None or not user.is_active:
        if _DUMMY_HASH is None:
            probe = User()
            probe.set_password("not-a-real-password")
            _DUMMY_HASH = probe
        _DUMMY_HASH.check_password(password)
        return None
    return user if user.check_password(password) else None


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: a deactivated user is treated as signed out on the next request."""
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.is_active else None
