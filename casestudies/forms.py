"""The forms every domain uses: a sign-out button in the header and single-button forms.
Flask-WTF checks their CSRF token."""

from __future__ import annotations

from flask import abort
from flask_wtf import FlaskForm


class SignOutForm(FlaskForm):
    """Empty: the CSRF token is the point."""


class CsrfOnlyForm(FlaskForm):
    """For forms whose fields are read by a parser of their own (the case editor) or that
    are a single button: Flask-WTF still checks the CSRF token."""


def require_csrf() -> None:
    """A single-button form's POST goes on only with a valid CSRF token (else a 400)."""
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
