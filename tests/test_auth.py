from __future__ import annotations

import re

import pytest
from flask import Flask

from casestudies.extensions import db

from .conftest import PASSWORD, ensure_user


def test_every_page_but_login_needs_a_signed_in_user(client) -> None:
    response = client.get("/cases")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fcases"
    assert client.get("/login").status_code == 200


def test_sign_in_with_a_wrong_password_is_refused_with_a_clear_message(app: Flask, client) -> None:
    ensure_user("learner")
    response = client.post("/login", data={"email": "learner@example.org", "password": "wrong password!!"})
    assert response.status_code == 400
    assert "Email address or password is not right" in response.get_data(as_text=True)
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "wrong password!!"})
    assert "Email address or password is not right" in unknown.get_data(as_text=True)
    assert client.get("/cases").status_code == 302


def test_sign_in_leads_to_next_only_within_the_app(app: Flask, client) -> None:
    ensure_user("learner")
    response = client.post(
        "/login", data={"email": "LEARNER@example.org", "password": PASSWORD, "next": "/cases?tag=x"}
    )
    assert response.headers["Location"] == "/cases?tag=x"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/x",
        " //evil.example",
        "/\tevil",
        "https:evil.example",
    ],
)
def test_next_never_leads_off_site(app: Flask, target: str) -> None:
    ensure_user("learner")
    client = app.test_client()
    response = client.post("/login", data={"email": "learner@example.org", "password": PASSWORD, "next": target})
    assert response.headers["Location"] == "/"


def test_a_deactivated_account_cannot_sign_in(app: Flask, client) -> None:
    ensure_user("learner", active=False)
    response = client.post("/login", data={"email": "learner@example.org", "password": PASSWORD})
    assert response.status_code == 400


def test_forms_need_a_csrf_token(csrf_app: Flask) -> None:
    ensure_user("learner")
    client = csrf_app.test_client()
    refused = client.post("/login", data={"email": "learner@example.org", "password": PASSWORD})
    assert refused.status_code == 400
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    accepted = client.post("/login", data={"email": "learner@example.org", "password": PASSWORD, "csrf_token": token})
    assert accepted.status_code == 302
    # Sign-out is a POST with a token too: a bare POST is refused and the user stays signed in.
    assert client.post("/logout").status_code == 400
    assert client.get("/cases").status_code == 200


def test_sign_out_ends_the_session(app: Flask, auth, client) -> None:
    auth.login("learner")
    assert client.get("/cases").status_code == 200
    assert client.get("/logout").status_code == 405  # no state change on GET
    client.post("/logout")
    assert client.get("/cases").status_code == 302


def test_session_cookie_is_httponly_and_samesite(app: Flask, auth, client) -> None:
    ensure_user("learner")
    response = client.post("/login", data={"email": "learner@example.org", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.scrypt
def test_passwords_are_hashed_with_scrypt(app: Flask) -> None:
    user = ensure_user("learner")
    assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash


def test_security_headers(app: Flask, client) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in response.get_data(as_text=True)  # no inline script at all


def _sign_in_with_token(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = {"email": "learner@example.org", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302


def _sign_out_token(html: str) -> str:
    form = re.search(r'<form class="nhsuk-header__account-form".*?</form>', html, re.DOTALL).group(0)
    return re.search(r'value="([^"]+)"', form).group(1)


def _current_menu_item(html: str) -> str:
    return re.search(r'aria-current="page"[^>]*>\s*<strong[^>]*>([^<]+)<', html).group(1)


def test_the_header_belongs_to_its_session(csrf_app: Flask) -> None:
    """The header is rendered once and kept (see cached_fragment): each session still gets
    its own sign-out token, the current menu item and the person's current name."""
    user = ensure_user("learner")
    first, second = csrf_app.test_client(), csrf_app.test_client()
    _sign_in_with_token(first)
    _sign_in_with_token(second)
    first_page, second_page = first.get("/cases").get_data(as_text=True), second.get("/cases").get_data(as_text=True)
    assert _current_menu_item(first_page) == "Library"
    assert _current_menu_item(first.get("/search").get_data(as_text=True)) == "Search"
    # Each session signs out with the token in its own header, and only its own session ends.
    assert second.post("/logout", data={"csrf_token": _sign_out_token(second_page)}).status_code == 302
    assert second.get("/cases").status_code == 302
    assert first.get("/cases").status_code == 200
    # A new name shows at once.
    user.name = "Renamed Learner"
    db.session.commit()
    assert "Renamed Learner" in first.get("/cases").get_data(as_text=True)
    assert first.post("/logout", data={"csrf_token": _sign_out_token(first_page)}).status_code == 302
    assert first.get("/cases").status_code == 302
