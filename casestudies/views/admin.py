"""Accounts (admins), the audit log (curators and admins), and one's own password (everyone)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from .. import accounts
from ..accounts import MAX_NAME_LENGTH, MIN_PASSWORD_LENGTH, AccountError
from ..audit import list_events
from ..audit_filters import ACTION_LABELS, case_choices, parse_audit_args, person_choices
from ..extensions import db
from ..models import Role, User
from ..policy import requires

bp = Blueprint("admin", __name__)
account_bp = Blueprint("account", __name__, url_prefix="/account")

ROLE_CHOICES = [(role.value, role.label) for role in Role]
AUDIT_PER_PAGE = 50


# -- forms -----------------------------------------------------------------------------------------
class NewUserForm(FlaskForm):
    name = StringField(
        "Full name",
        validators=[
            DataRequired("Enter the person’s name"),
            Length(max=MAX_NAME_LENGTH, message=f"The name must be {MAX_NAME_LENGTH} characters or fewer"),
        ],
    )
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter an email address"),
            Length(max=254, message="The email address must be 254 characters or fewer"),
            Regexp(r"^[^@\s]+@[^@\s]+$", message="Enter an email address like name@example.org"),
        ],
    )
    role = StringField("Role", default=Role.LEARNER.value)
    password = PasswordField("Initial password", validators=[DataRequired("Enter an initial password")])


class RoleForm(FlaskForm):
    role = StringField("Role")


class ActiveForm(FlaskForm):
    """Empty: the CSRF token is the point; the page itself is the confirmation."""


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password")
    new_password = PasswordField("New password")
    confirm_password = PasswordField("New password again")


def _role_or_none(value: str | None) -> Role | None:
    try:
        return Role(value)
    except ValueError:
        return None


def _user_or_404(user_id: int) -> User:
    try:
        return accounts.get_user(user_id)
    except LookupError:
        abort(404)


# -- users -----------------------------------------------------------------------------------------
@bp.get("/admin/users")
@requires(Role.ADMIN)
def users() -> str:
    return render_template("admin/users.html", users=accounts.list_users())


@bp.route("/admin/users/new", methods=["GET", "POST"])
@requires(Role.ADMIN)
def new_user():  # type: ignore[no-untyped-def]
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
            db.session.rollback()
            getattr(form, exc.field or "email").errors = [*getattr(form, exc.field or "email").errors, str(exc)]
        else:
            flash(f"Created the account of {user.name} ({user.email}) as {user.role.value}.")
            return redirect(url_for("admin.users"))
    if role is None:
        form.role.errors = ["Choose a role from the list"]
    return render_template("admin/new_user.html", form=form, roles=ROLE_CHOICES, min_length=MIN_PASSWORD_LENGTH), 400


def _user_page(user: User, *, error: str | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    form = RoleForm(formdata=None, role=user.role.value)
    if error:
        form.role.data = request.form.get("role", user.role.value)
    return render_template("admin/user.html", user=user, form=form, roles=ROLE_CHOICES, error=error), status


@bp.get("/admin/users/<int:user_id>")
@requires(Role.ADMIN)
def user(user_id: int):  # type: ignore[no-untyped-def]
    return _user_page(_user_or_404(user_id))


@bp.post("/admin/users/<int:user_id>/role")
@requires(Role.ADMIN)
def change_role(user_id: int):  # type: ignore[no-untyped-def]
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
        db.session.rollback()
        return _user_page(_user_or_404(user_id), error=str(exc), status=400)
    db.session.commit()
    flash(f"{target.name} is now {target.role.value}." if changed else f"{target.name} was already {role.value}.")
    return redirect(url_for("admin.user", user_id=target.id))


@bp.route("/admin/users/<int:user_id>/deactivate", methods=["GET", "POST"])
@requires(Role.ADMIN)
def deactivate(user_id: int):  # type: ignore[no-untyped-def]
    target = _user_or_404(user_id)
    form = ActiveForm()
    if request.method == "GET":
        return render_template("admin/deactivate.html", user=target, form=form)
    if not form.validate_on_submit():
        abort(400)
    try:
        accounts.set_active(target, False, current_user)
    except AccountError as exc:
        db.session.rollback()
        target = _user_or_404(user_id)
        return render_template("admin/deactivate.html", user=target, form=form, error=str(exc)), 400
    db.session.commit()
    flash(f"Deactivated {target.name}: they are signed out and can’t sign in until reactivated.")
    return redirect(url_for("admin.user", user_id=target.id))


@bp.post("/admin/users/<int:user_id>/reactivate")
@requires(Role.ADMIN)
def reactivate(user_id: int) -> Response:
    target = _user_or_404(user_id)
    if not ActiveForm().validate_on_submit():
        abort(400)
    accounts.set_active(target, True, current_user)
    db.session.commit()
    flash(f"Reactivated {target.name}: they can sign in again.")
    return redirect(url_for("admin.user", user_id=target.id))


# -- the audit log ---------------------------------------------------------------------------------
def _page_arg() -> int:
    try:
        return max(1, min(int(request.args.get("page", "1")), 100_000))
    except ValueError:
        return 1


@bp.get("/audit")
@requires(Role.CURATOR)
def audit():  # type: ignore[no-untyped-def]
    query = parse_audit_args(request.args)
    events, total, page = [], 0, 1
    if not query.errors:
        page = _page_arg()
        events, total = list_events(query.filters, page, AUDIT_PER_PAGE)
    return (
        render_template(
            "admin/audit.html",
            query=query,
            events=events,
            total=total,
            page=page,
            pages=max(1, -(-total // AUDIT_PER_PAGE)),
            people=person_choices(),
            cases=case_choices(),
            actions=ACTION_LABELS,
            per_page=AUDIT_PER_PAGE,
        ),
        400 if query.errors else 200,
    )


# -- one's own password ----------------------------------------------------------------------------
@account_bp.route("/password", methods=["GET", "POST"])
@requires(Role.LEARNER)
def password():  # type: ignore[no-untyped-def]
    form = PasswordForm()
    min_length = MIN_PASSWORD_LENGTH
    if request.method == "GET":
        return render_template("account/password.html", form=form, min_length=min_length)
    if not form.validate_on_submit():
        abort(400)
    try:
        accounts.change_own_password(
            current_user,
            form.current_password.data or "",
            form.new_password.data or "",
            form.confirm_password.data or "",
        )
    except AccountError as exc:
        db.session.rollback()
        getattr(form, exc.field or "new_password").errors = [str(exc)]
        return render_template("account/password.html", form=form, min_length=min_length), 400
    db.session.commit()
    # The change gave the account a new session token, which ends its other sessions;
    # this one is signed in again with the new token.
    login_user(current_user._get_current_object(), fresh=True)
    flash("Your password has been changed, and you have been signed out everywhere else.")
    return redirect(url_for("library.home"))
