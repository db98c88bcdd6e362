"""Issue 28, accounts: a provider's email address is used only when verified, look-alike
addresses are refused, single sign-on names and addresses follow the provider, and an admin
can correct a user's name and email or move a local account to single sign-on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from casestudies.accounts import oidc
from casestudies.accounts import services as accounts
from casestudies.extensions import db
from casestudies.models import AuditEvent, Role, User, UserSession

from .conftest import PASSWORD, app_context_for, ensure_user, make_test_app
from .oidc_fixtures import oidc_settings

ISSUER = "http://127.0.0.1:9"  # never reached: these tests hand verified claims to the service


@pytest.fixture
def sso_app(tmp_path: Path, migrated_db_template) -> Iterator[Flask]:
    app = make_test_app(tmp_path, migrated_db_template, WTF_CSRF_ENABLED=False, **oidc_settings(ISSUER))
    with app_context_for(app):
        yield app


def _claims(subject: str = "sub-1", **overrides: Any) -> dict[str, Any]:
    return {
        "iss": ISSUER,
        "sub": subject,
        "email": "alice@trust.example",
        "email_verified": True,
        "name": "Alice Curator",
        "groups": ["grp-staff"],
        **overrides,
    }


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _users() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0


def test_an_unverified_provider_address_gets_no_account(sso_app: Flask) -> None:
    before = _users()
    for verified in (None, False, "false"):
        claims = _claims()
        if verified is None:
            del claims["email_verified"]
        else:
            claims["email_verified"] = verified
        with pytest.raises(oidc.NoAccess, match="not been verified"):
            oidc.account_for(claims)
    assert _users() == before
    assert "not verified" in _events("sign-in-refused")[-1].detail
    # ...so the real person's account can still be made.
    admin = ensure_user("admin")
    accounts.create_user("alice@trust.example", role=Role.LEARNER, password=PASSWORD, actor=admin)


def test_a_setting_relaxes_it_for_providers_that_never_send_it(sso_app: Flask) -> None:
    sso_app.config["OIDC_REQUIRE_VERIFIED_EMAIL"] = False
    claims = _claims()
    del claims["email_verified"]
    assert oidc.account_for(claims).email == "alice@trust.example"


def test_a_lookalike_address_is_refused_when_an_admin_creates_an_account(app: Flask) -> None:
    admin = ensure_user("admin")
    accounts.create_user("alice@example.org", role=Role.LEARNER, password=PASSWORD, actor=admin)
    for lookalike in ("\u0430lice@example.org", "ALICE@ex\u0430mple.org", "\uff41lice@example.org"):
        with pytest.raises(accounts.AccountError, match="looks the same"):
            accounts.create_user(lookalike, role=Role.LEARNER, password=PASSWORD, actor=admin)
    # Plainly different addresses are fine, even when they look a little alike in ASCII.
    accounts.create_user("a1ice@example.org", role=Role.LEARNER, password=PASSWORD, actor=admin)


def test_a_lookalike_address_from_the_provider_is_refused(sso_app: Flask) -> None:
    ensure_user("learner", email="alice@trust.example")
    before = _users()
    with pytest.raises(oidc.NoAccess, match="looks the same"):
        oidc.account_for(_claims(email="\u0430lice@trust.example"))
    assert _users() == before


def test_name_and_email_follow_the_provider_at_later_sign_ins(sso_app: Flask) -> None:
    user = oidc.account_for(_claims())
    db.session.commit()
    again = oidc.account_for(_claims(name="Alice Married-Name", email="alice.mn@trust.example"))
    assert again is user and (user.name, user.email) == ("Alice Married-Name", "alice.mn@trust.example")
    [event] = _events("user-details")
    assert "alice@trust.example" in event.detail and "alice.mn@trust.example" in event.detail
    # An unverified or taken address is not taken; the name still follows.
    ensure_user("learner", email="bob@trust.example")
    oidc.account_for(_claims(name="Alice M", email="bob@trust.example"))
    oidc.account_for(_claims(name="Alice M", email="new@trust.example", email_verified=False))
    assert (user.name, user.email) == ("Alice M", "alice.mn@trust.example")


def test_an_admin_corrects_a_users_name_and_email(app: Flask, login) -> None:
    client = login("admin")
    user = ensure_user("learner")
    ensure_user("facilitator")
    response = client.post(
        f"/admin/users/{user.id}/details", data={"name": "  Lee   Learner ", "email": "Lee.Learner@Example.org"}
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert (user.name, user.email) == ("Lee Learner", "lee.learner@example.org")
    [event] = _events("user-details")
    assert event.actor_id == ensure_user("admin").id and "learner@example.org" in event.detail
    assert client.post("/login", data={"email": "lee.learner@example.org", "password": PASSWORD}).status_code == 302
    for email, message in (
        ("facilitator@example.org", "already exists"),
        ("f\u0430cilitator@example.org", "looks the same"),
        ("not an address", "like name@example.org"),
    ):
        refused = client.post(f"/admin/users/{user.id}/details", data={"name": "Lee", "email": email})
        assert refused.status_code == 400 and message in refused.get_data(as_text=True), email
    db.session.refresh(user)
    assert user.email == "lee.learner@example.org"


def test_the_user_page_offers_details_and_sessions_together(app: Flask, login) -> None:
    admin_client = login("admin")
    login("learner")  # a session of the learner's to see
    page = admin_client.get(f"/admin/users/{ensure_user('learner').id}").get_data(as_text=True)
    assert 'action="/admin/users/' in page and "/details" in page and "End all sessions of" in page


def test_an_admin_moves_a_local_account_to_single_sign_on_linked_at_first_sign_in(sso_app: Flask) -> None:
    admin = ensure_user("admin")
    learner = ensure_user("learner", email="alice@trust.example")
    learner_client = sso_app.test_client()
    learner_client.post("/login", data={"email": learner.email, "password": PASSWORD})
    admin_client = sso_app.test_client()
    admin_client.post("/login", data={"email": admin.email, "password": PASSWORD})
    response = admin_client.post(f"/admin/users/{learner.id}/single-sign-on")
    assert response.status_code == 302
    db.session.refresh(learner)
    assert learner.is_single_sign_on and learner.password_hash == "" and learner.oidc_subject is None
    assert learner_client.get("/cases").status_code == 302  # signed out
    assert (
        db.session.scalar(select(func.count()).where(UserSession.user_id == learner.id, UserSession.ended_at.is_(None)))
        == 0
    )
    assert sso_app.test_client().post("/login", data={"email": learner.email, "password": PASSWORD}).status_code == 400
    assert "single sign-on" in _events("user-sign-in-method")[-1].detail
    # The first sign-in with the organisation account links it: the same account, no new one.
    before = _users()
    linked = oidc.account_for(_claims(subject="alice-sub"))
    assert linked.id == learner.id and learner.oidc_subject == "alice-sub" and _users() == before
    # ...but only by a verified address.
    admin_client.post(f"/admin/users/{ensure_user('facilitator', email='fay@trust.example').id}/single-sign-on")
    with pytest.raises(oidc.NoAccess):
        oidc.account_for(_claims(subject="fay-sub", email="fay@trust.example", email_verified=False))
    # An admin can't move themselves, nor anyone when single sign-on is off.
    assert admin_client.post(f"/admin/users/{admin.id}/single-sign-on").status_code == 400


def test_moving_to_single_sign_on_needs_it_set_up(app: Flask, login) -> None:
    client = login("admin")
    learner = ensure_user("learner")
    response = client.post(f"/admin/users/{learner.id}/single-sign-on")
    assert response.status_code == 400 and "not set up" in response.get_data(as_text=True)
    db.session.refresh(learner)
    assert not learner.is_single_sign_on and learner.password_hash
