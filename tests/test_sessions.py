"""Sessions the server controls, the session token every account has, throttling under
parallel guesses and by account and address, and the first-sign-in password change."""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

from alembic import command
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import func, select, text
from werkzeug.serving import make_server

from app import create_app
from casestudies.accounts import sessions
from casestudies.accounts.services import create_user
from casestudies.database import _alembic_config, upgrade_database
from casestudies.extensions import db
from casestudies.models import LoginAttempt, Role, User, UserSession, utcnow

from .conftest import PASSWORD, ensure_user, make_test_app


def _sign_in(client, email: str, password: str = PASSWORD, address: str = "10.0.0.1"):
    return client.post("/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _copy_of(app: Flask, cookie: str):
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def test_a_copied_cookie_no_longer_works_after_sign_out(app: Flask) -> None:
    ensure_user("learner")
    client = app.test_client()
    assert _sign_in(client, "learner@example.org").status_code == 302
    copied = _cookie(client)
    assert _copy_of(app, copied).get("/cases").status_code == 200  # the copy works while signed in
    client.post("/logout")
    assert _copy_of(app, copied).get("/cases").status_code == 302


def test_reactivating_an_account_does_not_revive_its_old_sessions(app: Flask, login) -> None:
    from casestudies.accounts.services import set_active

    learner_client = login("learner")
    admin = ensure_user("admin")
    learner = ensure_user("learner")
    set_active(learner, False, admin)
    db.session.commit()
    set_active(learner, True, admin)
    db.session.commit()
    assert learner_client.get("/cases").status_code == 302


def _forged_cookie(app: Flask, user_id_field: str) -> str:
    """A session cookie made with the app's secret key, as someone who knows the key can."""
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    return serializer.dumps({"_user_id": user_id_field, "_fresh": True})


def test_a_forged_cookie_with_an_empty_token_is_refused(app: Flask) -> None:
    user = ensure_user("admin")
    # As an account from before migration 0005 had: no session token (before this test was
    # written, the forged "<id>:" matched it).
    db.session.execute(text('UPDATE "user" SET session_token = NULL WHERE id = :id'), {"id": user.id})
    db.session.commit()
    # The old form of the id: "<user id>:<session token>", with the token empty.
    assert _copy_of(app, _forged_cookie(app, f"{user.id}:")).get("/cases").status_code == 302
    assert _copy_of(app, _forged_cookie(app, "1:")).get("/cases").status_code == 302


def test_an_account_without_a_session_token_is_refused(app: Flask) -> None:
    ensure_user("learner")
    client = app.test_client()
    assert _sign_in(client, "learner@example.org").status_code == 302
    db.session.execute(text('UPDATE "user" SET session_token = NULL'))
    db.session.commit()
    assert client.get("/cases").status_code == 302


def test_the_migration_gives_every_account_a_session_token(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app({"DATABASE_URL": url, "SEARCH_INDEX_DIR": str(tmp_path / "ix"), "TESTING": True})
    with app.app_context():
        config = _alembic_config()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0008")
        with db.engine.begin() as connection:
            for n in (1, 2):  # accounts from before 0005: no token
                connection.execute(
                    text(
                        "INSERT INTO user (id, email, name, role, password_hash, is_active, created_at) "
                        "VALUES (:n, :email, 'Old', 'learner', 'x', 1, '2026-01-01')"
                    ),
                    {"n": n, "email": f"old{n}@example.org"},
                )
        upgrade_database()
        tokens = db.session.scalars(select(User.session_token).order_by(User.id)).all()
        assert len(tokens) == 2 and all(tokens) and tokens[0] != tokens[1] and len(tokens[0]) == 32
        db.engine.dispose()


def test_an_admin_sees_a_users_sessions_and_ends_them(app: Flask, login) -> None:
    first, second = login("learner"), login("learner")
    learner = ensure_user("learner")
    admin_client = login("admin")
    page = admin_client.get(f"/admin/users/{learner.id}").get_data(as_text=True)
    live = sessions.active_sessions(learner)
    assert len(live) == 2 and page.count(f"/admin/users/{learner.id}/sessions/") == 3  # two "End", one "End all"
    ended = live[0].id  # the most recent: the second client's
    assert admin_client.post(f"/admin/users/{learner.id}/sessions/{ended}/end").status_code == 302
    assert second.get("/cases").status_code == 302 and first.get("/cases").status_code == 200
    assert admin_client.post(f"/admin/users/{learner.id}/sessions/end").status_code == 302
    assert first.get("/cases").status_code == 302
    assert "not signed in anywhere" in admin_client.get(f"/admin/users/{learner.id}").get_data(as_text=True)


def test_an_admin_ends_only_the_named_users_session(app: Flask, login) -> None:
    learner_client = login("learner")
    admin_client = login("admin")
    [learner_session] = sessions.active_sessions(ensure_user("learner"))
    other = ensure_user("curator")
    admin_client.post(f"/admin/users/{other.id}/sessions/{learner_session.id}/end")
    assert learner_client.get("/cases").status_code == 200


def test_ending_sessions_needs_a_csrf_token(csrf_app: Flask) -> None:
    with csrf_app.app_context():
        ensure_user("learner")
        admin = ensure_user("admin")
    client = csrf_app.test_client()
    with csrf_app.app_context():
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        assert (
            client.post("/login", data={"email": admin.email, "password": PASSWORD, "csrf_token": token}).status_code
            == 302
        )
    assert client.post(f"/admin/users/{admin.id}/sessions/end").status_code == 400


def test_last_seen_is_written_at_most_once_a_minute(app: Flask, login) -> None:
    client = login("learner")
    [row] = sessions.active_sessions(ensure_user("learner"))
    first_seen = row.last_seen_at
    client.get("/cases")
    db.session.expire_all()
    assert db.session.get(UserSession, row.id).last_seen_at == first_seen
    db.session.get(UserSession, row.id).last_seen_at = utcnow() - timedelta(minutes=2)
    db.session.commit()
    client.get("/cases")
    db.session.expire_all()
    assert db.session.get(UserSession, row.id).last_seen_at > first_seen


def test_a_password_change_ends_the_other_sessions_but_not_this_one(app: Flask, login) -> None:
    other, this = login("learner"), login("learner")
    new = "a brand new passphrase for me"
    response = this.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": new, "confirm_password": new},
    )
    assert response.status_code == 302
    assert this.get("/cases").status_code == 200 and other.get("/cases").status_code == 302


# -- throttling -----------------------------------------------------------------------------------
def test_a_stranger_elsewhere_cannot_lock_the_owner_out(app: Flask) -> None:
    ensure_user("admin")
    stranger = app.test_client()
    for _ in range(8):
        _sign_in(stranger, "admin@example.org", "wrong password!", address="203.0.113.9")
    assert _sign_in(stranger, "admin@example.org", PASSWORD, address="203.0.113.9").status_code == 429
    assert _sign_in(app.test_client(), "admin@example.org", PASSWORD, address="10.1.2.3").status_code == 302


def test_the_delay_grows_with_each_further_failure(app: Flask) -> None:
    from casestudies.accounts.throttle import delay_after

    assert [delay_after(n).total_seconds() for n in range(4, 12)] == [0, 30, 60, 120, 240, 480, 900, 900]
    ensure_user("learner")
    client = app.test_client()
    for _ in range(5):
        assert _sign_in(client, "learner@example.org", "wrong password!").status_code == 400
    assert _sign_in(client, "learner@example.org", PASSWORD).status_code == 429
    # Half a minute later one more try is checked; another failure doubles the wait.
    db.session.execute(text("UPDATE login_attempt SET created_at = :t"), {"t": utcnow() - timedelta(seconds=31)})
    db.session.commit()
    assert _sign_in(client, "learner@example.org", "wrong password!").status_code == 400
    refused = _sign_in(client, "learner@example.org", PASSWORD)
    assert refused.status_code == 429 and "wait 1 minute" in refused.get_data(as_text=True)
    db.session.execute(text("UPDATE login_attempt SET created_at = :t"), {"t": utcnow() - timedelta(seconds=61)})
    db.session.commit()
    assert _sign_in(client, "learner@example.org", PASSWORD).status_code == 302
    assert db.session.scalar(select(LoginAttempt).where(LoginAttempt.email == "learner@example.org")) is None


def test_the_current_password_check_is_throttled(app: Flask, login) -> None:
    client = login("learner")
    new = "a brand new passphrase for me"
    for _ in range(5):
        wrong = client.post(
            "/account/password",
            data={"current_password": "not my password", "new_password": new, "confirm_password": new},
        )
        assert wrong.status_code == 400
    right = client.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": new, "confirm_password": new}
    )
    assert right.status_code == 429 and "Too many failed attempts" in right.get_data(as_text=True)
    db.session.expire_all()
    assert ensure_user("learner").check_password(PASSWORD)


