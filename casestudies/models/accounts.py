"""Accounts: users and roles, sign-in attempts (throttling), server-side sessions."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from casestudies.extensions import db
from casestudies.models.base import utcnow

if TYPE_CHECKING:
    from casestudies.models.cases import Case


def password_hash_method() -> str:
    """scrypt (memory-hard), unless the configuration names another (the test suite's)."""
    return current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"


class Role(enum.Enum):
    """Each role has the rights of the one before it."""

    LEARNER = "learner"
    FACILITATOR = "facilitator"
    CURATOR = "curator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    @property
    def label(self) -> str:
        return self.value.capitalize()

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank >= other.rank

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank < other.rank


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(
        db.Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # A new value at every password change. Every account has one (migration 0009 gave one
    # to accounts from before 0005); the session loader refuses an account without one.
    session_token: Mapped[str | None] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    # Set for an account an admin created with an initial password: every page leads to
    # the change-password page until its owner has chosen their own.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Single sign-on accounts: who the OpenID provider says this is. Such an account has no
    # local password (password_hash is empty).
    oidc_issuer: Mapped[str | None] = mapped_column(String(255))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (Index("ix_user_oidc_identity", "oidc_issuer", "oidc_subject", unique=True),)

    # Flask-Login's id for the session being signed in or loaded: "<session id>:<secret>"
    # (see casestudies/accounts/sessions.py). Not a column.
    session_key = None  # type: str | None

    @property
    def is_single_sign_on(self) -> bool:
        return self.oidc_subject is not None

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=password_hash_method())
        self.session_token = secrets.token_hex(16)

    def get_id(self) -> str:
        """Flask-Login's id kept in the session cookie: the server-side session's id and
        secret, so ending that session (sign-out, deactivation, an admin) ends the cookie."""
        if not self.session_key:
            raise RuntimeError("a user is signed in through casestudies.accounts.sessions.start_session")
        return self.session_key

    # UserMixin compares users by get_id(), which is now the session's key: compare the
    # accounts instead (one object per row in a database session anyway).
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, User):
            return NotImplemented
        return self is other or (self.id is not None and self.id == other.id)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = object.__hash__

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            return False  # a single sign-on account has no local password
        return check_password_hash(self.password_hash, password)

    def has_role(self, role: Role) -> bool:
        return self.role >= role

    # Permissions, used by the policy decorator and by templates to hide what the server refuses.
    def can_see_unpublished(self) -> bool:
        return self.has_role(Role.CURATOR)

    def can_see_facilitator_notes(self) -> bool:
        return self.has_role(Role.FACILITATOR)

    def can_view_case(self, case: Case) -> bool:
        if case.is_deleted:
            return False  # a case in the bin is reached through the bin page only
        return case.is_published or self.can_see_unpublished()

    def can_curate(self) -> bool:
        return self.has_role(Role.CURATOR)

    def can_manage_users(self) -> bool:
        return self.has_role(Role.ADMIN)

    def can_override_review(self) -> bool:
        """Publish a case despite the two-person rule, giving a reason."""
        return self.has_role(Role.ADMIN)

    def can_confirm_publication_on_import(self) -> bool:
        return self.has_role(Role.ADMIN)

    def can_report_problem(self, case: Case) -> bool:
        return self.can_view_case(case)

    def can_resolve_reports(self) -> bool:
        return self.has_role(Role.CURATOR)


class LoginAttempt(db.Model):
    """A failed sign-in, for throttling (see throttle.py)."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class UserSession(db.Model):
    """A signed-in session. The cookie carries the row's id and a secret whose hash is kept
    here, so the server can end a session: sign-out, deactivation, an admin, a password change."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    # How the session was opened: "password" or "single sign-on".
    method: Mapped[str] = mapped_column(String(20), default="password")

    user: Mapped[User] = relationship()
