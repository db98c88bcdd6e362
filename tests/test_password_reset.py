"""Password reset (casestudies/accounts/reset.py): the same answer whether or not the
address has an account; a signed link valid 30 minutes and once; setting the password ends
every session; single sign-on accounts are told to use their organisation's sign-in;
requests are throttled; an admin can send a link; links use SITE_URL, never the Host."""

from __future__ import annotations

import email
import re
import time
from email.message import Message
from pathlib import Path

import pytest
from flask import Flask

from casestudies.accounts import reset
from casestudies.accounts.services import AccountError
from casestudies.extensions import db
from casestudies.jobs import run_jobs
from casestudies.models import AuditEvent, User
from casestudies.models.jobs import Job

from .conftest import PASSWORD, ensure_user

NEW_PASSWORD = "a brand new passphrase for the library"


def _mails(app: Flask) -> list[Message]:
    run_jobs(app)
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(Path(app.config["MAIL_DIR"]).glob("*.eml"))]


def _text(message: Message) -> str:
    part = message if not message.is_multipart() else message.get_payload(0)
    return part.get_payload(decode=True).decode()


def _link(message: Message) -> str:
    match = re.search(r"https?://\S+/login/reset/\S+", _text(message))
    assert match, _text(message)
    return match.group(0)


def _sso_user() -> User:
    user = ensure_user("learner", email="sso@example.org")
    user.password_hash, user.oidc_issuer = "", "https://id.example.org"
    db.session.commit()
    return user


def _ask(client, address: str):
    return client.post("/login/forgot", data={"email": address})


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(app: Flask, client) -> None:
    ensure_user("learner")
    _sso_user()
    ensure_user("curator", email="gone@example.org", active=False)
    answers = {}
    for address in ("learner@example.org", "nobody@example.org", "sso@example.org", "gone@example.org"):
        response = _ask(client, address)
        answers[address] = (response.status_code, response.get_data(as_text=True).replace(address, "ADDRESS"))
    assert len(set(answers.values())) == 1, "every address gets the same page"
    assert answers["nobody@example.org"][0] == 200 and "Check your email" in answers["nobody@example.org"][1]
    mails = _mails(app)
    assert sorted(m["To"] for m in mails) == ["learner@example.org", "sso@example.org"]
    by_to = {m["To"]: m for m in mails}
    assert by_to["learner@example.org"]["Subject"] == reset.SUBJECT and "30 minutes" in _text(
        by_to["learner@example.org"]
    )
    sso = _text(by_to["sso@example.org"])
    assert "organisation account" in sso and "/login/reset/" not in sso
    assert by_to["learner@example.org"]["List-Unsubscribe"] is None  # not a notification: no unsubscribing
    # Tried only while the link lives (about 30 minutes of retries), not for hours.
    assert {job.max_attempts for job in db.session.query(Job)} == {reset.MAIL_ATTEMPTS}
    events = db.session.query(AuditEvent).filter_by(action="password-reset").all()
    assert any("nobody@example.org" in e.detail for e in events) and len(events) == 3