def test_parallel_wrong_passwords_cannot_overshoot_the_limit(tmp_path, migrated_db_template) -> None:
    """12 simultaneous wrong passwords through a real threaded server on an SQLite file: only
    the first five are checked, the rest are refused by throttling."""
    app = make_test_app(tmp_path, migrated_db_template, WTF_CSRF_ENABLED=False)
    with app.app_context():
        ensure_user("learner")
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/login"
    body = urllib.parse.urlencode({"email": "learner@example.org", "password": "wrong password!"}).encode()
    start = threading.Barrier(12)
    codes: list[int] = []

    def guess() -> None:
        start.wait()
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=30) as response:
                codes.append(response.status)
        except urllib.error.HTTPError as error:
            codes.append(error.code)

    try:
        threads = [threading.Thread(target=guess) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        server.shutdown()
        thread.join(5)
        with app.app_context():
            db.engine.dispose()
    # Never more than five passwords checked. (Fewer is possible when attempts see one
    # another in flight: refusing more is the safe side.)
    checked = codes.count(400)
    assert len(codes) == 12 and set(codes) <= {400, 429} and 1 <= checked <= 5, codes
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == checked
        db.engine.dispose()


# -- an admin-created account changes its password first -------------------------------------------
def test_an_admin_created_account_must_change_its_password_first(app: Flask, login) -> None:
    admin_client = login("admin")
    initial = "initial passphrase from admin"
    response = admin_client.post(
        "/admin/users/new",
        data={"name": "New Person", "email": "new@example.org", "role": "curator", "password": initial},
    )
    assert response.status_code == 302
    assert db.session.scalar(select(User).where(User.email == "new@example.org")).must_change_password
    client = app.test_client()
    assert _sign_in(client, "new@example.org", initial).status_code == 302
    for path in ("/", "/cases", "/search?q=porter"):
        answer = client.get(path)
        assert answer.status_code == 302 and answer.headers["Location"] == "/account/password", path
    page = client.get("/account/password")
    assert page.status_code == 200 and "Choose your own password" in page.get_data(as_text=True)
    own = "my very own passphrase now"
    changed = client.post(
        "/account/password", data={"current_password": initial, "new_password": own, "confirm_password": own}
    )
    assert changed.status_code == 302
    assert client.get("/cases").status_code == 200


def test_an_account_made_at_the_command_line_need_not_change_its_password(app: Flask) -> None:
    user = create_user("cli@example.org", role=Role.ADMIN, password=PASSWORD)
    assert not user.must_change_password
