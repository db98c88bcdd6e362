from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from ..forms import LoginForm, SignOutForm
from ..models import Role
from ..policy import public, requires
from ..throttle import BLOCKED_MESSAGE, attempt_sign_in

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Only a path on this site: no scheme, no host, no `//host` or `\\host` tricks."""
    fallback = url_for("library.home")
    if not target:
        return fallback
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith(("//", "/\\")):
        return fallback
    if any(ch in target for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in target):
        return fallback
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user, problem = attempt_sign_in(form.email.data or "", form.password.data or "", request.remote_addr or "")
        if user is not None:
            session.clear()  # a new session at sign-in: no fixation
            login_user(user)
            session.permanent = True  # expires after SESSION_IDLE_HOURS without a request
            return redirect(safe_next(form.next.data))
        form.email.errors.append(problem or "")
        return render_template("auth/login.html", form=form), 429 if problem == BLOCKED_MESSAGE else 400
    if request.method == "POST":
        return render_template("auth/login.html", form=form), 400
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@requires(Role.LEARNER)
def logout() -> Response:
    form = SignOutForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash("You have signed out.")
    return redirect(url_for("auth.login"))
