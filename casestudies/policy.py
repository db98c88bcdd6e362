"""Access policy: the one place where a route's audience is declared and enforced.

Every view is either `@public` (only the sign-in page) or `@requires(Role.X)`. A
before_request hook refuses anonymous users everywhere else, and the route-walking test
fails for a view that declares neither.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from casestudies.models import Role

F = TypeVar("F", bound=Callable[..., Any])

# What an account that must change its password may reach before it has.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"account.password", "auth.logout", "static"})


def public(view: F) -> F:
    view.is_public = True
    return view


def requires(role: Role) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                abort(401)
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_role = role
        return wrapped

    return decorate


def route_policy(app: Flask, endpoint: str) -> str:
    """'public', a role value, or 'undeclared' for the endpoint (used by tests and the hook)."""
    if endpoint == "static":
        return "public"
    view = app.view_functions.get(endpoint)
    if view is None:
        return "undeclared"
    if getattr(view, "is_public", False):
        return "public"
    role = getattr(view, "required_role", None)
    return role.value if role else "undeclared"


def init_app(app: Flask) -> None:
    @app.before_request
    def _require_sign_in() -> Response | None:
        if request.endpoint is None:
            return  # 404s and 405s answer as they are
        policy = route_policy(app, request.endpoint)
        if policy == "undeclared":
            abort(403)  # a route without a declared audience is closed, not open
        if policy != "public" and not current_user.is_authenticated:
            abort(401)  # Flask-Login's unauthorized handler turns this into a redirect
        if (
            current_user.is_authenticated
            and current_user.must_change_password
            and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS
        ):
            # An account an admin created with an initial password: its owner chooses their
            # own before anything else.
            return redirect(url_for("account.password"))
        return None
