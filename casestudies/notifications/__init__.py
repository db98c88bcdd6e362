"""Notifications: events tell people what they need to know, in the app and by email, as
each person chose per kind (see services.py, events.py, due.py)."""

from __future__ import annotations

from flask import Flask, g
from flask_login import current_user


def unread_notifications() -> int:
    """The signed-in person's unread count, counted once per request (an indexed count)."""
    if not current_user.is_authenticated:
        return 0
    if "unread_notifications" not in g:
        from casestudies.notifications.services import unread_count

        g.unread_notifications = unread_count(current_user)
    return g.unread_notifications


def init_app(app: Flask) -> None:
    from casestudies.notifications.cli import notifications_cli

    app.add_template_global(unread_notifications)
    app.cli.add_command(notifications_cli)