def test_a_link_sets_a_new_password_once_and_ends_every_session(app: Flask, login, client) -> None:
    user = ensure_user("learner")
    elsewhere = login("learner")
    assert elsewhere.get("/").status_code == 200
    _ask(client, user.email)
    [message] = _mails(app)
    link = _link(message)
    followed = client.get(link)
    # The token leaves the address at once: the form's page has none in its URL.
    assert followed.status_code == 302 and followed.headers["Location"] == "/login/reset"
    page = client.get("/login/reset")
    assert page.status_code == 200 and user.email in page.get_data(as_text=True)
    done = client.post("/login/reset", data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert elsewhere.get("/").status_code == 302  # the other session ended
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 400
    assert client.post("/login", data={"email": user.email, "password": NEW_PASSWORD}).status_code == 302
    again = client.get(link)  # used up
    assert again.status_code == 400 and "expired or has already been used" in again.get_data(as_text=True)
    assert db.session.query(AuditEvent).filter_by(action="user-password").count() == 1


def test_a_link_expires_after_30_minutes(app: Flask, monkeypatch) -> None:
    user = ensure_user("learner")
    start = time.time()
    monkeypatch.setattr(reset, "_clock", lambda: start)
    token = reset.make_token(user)
    monkeypatch.setattr(reset, "_clock", lambda: start + 29 * 60 + 59)
    assert reset.user_for_token(token) == user
    monkeypatch.setattr(reset, "_clock", lambda: start + 30 * 60 + 1)
    with pytest.raises(reset.ResetLinkInvalid):
        reset.user_for_token(token)


def test_a_link_dies_when_the_password_address_or_access_changes(app: Flask) -> None:
    user = ensure_user("learner")
    older, newer = reset.make_token(user), reset.make_token(user)
    reset.reset_password(newer, NEW_PASSWORD, NEW_PASSWORD)
    db.session.commit()
    for token in (older, newer):  # using one link used up every link sent before it
        with pytest.raises(reset.ResetLinkInvalid):
            reset.user_for_token(token)
    token = reset.make_token(user)
    user.email = "moved@example.org"
    with pytest.raises(reset.ResetLinkInvalid):
        reset.user_for_token(token)
    token = reset.make_token(user)
    user.is_active = False
    with pytest.raises(reset.ResetLinkInvalid):
        reset.user_for_token(token)
    for forged in ("", "x" * 500, token[:-2] + "xx", token.replace(".", "!", 1)):
        with pytest.raises(reset.ResetLinkInvalid):
            reset.user_for_token(forged)


def test_the_password_rules_apply_and_a_refused_password_leaves_the_link_valid(app: Flask, client) -> None:
    user = ensure_user("learner")
    client.get(f"/login/reset/{reset.make_token(user)}")
    short = client.post("/login/reset", data={"new_password": "short", "confirm_password": "short"})
    assert short.status_code == 400 and "at least 12 characters" in short.get_data(as_text=True)
    different = client.post("/login/reset", data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD + "!"})
    assert different.status_code == 400 and "not the same" in different.get_data(as_text=True)
    done = client.post("/login/reset", data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(NEW_PASSWORD)


def test_single_sign_on_accounts_have_no_password_to_reset(app: Flask) -> None:
    user = ensure_user("learner", email="sso@example.org")
    token = reset.make_token(user)  # made while it had a password...
    _sso_user()  # ...then moved to single sign-on
    with pytest.raises(reset.ResetLinkInvalid):
        reset.user_for_token(token)
    with pytest.raises(AccountError, match="organisation account"):
        reset.send_reset_link(user, ensure_user("admin"))


def test_requests_are_throttled_as_sign_ins_are_whether_or_not_the_account_exists(app: Flask, client) -> None:
    ensure_user("learner")
    for address in ("learner@example.org", "nobody@example.org"):
        codes = [_ask(client, address).status_code for _ in range(6)]
        assert codes == [200] * 5 + [429], (address, codes)
    assert len(_mails(app)) == 5
    assert "Too many requests" in _ask(client, "learner@example.org").get_data(as_text=True)


def test_setting_a_password_with_a_link_forgets_earlier_wrong_guesses(app: Flask, client) -> None:
    user = ensure_user("learner")
    for _ in range(6):
        client.post("/login", data={"email": user.email, "password": "wrong password, again"})
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 429
    reset.reset_password(reset.make_token(user), NEW_PASSWORD, NEW_PASSWORD)
    db.session.commit()
    assert client.post("/login", data={"email": user.email, "password": NEW_PASSWORD}).status_code == 302


def test_an_admin_sends_a_reset_link(app: Flask, login) -> None:
    admin = login("admin")
    user = ensure_user("learner")
    page = admin.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Send a password reset link" in page
    response = admin.post(f"/admin/users/{user.id}/password-reset")
    assert response.status_code == 302
    [message] = _mails(app)
    assert message["To"] == user.email and "An administrator" in _text(message)
    assert reset.user_for_token(_link(message).rsplit("/", 1)[1]) == user
    sso = _sso_user()
    assert "Send a password reset link" not in admin.get(f"/admin/users/{sso.id}").get_data(as_text=True)
    refused = admin.post(f"/admin/users/{sso.id}/password-reset")
    assert refused.status_code == 400 and db.session.query(Job).count() == 1
    assert login("learner").post(f"/admin/users/{user.id}/password-reset").status_code == 403


def test_links_use_site_url_not_the_requests_host(app: Flask, client) -> None:
    ensure_user("learner")
    app.config["SITE_URL"] = "https://seat.example.org/"
    client.post("/login/forgot", data={"email": "learner@example.org"}, headers={"Host": "attacker.example"})
    [message] = _mails(app)
    assert _link(message).startswith("https://seat.example.org/login/reset/")


def test_the_sign_in_page_links_to_the_reset_page_unless_passwords_are_off(app: Flask, client) -> None:
    assert 'href="/login/forgot"' in client.get("/login").get_data(as_text=True)
    app.config["LOCAL_LOGIN_ENABLED"] = False
    assert 'href="/login/forgot"' not in client.get("/login").get_data(as_text=True)
    assert client.get("/login/forgot").status_code == 404


def test_a_throttled_sign_in_points_to_forgot_your_password(app: Flask, client, login) -> None:
    ensure_user("learner")
    for _ in range(5):
        client.post("/login", data={"email": "learner@example.org", "password": "wrong password!"})
    refused = client.post("/login", data={"email": "learner@example.org", "password": PASSWORD})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429 and "choose “Forgot your password?” below" in page
    assert "ask an administrator" not in page and 'href="/login/forgot"' in page
    # Signed in, changing the password: the reset is on the sign-in page.
    signed_in = login("facilitator")
    new = "a brand new passphrase for me"
    for _ in range(5):
        signed_in.post(
            "/account/password", data={"current_password": "not mine", "new_password": new, "confirm_password": new}
        )
    refused = signed_in.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": new, "confirm_password": new}
    )
    assert refused.status_code == 429
    assert "choose “Forgot your password?” on the sign-in page" in refused.get_data(as_text=True)
