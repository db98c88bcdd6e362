"""Signing in and out, one's own password (everyone), and accounts and roles (admins)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from casestudies.accounts import oidc, sessions
from casestudies.accounts import services as accounts
from casestudies.accounts.forms import ActiveForm, DetailsForm, LoginForm, NewUserForm, PasswordForm, RoleForm
from casestudies.accounts.services import MIN_PASSWORD_LENGTH, AccountError
from casestudies.accounts.throttle import Throttled, attempt_password_change, attempt_sign_in
from casestudies.database import discard_changes, keep_changes_on_error
from casestudies.forms import SignOutForm
from casestudies.models import Role, User
from casestudies.params import safe_local_target
from casestudies.policy import public, requires

bp = Blueprint("auth", __name__)
admin_bp = Blueprint("admin", __name__)
account_bp = Blueprint("account", __name__, url_prefix="/account")

ROLE_CHOICES = [(role.value, role.label) for role in Role]


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site, else the home page."""
    return safe_local_target(target) or url_for("library.home")


def _login_page(form: LoginForm, *, status: int = 200, sso_error: str | None = None):
    return (
        render_template(
            "auth/login.html",
            form=form,
            sso_enabled=oidc.is_enabled(),
            local_enabled=bool(current_app.config["LOCAL_LOGIN_ENABLED"]),
            sso_error=sso_error,
        ),
        status,
    )


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if request.method in ("GET", "HEAD"):
        form.next.data = request.args.get("next", "")
        return _login_page(form)
    if not current_app.config["LOCAL_LOGIN_ENABLED"]:
        return _login_page(form, status=403, sso_error="Sign-in with a password is switched off on this site.")
    if form.validate_on_submit():
        result = attempt_sign_in(form.email.data or "", form.password.data or "", request.remote_addr or "")
        if result.user is not None:
            sign_in_user(result.user, method="password")
            return redirect(safe_next(form.next.data))
        accounts.record_failed_sign_in(form.email.data or "", request.remote_addr or "", blocked=result.blocked)
        keep_changes_on_error()  # the failed attempt is in the audit log
        form.email.errors.append(result.problem or "")
        return _login_page(form, status=429 if result.blocked else 400)
    return _login_page(form, status=400)


# -- single sign-on (casestudies/accounts/oidc.py) -------------------------------------------------
SSO_NEXT = "sso_next"


@bp.post("/login/sso")
@public
def sso_start():
    if not oidc.is_enabled():
        abort(404)
    if not ActiveForm().validate_on_submit():
        abort(400)
    session[SSO_NEXT] = safe_local_target(request.form.get("next")) or ""
    try:
        return oidc.begin(url_for("auth.sso_callback", _external=True))
    except oidc.SingleSignOnError as exc:
        return _login_page(LoginForm(formdata=None), status=502, sso_error=str(exc))


@bp.get("/login/sso/callback")
@public
def sso_callback():
    if not oidc.is_enabled():
        abort(404)
    target = session.get(SSO_NEXT)
    try:
        user = oidc.complete_sign_in(request.args.to_dict())
    except oidc.NoAccess as exc:
        keep_changes_on_error()  # the refusal is in the audit log; no account was made
        return render_template("auth/no_access.html", message=str(exc)), 403
    except oidc.SingleSignOnError as exc:
        return _login_page(LoginForm(formdata=None), status=400, sso_error=str(exc))
    sign_in_user(user, method="single sign-on")
    return redirect(safe_next(target))


def sign_in_user(user: User, *, method: str) -> None:
    """Sign in after a checked password or single sign-on: a new server-side session and a
    new cookie session (no fixation), recorded in the audit log. A session already open in
    this browser (single sign-on as someone else) ends first."""
    if current_user.is_authenticated:
        accounts.sign_out(current_user._get_current_object())
    session.clear()
    accounts.sign_in(
        user, user_agent=request.headers.get("User-Agent", ""), address=request.remote_addr or "", method=method
    )
    login_user(user)
    session.permanent = True  # expires after SESSION_IDLE_HOURS without a request


