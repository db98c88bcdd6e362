"""Server-side sessions: each sign-in opens a user_session row; the cookie carries the row's
id and a secret whose SHA-256 is stored, so the server can end any session and a copied or
forged cookie is worth nothing once its row has ended."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, flash, session
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import joinedload

from casestudies.extensions import db
from casestudies.models import User, UserSession, utcnow

# last_seen_at is written at most this often per session: one small UPDATE a minute, not
# one per request.
LAST_SEEN_EVERY = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _idle_limit() -> timedelta:
    return timedelta(hours=float(current_app.config["SESSION_IDLE_HOURS"]))


def _absolute_limit() -> timedelta:
    return timedelta(days=float(current_app.config["SESSION_MAX_DAYS"]))


def prune_sessions() -> int:
    """Delete the rows of sessions that can't be used again: ended, idle too long, or past
    their absolute lifetime. (Sign-ins and sign-outs stay in the audit log.) Returns how many."""
    now = utcnow()
    result = db.session.execute(
        delete(UserSession).where(
            or_(
                UserSession.ended_at.is_not(None),
                UserSession.last_seen_at < now - _idle_limit(),
                UserSession.created_at < now - _absolute_limit(),
            )
        )
    )
    return int(result.rowcount)


def start_session(user: User, *, user_agent: str, address: str, method: str = "password") -> str:
    """Open a session for the user and return the id Flask-Login keeps in the cookie
    (also set as user.session_key, for login_user). Rows that can't be used again are
    deleted first, so the table stays the size of the live sessions."""
    prune_sessions()
    secret = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        token_hash=_hash(secret),
        user_agent=user_agent[:200],
        address=address[:64],
        method=method,
    )
    db.session.add(row)
    db.session.flush()
    user.session_key = f"{row.id}:{secret}"
    return user.session_key


def load_session_user(session_key: str) -> User | None:
    """Flask-Login's loader. The user of a live session: its row exists, has not ended, has
    not been idle too long nor open longer than SESSION_MAX_DAYS, the secret matches, and
    the account is active and has a session token (an empty one is refused)."""
    session_id, _, secret = str(session_key).partition(":")
    if not secret or not session_id.isdigit() or len(session_id) > 18:
        return None
    # One query for the session and its user: every signed-in request makes it.
    row = db.session.get(UserSession, int(session_id), options=[joinedload(UserSession.user)])
    if row is None or not secrets.compare_digest(row.token_hash, _hash(secret)):
        return None
    if row.ended_at is not None:
        return _signed_out("You were signed out elsewhere: on another device or browser, or by an administrator.")
    now = utcnow()
    if now - row.last_seen_at > _idle_limit():
        hours = f"{float(current_app.config['SESSION_IDLE_HOURS']):g}"
        return _signed_out(f"You were signed out after {hours} hours without using the case library.")
    if now - row.created_at > _absolute_limit():
        days = f"{float(current_app.config['SESSION_MAX_DAYS']):g}"
        return _signed_out(f"You were signed out: a sign-in lasts at most {days} days. Sign in again to go on.")
    user = row.user
    if not user.is_active or not user.session_token:
        return _signed_out("You were signed out because your account changed (its password or access).")
    if now - row.last_seen_at >= LAST_SEEN_EVERY:
        # Its own tiny transaction: the request holds no write lock from here on (SQLite),
        # and the request's outcome doesn't matter to it.
        with db.engine.begin() as connection:
            connection.execute(update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now))
    user.session_key = f"{row.id}:{secret}"
    return user


def _signed_out(reason: str) -> None:
    """Tell the reader, once, why their session no longer counts: the stale key leaves the
    cookie, so the next request does not say it again."""
    session.pop("_user_id", None)
    flash(reason)
    return None


def current_session_id(user: User) -> int | None:
    key = user.session_key or ""
    session_id = key.partition(":")[0]
    return int(session_id) if session_id.isdigit() else None


def end_session(session_id: int, user: User | None = None) -> bool:
    """End one session (of `user`, when given). Returns whether a live one was ended."""
    condition = [UserSession.id == session_id, UserSession.ended_at.is_(None)]
    if user is not None:
        condition.append(UserSession.user_id == user.id)
    result = db.session.execute(update(UserSession).where(*condition).values(ended_at=utcnow()))
    return bool(result.rowcount)


def end_all_sessions(user: User, *, except_id: int | None = None) -> int:
    """End every session of the user (but one, when given). Returns how many ended."""
    condition = [UserSession.user_id == user.id, UserSession.ended_at.is_(None)]
    if except_id is not None:
        condition.append(UserSession.id != except_id)
    result = db.session.execute(update(UserSession).where(*condition).values(ended_at=utcnow()))
    return int(result.rowcount)


def active_sessions(user: User) -> list[UserSession]:
    """The user's live sessions, most recently used first."""
    now = utcnow()
    return list(
        db.session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.ended_at.is_(None),
                UserSession.last_seen_at >= now - _idle_limit(),
                UserSession.created_at >= now - _absolute_limit(),
            )
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )
