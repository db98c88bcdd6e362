"""Issue 28, sessions and sign-in: HEAD /login, the absolute session lifetime, ended rows
pruned, a production key with some variety, and single sign-on accounts that look like any
other at the password sign-in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from app import create_app
from casestudies.extensions import db
from casestudies.models import User, UserSession, utcnow

from .conftest import PASSWORD, ensure_user
from .test_hardening import count_password_hashes


def _sign_in(client, email: str, password: str, address: str = "10.0.0.1"):
    return client.post("/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def test_head_login_answers_like_get(app: Flask, client) -> None:
    assert client.head("/login").status_code == 200


def test_a_session_ends_after_its_absolute_lifetime_however_busy(app: Flask, client) -> None:
    user = ensure_user("learner")
    assert _sign_in(client, user.email, PASSWORD).status_code == 302
    assert client.get("/cases").status_code == 200
    # Used a minute ago (never idle), but opened eight days ago: past the 7-day default.
    now = utcnow()
    db.session.execute(update(UserSession).values(created_at=now - timedelta(days=8), last_seen_at=now))
    db.session.commit()
    assert client.get("/cases").status_code == 302
    from casestudies.accounts import sessions

    assert sessions.active_sessions(user) == []


def test_ended_and_expired_session_rows_are_pruned(app: Flask, runner) -> None:
    user = ensure_user("learner")
    for n in range(3):
        assert _sign_in(app.test_client(), user.email, PASSWORD, address=f"10.0.0.{n}").status_code == 302
    first, second, third = db.session.scalars(select(UserSession).order_by(UserSession.id)).all()
    first.ended_at = utcnow() - timedelta(hours=1)  # signed out
    second.last_seen_at = utcnow() - timedelta(days=1)  # idle past SESSION_IDLE_HOURS
    db.session.commit()
    third_id = third.id
    result = runner.invoke(args=["prune"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalars(select(UserSession.id)).all() == [third_id]
    # A sign-in prunes too, so the table can't grow without the command.
    db.session.get(UserSession, third_id).ended_at = utcnow()
    db.session.commit()
    assert _sign_in(app.test_client(), user.email, PASSWORD).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1


@pytest.mark.parametrize("key", ["k" * 32, "ab" * 20, "0123" * 10])
def test_production_refuses_a_secret_key_without_variety(tmp_path, key: str) -> None:
    config = {"EVERY_SEAT_ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "SECRET_KEY": key}
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({**config, "SEARCH_INDEX_DIR": str(tmp_path / "ix")})


def _single_sign_on(user: User) -> User:
    user.oidc_issuer, user.oidc_subject, user.password_hash = "https://id.example", f"sub-{user.id}", ""
    db.session.commit()
    return user


def test_a_single_sign_on_account_gets_the_generic_answer_at_the_password_sign_in(app: Flask, client) -> None:
    sso = _single_sign_on(ensure_user("learner", email="sso@example.org"))
    answers = [
        _sign_in(client, email, "wrong password!", address="10.0.0.2").get_data(as_text=True)
        for email in (sso.email, "nobody@example.org")
    ]
    for answer in answers:
        assert "Email address or password is not right" in answer
        assert "This account signs in with your organisation account" not in answer


@pytest.mark.scrypt
def test_a_single_sign_on_account_costs_one_scrypt_hash_like_an_unknown_email(app: Flask, monkeypatch) -> None:
    """Similar timing, checked structurally as tests/test_hardening.py does for unknown emails."""
    _single_sign_on(ensure_user("learner", email="sso@example.org"))
    calls = count_password_hashes(monkeypatch)
    for email in ("sso@example.org", "nobody@example.org"):
        calls.clear()
        assert _sign_in(app.test_client(), email, "wrong password!").status_code == 400
        assert calls == ["scrypt"], email


def test_single_sign_on_users_are_not_offered_change_password(app: Flask, client) -> None:
    user = ensure_user("learner")
    assert _sign_in(client, user.email, PASSWORD).status_code == 302
    assert "Change password" in client.get("/cases").get_data(as_text=True)
    _single_sign_on(user)
    assert "Change password" not in client.get("/cases").get_data(as_text=True)