@bp.route("/logout", methods=["POST"])
@requires(Role.LEARNER)
def logout() -> Response:
    form = SignOutForm()
    if form.validate_on_submit():
        accounts.sign_out(current_user._get_current_object())  # a copied cookie is worth nothing now
        logout_user()
        session.clear()
        flash("You have signed out.")
    return redirect(url_for("auth.login"))


# -- one's own password ----------------------------------------------------------------------------
@account_bp.route("/password", methods=["GET", "POST"])
@requires(Role.LEARNER)
def password():
    form = PasswordForm()
    min_length = MIN_PASSWORD_LENGTH
    if request.method == "GET":
        return render_template("account/password.html", form=form, min_length=min_length)
    if not form.validate_on_submit():
        abort(400)
    try:
        attempt_password_change(
            current_user._get_current_object(),
            form.current_password.data or "",
            form.new_password.data or "",
            form.confirm_password.data or "",
            request.remote_addr or "",
        )
    except AccountError as exc:
        discard_changes()
        getattr(form, exc.field or "new_password").errors = [str(exc)]
        status = 429 if isinstance(exc, Throttled) else 400
        return render_template("account/password.html", form=form, min_length=min_length), status
    flash("Your password has been changed, and you have been signed out everywhere else.")
    return redirect(url_for("library.home"))


def _role_or_none(value: str | None) -> Role | None:
    try:
        return Role(value)
    except ValueError:
        return None


def _user_or_404(user_id: int) -> User:
    return accounts.get_user(user_id)


# -- users -----------------------------------------------------------------------------------------
@admin_bp.get("/admin/users")
@requires(Role.ADMIN)
def users() -> str:
    return render_template("admin/users.html", users=accounts.list_users())


@admin_bp.route("/admin/users/new", methods=["GET", "POST"])
@requires(Role.ADMIN)
def new_user():
    form = NewUserForm()
    if request.method == "GET":
        return render_template("admin/new_user.html", form=form, roles=ROLE_CHOICES, min_length=MIN_PASSWORD_LENGTH)
    role = _role_or_none(form.role.data)
    if form.validate_on_submit() and role is not None:
        try:
            # create_user commits: it is also what the command line and tests call.
            user = accounts.create_user(
                form.email.data or "",
                role=role,
                password=form.password.data or "",
                name=(form.name.data or "").strip(),
                actor=current_user,
            )
        except AccountError as exc:
            discard_changes()
            getattr(form, exc.field or "email").errors = [*getattr(form, exc.field or "email").errors, str(exc)]
        else:
            flash(f"Created the account of {user.name} ({user.email}) as {user.role.value}.")
            return redirect(url_for("admin.users"))
    if role is None:
        form.role.errors = ["Choose a role from the list"]
    return render_template("admin/new_user.html", form=form, roles=ROLE_CHOICES, min_length=MIN_PASSWORD_LENGTH), 400


def _user_page(
    user: User,
    *,
    error: str | None = None,
    status: int = 200,
    details: DetailsForm | None = None,
    sso_error: str | None = None,
):
    form = RoleForm(formdata=None, role=user.role.value)
    if error:
        form.role.data = request.form.get("role", user.role.value)
    return (
        render_template(
            "admin/user.html",
            user=user,
            form=form,
            details=details or DetailsForm(formdata=None, name=user.name, email=user.email),
            sso_enabled=oidc.is_enabled(),
            sso_error=sso_error,
            roles=ROLE_CHOICES,
            error=error,
            active_sessions=sessions.active_sessions(user),
            own_session_id=sessions.current_session_id(current_user),
        ),
        status,
    )


@admin_bp.get("/admin/users/<int:user_id>")
@requires(Role.ADMIN)
def user(user_id: int):
    return _user_page(_user_or_404(user_id))


