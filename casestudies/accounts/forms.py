"""Forms for signing in, managing accounts and changing one's own password."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from casestudies.accounts.services import MAX_NAME_LENGTH
from casestudies.models import Role


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address"), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password"), Length(max=1024)])
    next = HiddenField()


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


class DetailsForm(FlaskForm):
    """An admin's correction of a user's name and email address (checked by the service)."""

    name = StringField("Full name")
    email = EmailField("Email address")


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter your email address"),
            Length(max=254, message="The email address must be 254 characters or fewer"),
            Regexp(r"^[^@\s]+@[^@\s]+$", message="Enter an email address like name@example.org"),
        ],
    )


class ResetPasswordForm(FlaskForm):
    """The rules are the service's (casestudies/accounts/reset.py)."""

    new_password = PasswordField("New password")
    confirm_password = PasswordField("New password again")
