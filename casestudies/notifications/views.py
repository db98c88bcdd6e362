"""/notifications: a person's notifications (newest first, paged), marking them read, their
choices per kind; and the one-click unsubscribe a mail links to. Thin: read the request,
call one service, flash, redirect."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from casestudies.database import discard_changes
from casestudies.extensions import csrf
from casestudies.forms import CsrfOnlyForm, require_csrf
from casestudies.models import Role
from casestudies.notifications import services
from casestudies.notifications.digest import seat_choices, theme_choices
from casestudies.notifications.email import read_unsubscribe_token
from casestudies.notifications.kinds import APP, CHANNELS, EMAIL, KINDS, WEEKLY_DIGEST
from casestudies.params import parse_int, parse_page, safe_local_target
from casestudies.policy import public, requires

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("")
@requires(Role.LEARNER)
def index() -> str:
    page = services.page_for(current_user, parse_page(request.args.get("page")))
    return render_template("notifications/index.html", notes=page, csrf_form=CsrfOnlyForm())


@bp.get("/<int:notification_id>")
@requires(Role.LEARNER)
def open_notification(notification_id: int) -> Response:
    """Follow a notification to the thing itself, marking it read on the way."""
    note = services.mark_read(current_user, notification_id)
    return redirect(safe_local_target(note.link) or url_for("notifications.index"))


@bp.post("/<int:notification_id>/read")
@requires(Role.LEARNER)
def mark_read(notification_id: int) -> Response:
    require_csrf()
    services.mark_read(current_user, notification_id)
    return redirect(url_for("notifications.index", page=parse_page(request.form.get("page")), _anchor="notifications"))


@bp.post("/read-all")
@requires(Role.LEARNER)
def mark_all_read() -> Response:
    require_csrf()
    count = services.mark_all_read(current_user)
    flash(f"Marked {count} notification{'' if count == 1 else 's'} as read." if count else "Nothing was unread.")
    return redirect(url_for("notifications.index"))


@bp.route("/preferences", methods=["GET", "POST"])
@requires(Role.LEARNER)
def preferences():
    error = None
    if request.method == "POST":
        require_csrf()
        choices = {kind: request.form.get(f"kind-{kind}", "") for kind in KINDS if f"kind-{kind}" in request.form}
        seats = request.form.getlist("seat")[:200]
        themes = [n for n in (parse_int(v) for v in request.form.getlist("theme")[:200]) if n is not None]
        try:
            services.save_preferences(current_user, choices, seats, themes)
        except services.PreferenceError as exc:
            discard_changes()
            error = str(exc)
        else:
            flash("Your notification choices are saved.")
            return redirect(url_for("notifications.preferences"))
    seats, themes = services.digest_topics(current_user)
    return (
        render_template(
            "notifications/preferences.html",
            prefs=services.preferences(current_user),
            channels=CHANNELS,
            digest_kind=WEEKLY_DIGEST,
            seat_choices=seat_choices(),
            theme_choices=theme_choices(),
            chosen_seats=set(seats),
            chosen_themes=set(themes),
            error=error,
            csrf_form=CsrfOnlyForm(),
        ),
        400 if error else 200,
    )


@bp.route("/unsubscribe/<unsubscribe_token>", methods=["GET", "POST"])
@public  # a mail client calls it without a session: the signed token names the person and kind
@csrf.exempt  # RFC 8058's one-click POST carries no CSRF token; the token is the authority
def unsubscribe(unsubscribe_token: str):
    user, kind = read_unsubscribe_token(unsubscribe_token)
    if request.method == "POST":
        if services.channel_of(user, kind) == EMAIL:
            services.set_channel(user, kind, APP, check_role=False)
        return render_template("notifications/unsubscribed.html", kind=KINDS[kind])
    return render_template("notifications/unsubscribe.html", kind=KINDS[kind], token=unsubscribe_token)
