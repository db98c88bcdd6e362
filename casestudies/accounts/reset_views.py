"""Password reset pages (the logic: reset.py): asking for a link, following it, setting the
new password; and the admin's "send a reset link" button. Routes on the accounts blueprints."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from casestudies.accounts import reset
from casestudies.accounts import services as accounts
from casestudies.accounts.forms import ActiveForm, ForgotPasswordForm, ResetPasswordForm
from casestudies.accounts.passwords import MIN_PASSWORD_LENGTH
from casestudies.accounts.views import admin_bp, bp
from casestudies.database import discard_changes
from casestudies.models import Role
from casestudies.policy import public, requires

# The link's token is kept in the cookie session and dropped from the address at once, so it
# is in no browser history, page address or Referer beyond the first request.
RESET_TOKEN = "password_reset_token"  # noqa: S105 - a session key's name


def _local_sign_in_or_404() -> None:
    if not current_app.config["LOCAL_LOGIN_ENABLED"]:
        abort(404)  # no passwords on this site: single sign-on only


def _invalid_link(message: str) -> tuple[str, int]:
    session.pop(RESET_TOKEN, None)
    return render_template("auth/reset_invalid.html", message=message), 400


@bp.route("/login/forgot", methods=["GET", "POST"])
@public
def forgot_password():
    _local_sign_in_or_404()
    form = ForgotPasswordForm()
    if request.method in ("GET", "HEAD"):
        return render_template("auth/forgot.html", form=form)
    if not form.validate_on_submit():
        return render_template("auth/forgot.html", form=form), 400
    try:
        reset.request_reset(form.email.data or "", request.remote_addr or "")
    except reset.ResetThrottled as exc:
        discard_changes()
        form.email.errors = [str(exc)]
        return render_template("auth/forgot.html", form=form), exc.status
    # The same page whether or not the address has an account.
    return render_template("auth/forgot_sent.html", email=form.email.data, minutes=reset.LINK_VALID.seconds // 60)


@bp.get("/login/reset/<token>")
@public
def reset_link(token: str):
    _local_sign_in_or_404()
    try:
        reset.user_for_token(token)
    except reset.ResetLinkInvalid as exc:
        return _invalid_link(str(exc))
    session[RESET_TOKEN] = token
    return redirect(url_for("auth.reset_password"))


@bp.route("/login/reset", methods=["GET", "POST"])
@public
def reset_password():
    _local_sign_in_or_404()
    token = session.get(RESET_TOKEN, "")
    try:
        user = reset.user_for_token(token)
    except reset.ResetLinkInvalid as exc:
        return _invalid_link(str(exc))
    form = ResetPasswordForm()
    page = {"form": form, "email": user.email, "min_length": MIN_PASSWORD_LENGTH}
    if request.method in ("GET", "HEAD"):
        return render_template("auth/reset.html", **page)
    if not form.validate_on_submit():
        abort(400)
    try:
        reset.reset_password(token, form.new_password.data or "", form.confirm_password.data or "")
    except reset.PasswordRefused as exc:
        discard_changes()
        getattr(form, exc.field or "new_password").errors = [str(exc)]
        return render_template("auth/reset.html", **page), 400
    if current_user.is_authenticated:
        logout_user()  # whoever was signed in in this browser: sign in afresh with the new password
    session.clear()
    flash("Your password has been changed and you have been signed out everywhere. Sign in with your new password.")
    return redirect(url_for("auth.login"))


@admin_bp.post("/admin/users/<int:user_id>/password-reset")
@requires(Role.ADMIN)
def send_password_reset(user_id: int) -> Response:
    target = accounts.get_user(user_id)
    if not ActiveForm().validate_on_submit():
        abort(400)
    reset.send_reset_link(target, current_user._get_current_object())
    minutes = reset.LINK_VALID.seconds // 60
    flash(f"Sent {target.name} a link to reset their password ({target.email}), valid once for {minutes} minutes.")
    return redirect(url_for("admin.user", user_id=target.id))
