"""Account services: creating users and checking sign-in."""

from __future__ import annotations

from sqlalchemy import func, select

from casestudies.accounts import sessions
from casestudies.accounts.passwords import MIN_PASSWORD_LENGTH, password_problem  # noqa: F401 - MIN_PASSWORD_LENGTH re-exported
from casestudies.audit import services as audit
from casestudies.errors import NotFound, Refused
from casestudies.extensions import db
from casestudies.models import Role, User, password_hash_method


class AccountError(Refused):
    """A rule refused the change; the message is for the user, `field` names the form field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def normalise_email(email: str) -> str:
    return email.strip().lower()


def validate_password(password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)


def create_user(
    email: str,
    *,
    role: Role,
    password: str,
    name: str | None = None,
    actor: User | None = None,
    must_change_password: bool | None = None,
) -> User:
    """Create an active account. `actor` is the admin who did it (None: the command line),
    for the audit log. An account an admin creates must change its initial password at
    first sign-in (unless told otherwise); one made at the command line need not."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError(f"'{email}' is not an email address", field="email")
    if db.session.scalar(select(User).where(func.lower(User.email) == email)) is not None:
        raise AccountError(f"A user with the email {email} already exists", field="email")
    try:
        validate_password(password)
    except AccountError as exc:
        raise AccountError(str(exc), field="password") from None
    user = User(email=email, name=(name or email.split("@")[0]).strip()[:120], role=role, is_active=True)
    user.set_password(password)
    user.must_change_password = actor is not None if must_change_password is None else must_change_password
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user-create", detail=f"Created the account {_label(user)} as {role.value}")
    return user


# Compared against when the email is unknown, so both failures cost the same time: one
# probe per hash method.
_DUMMY_USERS: dict[str, User] = {}


def authenticate(email: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))
    if user is None or not user.is_active:
        method = password_hash_method()
        if method not in _DUMMY_USERS:
            probe = User()
            probe.set_password("not-a-real-password")
            _DUMMY_USERS[method] = probe
        _DUMMY_USERS[method].check_password(password)
        return None
    return user if user.check_password(password) else None


def is_single_sign_on_account(email: str) -> bool:
    user = db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))
    return user is not None and user.is_active and user.is_single_sign_on


def load_user(session_key: str) -> User | None:
    """Flask-Login's loader, given User.get_id() as kept in the cookie: the user of a live
    server-side session (see sessions.py); anything else is treated as signed out."""
    return sessions.load_session_user(session_key)


# -- managing accounts (the admin's pages) and one's own password --------------------------
# Each function leaves the commit to its caller and records what it did in the audit log.
MAX_NAME_LENGTH = 120


def _label(user: User) -> str:
    return f"{user.name} <{user.email}>"


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(func.lower(User.name), User.email)))


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(user_id)
    return user


def _other_active_admins(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.is_active, User.id != user.id)
        )
        or 0
    )


def change_role(user: User, role: Role, actor: User) -> bool:
    """Give a user another role. An admin can't demote themselves, and the last active
    admin can't be demoted: there is always someone who can manage accounts. Returns
    whether anything changed."""
    if role == user.role:
        return False
    if user.role == Role.ADMIN:
        if user.id == actor.id:
            raise AccountError("You can't remove your own admin role: ask another admin to do it", field="role")
        if user.is_active and _other_active_admins(user) == 0:
            raise AccountError(f"{user.name} is the only active admin, so must stay an admin", field="role")
    before = user.role
    user.role = role
    audit.record(actor, "user-role", detail=f"{_label(user)}: {before.value} → {role.value}")
    return True


def set_active(user: User, active: bool, actor: User) -> bool:
    """Deactivate (their session ends on their next request) or reactivate a user. An
    admin can't deactivate themselves. Returns whether anything changed."""
    if user.is_active == active:
        return False
    if not active:
        if user.id == actor.id:
            raise AccountError("You can't deactivate your own account: ask another admin to do it")
        if user.role == Role.ADMIN and _other_active_admins(user) == 0:
            raise AccountError(f"{user.name} is the only active admin and can't be deactivated")
    user.is_active = active
    if not active:
        # Ended, not merely refused while inactive: reactivating doesn't revive them.
        sessions.end_all_sessions(user)
    audit.record(actor, "user-active", detail=f"{_label(user)}: {'reactivated' if active else 'deactivated'}")
    return True


def end_user_session(user: User, session_id: int, actor: User) -> bool:
    """An admin ends one of a user's sessions. Returns whether a live one was ended."""
    ended = sessions.end_session(session_id, user)
    if ended:
        audit.record(actor, "session-end", detail=f"{_label(user)}: ended session {session_id}")
    return ended


def end_user_sessions(user: User, actor: User) -> int:
    """An admin ends every session of a user. Returns how many ended."""
    count = sessions.end_all_sessions(user)
    audit.record(actor, "session-end", detail=f"{_label(user)}: ended all sessions ({count})")
    return count


def check_current_password(user: User, current: str) -> None:
    if user.is_single_sign_on:
        raise AccountError("Your account signs in with your organisation: it has no password here")
    if not user.check_password(current):
        raise AccountError("Your current password is not right", field="current_password")


def change_own_password(user: User, current: str, new: str, confirm: str, *, current_checked: bool = False) -> None:
    """Everyone's own password change: the current password is required, and the new one
    must follow the password rules and be typed twice the same. Every other session of the
    account ends. (Throttling of the current-password check: see throttle.py.)"""
    if not current_checked:
        check_current_password(user, current)
    try:
        validate_password(new)
    except AccountError as exc:
        raise AccountError(str(exc), field="new_password") from None
    if new != confirm:
        raise AccountError("The two new passwords are not the same", field="confirm_password")
    if new == current:
        raise AccountError("The new password must be different from the current one", field="new_password")
    user.set_password(new)
    user.must_change_password = False
    sessions.end_all_sessions(user, except_id=sessions.current_session_id(user))
    audit.record(user, "user-password", detail=f"{_label(user)} changed their own password")


# -- signing in and out, and their events in the audit log -----------------------------------------
def sign_in(user: User, *, user_agent: str, address: str, method: str = "password") -> str:
    """Open a server-side session for a user whose identity has been checked (password or
    single sign-on) and record it. Returns the session key for the cookie."""
    key = sessions.start_session(user, user_agent=user_agent, address=address, method=method)
    how = " with single sign-on" if method == "single sign-on" else ""
    audit.record(user, "sign-in", detail=f"{_label(user)} signed in{how} from {address or 'an unknown address'}")
    return key


def sign_out(user: User) -> None:
    """End the session the user is signed in with, and record it."""
    session_id = sessions.current_session_id(user)
    if session_id is not None:
        sessions.end_session(session_id, user)
    record_sign_out(user)


def record_failed_sign_in(email_as_typed: str, address: str, *, blocked: bool = False) -> None:
    """The email as typed (never the password), printable characters only, cut to length."""
    typed = "".join(ch for ch in email_as_typed if ch.isprintable())[:254]
    why = "refused by throttling" if blocked else "wrong email address or password"
    audit.record(
        None,
        "sign-in-failed",
        actor_label=f"not signed in: “{typed}”",
        detail=f"Failed sign-in as “{typed}” from {address or 'an unknown address'} ({why})",
    )


def record_sign_out(user: User) -> None:
    audit.record(user, "sign-out", detail=f"{_label(user)} signed out")
