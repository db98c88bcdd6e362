"""Authentication and session hardening: password rules, throttling, idle timeout, config."""

from __future__ import annotations

import time

import pytest
from flask import Flask

from app import create_app
from casestudies.accounts.passwords import common_passwords
from casestudies.accounts.services import AccountError, create_user
from casestudies.models import Role

from .conftest import PASSWORD, ensure_user, make_test_app


def test_the_common_password_list_is_large_enough() -> None:
    assert len(common_passwords()) >= 10_000


@pytest.mark.parametrize("password", ["1qaz2wsx3edc", "PASSWORD1234", "short"])
def test_weak_passwords_are_refused(app: Flask, password: str) -> None:
    with pytest.raises(AccountError):
        create_user("someone@example.org", role=Role.LEARNER, password=password)


def _sign_in(client, email: str, password: str, address: str = "10.0.0.1"):
    return client.post("/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def test_sign_in_is_throttled_per_account(app: Flask, client) -> None:
    ensure_user("learner")
    for _ in range(5):
        assert _sign_in(client, "learner@example.org", "wrong password!").status_code == 400
    blocked = _sign_in(client, "learner@example.org", PASSWORD)  # even the right password
    assert blocked.status_code == 429 and "wait 1 minute" in blocked.get_data(as_text=True)
    ensure_user("facilitator")
    assert _sign_in(client, "facilitator@example.org", PASSWORD).status_code == 302  # others still can


def test_sign_in_is_throttled_per_client_address(app: Flask) -> None:
    ensure_user("learner")
    attacker = app.test_client()
    for n in range(20):
        _sign_in(attacker, f"guess{n}@example.org", "wrong password!", address="10.9.9.9")
    assert _sign_in(attacker, "learner@example.org", PASSWORD, address="10.9.9.9").status_code == 429
    assert _sign_in(app.test_client(), "learner@example.org", PASSWORD, address="10.1.1.1").status_code == 302


def test_unknown_and_known_accounts_get_the_same_answer(app: Flask, client) -> None:
    ensure_user("learner")
    known = _sign_in(client, "learner@example.org", "wrong password!").get_data(as_text=True)
    unknown = _sign_in(client, "nobody@example.org", "wrong password!").get_data(as_text=True)
    assert "Email address or password is not right" in known and "Email address or password is not right" in unknown
    for _ in range(5):
        _sign_in(client, "nobody@example.org", "wrong password!")
    assert _sign_in(client, "nobody@example.org", "x" * 12).status_code == 429  # unknown accounts throttle too


def test_a_successful_sign_in_clears_the_account_failures(app: Flask, client) -> None:
    ensure_user("learner")
    for _ in range(4):
        _sign_in(client, "learner@example.org", "wrong password!")
    assert _sign_in(client, "learner@example.org", PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(4):
        _sign_in(client, "learner@example.org", "wrong password!")
    assert _sign_in(client, "learner@example.org", PASSWORD).status_code == 302


def test_an_idle_session_ends(tmp_path, migrated_db_template) -> None:
    app = make_test_app(tmp_path, migrated_db_template, WTF_CSRF_ENABLED=False, SESSION_IDLE_HOURS=1 / 3600)
    with app.app_context():
        ensure_user("learner")
        client = app.test_client()
        assert _sign_in(client, "learner@example.org", PASSWORD).status_code == 302
        assert client.get("/cases").status_code == 200
        time.sleep(2.1)
        assert client.get("/cases").status_code == 302


def test_a_new_session_at_sign_in(app: Flask, client) -> None:
    ensure_user("learner")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    _sign_in(client, "learner@example.org", PASSWORD)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_production_refuses_the_default_secret_key(tmp_path) -> None:
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"EVERY_SEAT_ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
                    "SEARCH_INDEX_DIR": str(tmp_path / "ix")})  # fmt: skip