@admin_bp.post("/admin/users/<int:user_id>/role")
@requires(Role.ADMIN)
def change_role(user_id: int):
    target = _user_or_404(user_id)
    form = RoleForm()
    role = _role_or_none(form.role.data)
    if not form.validate_on_submit():
        abort(400)
    if role is None:
        return _user_page(target, error="Choose a role from the list", status=400)
    try:
        changed = accounts.change_role(target, role, current_user)
    except AccountError as exc:
        discard_changes()
        return _user_page(_user_or_404(user_id), error=str(exc), status=400)
    flash(f"{target.name} is now {target.role.value}." if changed else f"{target.name} was already {role.value}.")
    return redirect(url_for("admin.user", user_id=target.id))


@admin_bp.post("/admin/users/<int:user_id>/details")
@requires(Role.ADMIN)
def update_details(user_id: int):
    target = _user_or_404(user_id)
    form = DetailsForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        changed = accounts.update_details(target, form.name.data or "", form.email.data or "", current_user)
    except AccountError as exc:
        discard_changes()
        getattr(form, exc.field or "email").errors = [str(exc)]
        return _user_page(_user_or_404(user_id), details=form, status=400)
    flash(f"Saved the name and email address of {target.name}." if changed else "Nothing was changed.")
    return redirect(url_for("admin.user", user_id=target.id))


@admin_bp.post("/admin/users/<int:user_id>/single-sign-on")
@requires(Role.ADMIN)
def single_sign_on(user_id: int):
    target = _user_or_404(user_id)
    if not ActiveForm().validate_on_submit():
        abort(400)
    issuer = oidc.configured_issuer() if oidc.is_enabled() else ""
    try:
        accounts.convert_to_single_sign_on(target, issuer, current_user)
    except AccountError as exc:
        discard_changes()
        return _user_page(_user_or_404(user_id), sso_error=str(exc), status=400)
    flash(
        f"{target.name} now signs in with their organisation account: their password was removed and "
        "they were signed out. Their account is linked at their first sign-in with it."
    )
    return redirect(url_for("admin.user", user_id=target.id))


@admin_bp.route("/admin/users/<int:user_id>/deactivate", methods=["GET", "POST"])
@requires(Role.ADMIN)
def deactivate(user_id: int):
    target = _user_or_404(user_id)
    form = ActiveForm()
    if request.method == "GET":
        return render_template("admin/deactivate.html", user=target, form=form)
    if not form.validate_on_submit():
        abort(400)
    try:
        accounts.set_active(target, False, current_user)
    except AccountError as exc:
        discard_changes()
        target = _user_or_404(user_id)
        return render_template("admin/deactivate.html", user=target, form=form, error=str(exc)), 400
    flash(f"Deactivated {target.name}: they are signed out and can’t sign in until reactivated.")
    return redirect(url_for("admin.user", user_id=target.id))


@admin_bp.post("/admin/users/<int:user_id>/reactivate")
@requires(Role.ADMIN)
def reactivate(user_id: int) -> Response:
    target = _user_or_404(user_id)
    if not ActiveForm().validate_on_submit():
        abort(400)
    accounts.set_active(target, True, current_user)
    flash(f"Reactivated {target.name}: they can sign in again.")
    return redirect(url_for("admin.user", user_id=target.id))


# -- an account's sessions -------------------------------------------------------------------------
@admin_bp.post("/admin/users/<int:user_id>/sessions/<int:session_id>/end")
@requires(Role.ADMIN)
def end_session(user_id: int, session_id: int) -> Response:
    target = _user_or_404(user_id)
    if not ActiveForm().validate_on_submit():
        abort(400)
    if accounts.end_user_session(target, session_id, current_user):
        flash(f"Ended a session of {target.name}: it is signed out.")
    else:
        flash(f"That session of {target.name} had already ended.")
    return redirect(url_for("admin.user", user_id=target.id))


@admin_bp.post("/admin/users/<int:user_id>/sessions/end")
@requires(Role.ADMIN)
def end_all_sessions(user_id: int) -> Response:
    target = _user_or_404(user_id)
    if not ActiveForm().validate_on_submit():
        abort(400)
    count = accounts.end_user_sessions(target, current_user)
    flash(f"Ended {count} session{'s' if count != 1 else ''} of {target.name}.")
    return redirect(url_for("admin.user", user_id=target.id))
