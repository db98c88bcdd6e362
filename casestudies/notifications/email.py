"""The email channel: a notification's mail, in plain text and HTML, queued as a job in the
caller's transaction (casestudies.mail.queue_mail), with a one-click unsubscribe per kind.

The unsubscribe link is signed (itsdangerous, SECRET_KEY, a salt of its own) and names one
person and one kind; it never expires, as RFC 8058 expects of a List-Unsubscribe link, and
all it can do is switch that kind's email off (the kind stays in the app)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from casestudies.errors import NotFound
from casestudies.extensions import db
from casestudies.mail import absolute_path, queue_mail, render_mail
from casestudies.models import User

if TYPE_CHECKING:
    from casestudies.models import Notification

UNSUBSCRIBE_SALT = "notifications-unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(user: User, kind: str) -> str:
    return _serializer().dumps([user.id, kind])


class BadUnsubscribeLink(NotFound):
    """A link that was not made here, or whose person is gone: answered as not found."""


def read_unsubscribe_token(token: str) -> tuple[User, str]:
    from casestudies.notifications.kinds import KINDS

    try:
        user_id, kind = _serializer().loads(token)
    except (BadSignature, TypeError, ValueError):
        raise BadUnsubscribeLink(token) from None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or kind not in KINDS:
        raise BadUnsubscribeLink(token)
    return user, kind


def send(user: User, note: Notification) -> None:
    """Queue the notification's mail to its person, in this transaction."""
    from casestudies.notifications.kinds import KINDS
    from casestudies.notifications.services import path_for

    unsubscribe_url = absolute_path(
        path_for("notifications.unsubscribe", unsubscribe_token=unsubscribe_token(user, note.kind))
    )
    rendered = render_mail(
        "notification",
        subject=note.title,
        lines=note.body.splitlines(),
        link=absolute_path(note.link),
        kind_label=KINDS[note.kind].label,
        unsubscribe_url=unsubscribe_url,
        preferences_url=absolute_path(path_for("notifications.preferences")),
    )
    queue_mail(
        to=user.email,
        subject=" ".join(note.title.split()),  # one line, whatever a title holds
        text=rendered.text,
        html=rendered.html,
        kind=note.kind,
        unsubscribe_url=unsubscribe_url,
    )