def test_production_refuses_a_cheap_password_hash(tmp_path) -> None:
    config = {
        "EVERY_SEAT_ENV": "production",
        "SECRET_KEY": "a-real-secret-of-at-least-32-bytes",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
    }
    with pytest.raises(RuntimeError, match="scrypt"):
        create_app({**config, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "SEARCH_INDEX_DIR": str(tmp_path / "i")})


def test_production_cookies_are_secure(tmp_path, migrated_db_template) -> None:
    app = make_test_app(
        tmp_path,
        migrated_db_template,
        EVERY_SEAT_ENV="production",
        WTF_CSRF_ENABLED=False,
        PASSWORD_HASH_METHOD="scrypt",
        SECRET_KEY="a varied production key, 32+ bytes long!",
    )
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax" and not app.debug


def test_no_debugger_or_stack_trace_on_an_error(app: Flask, login, monkeypatch) -> None:
    import casestudies.library.views as library_views

    def boom(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(library_views, "browse_values", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = login("learner").get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret internals" not in html and "Traceback" not in html and "Werkzeug Debugger" not in html


def test_a_too_large_upload_anywhere_gets_a_clear_413(app: Flask, login) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = login("curator").post("/curate/cases/new", data={"title": "x" * 5000, "action": "save"})
    assert response.status_code == 413
    assert "The upload is too large" in response.get_data(as_text=True)


def test_a_password_change_ends_the_accounts_other_sessions(app: Flask, login) -> None:
    here, elsewhere = login("learner"), login("learner")
    assert elsewhere.get("/").status_code == 200
    changed = here.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "purple otter kettle drum",
            "confirm_password": "purple otter kettle drum",
        },
    )
    assert changed.status_code == 302
    assert here.get("/").status_code == 200  # the session that changed it stays signed in
    signed_out = elsewhere.get("/")
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]
    again = login("facilitator")  # other accounts are not touched
    assert again.get("/").status_code == 200


def count_password_hashes(monkeypatch) -> list[str]:
    """The kinds of hash verified from now on ("scrypt", ...), one entry per check."""
    from casestudies.models import accounts as models

    calls: list[str] = []
    real = models.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        calls.append(pwhash.split(":", 1)[0])
        return real(pwhash, password)

    monkeypatch.setattr(models, "check_password_hash", counting)
    return calls


@pytest.mark.scrypt
def test_unknown_email_and_wrong_password_cost_one_scrypt_each(app: Flask, monkeypatch) -> None:
    """Similar timing: both failures verify one scrypt hash (a structural check; the
    measured times are in SECURITY.md)."""
    ensure_user("learner")
    calls = count_password_hashes(monkeypatch)
    client = app.test_client()
    for email in ("learner@example.org", "nobody@example.org"):
        calls.clear()
        assert _sign_in(client, email, "wrong password!").status_code == 400
        assert calls == ["scrypt"], email


@pytest.mark.parametrize("trusted_proxies", [0, 1])
def test_forwarded_addresses_count_only_behind_a_trusted_proxy(tmp_path, migrated_db_template, trusted_proxies) -> None:
    """Throttling per address: X-Forwarded-For names the client only when the app is told
    a proxy sets it; otherwise anyone could send a new address with every guess."""
    app = make_test_app(tmp_path, migrated_db_template, WTF_CSRF_ENABLED=False, TRUSTED_PROXIES=trusted_proxies)
    with app.app_context():
        ensure_user("learner")
        client = app.test_client()
        for n in range(20):
            client.post(
                "/login",
                data={"email": f"guess{n}@example.org", "password": "wrong password!"},
                headers={"X-Forwarded-For": f"10.7.0.{n}"},
                environ_base={"REMOTE_ADDR": "10.0.0.9"},
            )
        answer = _sign_in(client, "learner@example.org", PASSWORD, address="10.0.0.9")
        # Without a trusted proxy all 20 guesses came from 10.0.0.9, which is now blocked;
        # behind one, they came from 20 addresses and 10.0.0.9 itself is free.
        assert answer.status_code == (429 if trusted_proxies == 0 else 302)
