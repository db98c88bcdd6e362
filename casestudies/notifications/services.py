"""Notifications: writing them (in the caller's transaction, so a change rolled back tells
nobody), the person's list and unread count, and their choices per kind.

Every event in events.py and due.py ends in `notify`: it skips people who chose "off" and
people whose role the kind is not for, writes one row per person, and for "email" queues
the mail as a job in the same transaction (email.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import delete, func, or_, select, update

from casestudies.database import insert_on_conflict
from casestudies.errors import NotFound, Refused
from casestudies.extensions import db
from casestudies.mail import app_path
from casestudies.models import Collection, DigestTopic, Notification, NotificationPreference, Role, User, utcnow
from casestudies.notifications import email
from casestudies.notifications.kinds import CHANNELS, EMAIL, KINDS, OFF, Kind, kinds_for
from casestudies.paging import paginate

PER_PAGE = 20
MAX_TOPICS = 30  # seats and themes one digest follows


def path_for(endpoint: str, **values: Any) -> str:
    """A path in the app, also from the command line (no request there)."""
    return app_path(endpoint, **values)


def curators(*, excluding: Iterable[int | None] = ()) -> list[User]:
    """Active curators and admins, but not those named."""
    skip = {user_id for user_id in excluding if user_id is not None}
    rows = db.session.scalars(
        select(User).where(User.is_active, User.role.in_([Role.CURATOR, Role.ADMIN])).order_by(User.id)
    )
    return [user for user in rows if user.id not in skip]


def channels(users: list[User], kind: str) -> dict[int, str]:
    """Each person's choice for the kind (one query), defaults filled in."""
    chosen = dict(
        db.session.execute(
            select(NotificationPreference.user_id, NotificationPreference.channel).where(
                NotificationPreference.kind == kind, NotificationPreference.user_id.in_([u.id for u in users])
            )
        ).all()
    )
    return {user.id: chosen.get(user.id, KINDS[kind].default) for user in users}


def notify(
    recipients: Iterable[User | None], kind: str, *, title: str, body: str, link: str, key: str | None = None
) -> list[Notification]:
    """Tell each recipient, as they chose for this kind. With a key, a person already told
    under it is not told again (the daily command's runs, and two servers running it)."""
    spec = KINDS[kind]
    people: dict[int, User] = {}
    for user in recipients:
        if user is not None and user.is_active and user.role >= spec.audience:
            people.setdefault(user.id, user)
    if not people:
        return []
    chosen = channels(list(people.values()), kind)
    written = []
    for user in people.values():
        channel = chosen[user.id]
        if channel == OFF:
            continue
        note: Notification | None = Notification(
            user_id=user.id, kind=kind, title=title[:300], body=body, link=link[:500], key=key
        )
        if key is None:
            db.session.add(note)
        else:
            note = _add_once(note)
            if note is None:
                continue
        written.append(note)
        if channel == EMAIL:
            email.send(user, note)
    db.session.flush()
    return written


NOTIFICATION_COLUMNS = ("user_id", "kind", "title", "body", "link", "key", "created_at")


def _add_once(note: Notification) -> Notification | None:
    """Write a keyed notification unless its person already has one with that key (another
    run, or another server's run at the same moment): one INSERT ... ON CONFLICT DO NOTHING,
    no savepoint (pysqlite's would commit when it opened the transaction)."""
    new_id = db.session.scalar(
        insert_on_conflict(Notification, NOTIFICATION_COLUMNS, ("user_id", "key"), returning="id"),
        {name: getattr(note, name) for name in NOTIFICATION_COLUMNS[:-1]} | {"created_at": utcnow()},
    )
    return db.session.get(Notification, new_id) if new_id is not None else None


# -- a person's notifications ----------------------------------------------------------------


def unread_count(user: User) -> int:
    return (
        db.session.scalar(select(func.count()).where(Notification.user_id == user.id, Notification.read_at.is_(None)))
        or 0
    )


def page_for(user: User, page: int) -> Pagination:
    query = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc())
    return paginate(query, page, PER_PAGE)


def get_own(user: User, notification_id: int) -> Notification:
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != user.id:
        raise NotFound(notification_id)  # someone else's is as if it did not exist
    return note


def mark_read(user: User, notification_id: int) -> Notification:
    note = get_own(user, notification_id)
    if note.read_at is None:
        note.read_at = utcnow()
        db.session.flush()
    return note


def mark_all_read(user: User) -> int:
    done = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.flush()
    return done


# -- choices ---------------------------------------------------------------------------------


def preferences(user: User) -> list[tuple[Kind, str]]:
    """The kinds the person may get, with what each is set to."""
    kinds = kinds_for(user.role)
    chosen = dict(
        db.session.execute(
            select(NotificationPreference.kind, NotificationPreference.channel).where(
                NotificationPreference.user_id == user.id
            )
        ).all()
    )
    return [(kind, chosen.get(kind.key, kind.default)) for kind in kinds]


class PreferenceError(Refused):
    """A choice that is not on the form."""


def channel_of(user: User, kind: str) -> str:
    return channels([user], kind)[user.id]


def set_channel(user: User, kind: str, channel: str, *, check_role: bool = True) -> None:
    """Set one kind's channel. check_role=False: the unsubscribe link, for a kind the person
    was mailed under a role they may no longer hold."""
    allowed = {k.key for k in kinds_for(user.role)} if check_role else set(KINDS)
    if kind not in allowed or channel not in CHANNELS:
        raise PreferenceError("Choose how to be told about each kind of notification from the list", status=400)
    row = db.session.get(NotificationPreference, (user.id, kind))
    if row is None:
        db.session.add(NotificationPreference(user_id=user.id, kind=kind, channel=channel))
    else:
        row.channel = channel
    db.session.flush()


def save_preferences(user: User, choices: dict[str, str], seats: list[str], theme_ids: list[int]) -> None:
    """Every kind's channel, and the digest's seats and themes, from the preferences form."""
    for kind, _ in preferences(user):
        if kind.key in choices:
            set_channel(user, kind.key, choices[kind.key])
    set_digest_topics(user, seats, theme_ids)


def digest_topics(user: User) -> tuple[list[str], list[int]]:
    rows = db.session.scalars(select(DigestTopic).where(DigestTopic.user_id == user.id)).all()
    return sorted(r.seat for r in rows if r.seat), sorted(r.collection_id for r in rows if r.collection_id)


def set_digest_topics(user: User, seats: list[str], theme_ids: list[int]) -> None:
    from casestudies.notifications.digest import seat_choices

    known_seats = set(seat_choices())
    seats = sorted({seat for seat in seats if seat in known_seats})
    themes = sorted(
        set(db.session.scalars(select(Collection.id).where(Collection.id.in_(theme_ids))).all()) if theme_ids else set()
    )
    if len(seats) + len(themes) > MAX_TOPICS:
        raise PreferenceError(f"Choose {MAX_TOPICS} seats and themes or fewer", status=400)
    db.session.execute(delete(DigestTopic).where(DigestTopic.user_id == user.id))
    db.session.add_all([DigestTopic(user_id=user.id, seat=seat) for seat in seats])
    db.session.add_all([DigestTopic(user_id=user.id, collection_id=theme) for theme in themes])
    db.session.flush()


def prune_read(days: float | None = None) -> int:
    """Delete notifications read and made more than `days` ago (NOTIFICATION_KEEP_READ_DAYS);
    unread ones stay. A case's overdue notice stays while kept: its key is what stops the
    daily run telling curators again about the same overdue date. How many."""
    days = float(current_app.config["NOTIFICATION_KEEP_READ_DAYS"] if days is None else days)
    gone = db.session.execute(
        delete(Notification).where(
            Notification.read_at.is_not(None),
            Notification.created_at < utcnow() - timedelta(days=days),
            or_(Notification.key.is_(None), ~Notification.key.startswith("review-overdue:")),
        )
    )
    return int(gone.rowcount or 0)
