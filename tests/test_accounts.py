"""Accounts: admins create users, change roles, deactivate and reactivate them; everyone
changes their own password. There is always an active admin."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from casestudies.accounts import services as accounts
from casestudies.accounts.services import AccountError, authenticate
from casestudies.extensions import db
from casestudies.models import AuditEvent, Role, User

from .conftest import PASSWORD, ensure_user

NEW_PASSWORD = "purple otter kettle drum"


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def fresh(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


# -- services -----------------------------------------------------------------------------------------
def test_create_user_records_who_created_it(app: Flask) -> None:
    admin = ensure_user("admin")
    user = accounts.create_user("New.Person@Example.org", role=Role.FACILITATOR, password=NEW_PASSWORD, actor=admin)
    assert user.email == "new.person@example.org" and user.is_active
    event = events("user-create")[-1]
    assert event.actor_id == admin.id and "new.person@example.org" in event.detail and "facilitator" in event.detail


def test_create_user_still_works_without_an_actor_as_the_command_line_calls_it(app: Flask) -> None:
    accounts.create_user("cli@example.org", role=Role.LEARNER, password=NEW_PASSWORD)
    assert events("user-create")[-1].actor_label == "system (command line)"


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [
        ("not-an-email", NEW_PASSWORD, "email"),
        ("admin@example.org", NEW_PASSWORD, "email"),
        ("x@y.org", "short", "password"),
    ],
)
def test_create_user_says_which_field_is_wrong(app: Flask, email: str, password: str, field: str) -> None:
    ensure_user("admin")
    with pytest.raises(AccountError) as refused:
        accounts.create_user(email, role=Role.LEARNER, password=password)
    assert refused.value.field == field


def test_change_role_is_recorded(app: Flask) -> None:
    admin, learner = ensure_user("admin"), ensure_user("learner")
    assert accounts.change_role(learner, Role.CURATOR, admin)
    db.session.commit()
    assert fresh(learner).role == Role.CURATOR
    assert "learner → curator" in events("user-role")[-1].detail
    assert not accounts.change_role(learner, Role.CURATOR, admin)  # no change, no event
    assert len(events("user-role")) == 1


def test_an_admin_cannot_demote_themselves(app: Flask) -> None:
    admin = ensure_user("admin")
    ensure_user("admin", email="second-admin@example.org")
    with pytest.raises(AccountError, match="your own admin role"):
        accounts.change_role(admin, Role.CURATOR, admin)


def test_the_last_active_admin_stays_an_admin(app: Flask) -> None:
    only = ensure_user("admin")
    other = ensure_user("admin", email="other-admin@example.org")
    accounts.set_active(other, False, only)
    db.session.commit()
    # Defence in depth: whoever asks (here a deactivated admin, as a script might), the last
    # active admin can't be demoted.
    with pytest.raises(AccountError, match="only active admin"):
        accounts.change_role(only, Role.LEARNER, other)


def test_deactivate_and_reactivate(app: Flask) -> None:
    admin, curator = ensure_user("admin"), ensure_user("curator")
    assert accounts.set_active(curator, False, admin)
    db.session.commit()
    assert not fresh(curator).is_active
    assert authenticate(curator.email, PASSWORD) is None
    assert accounts.set_active(curator, True, admin)
    db.session.commit()
    assert authenticate(curator.email, PASSWORD) is not None
    assert [e.detail.split(": ")[-1] for e in events("user-active")] == ["deactivated", "reactivated"]


def test_an_admin_cannot_deactivate_themselves(app: Flask) -> None:
    admin = ensure_user("admin")
    with pytest.raises(AccountError, match="your own account"):
        accounts.set_active(admin, False, admin)


@pytest.mark.parametrize(
    ("current", "new", "confirm", "field", "message"),
    [
        ("wrong password here", NEW_PASSWORD, NEW_PASSWORD, "current_password", "not right"),
        (PASSWORD, "too short", "too short", "new_password", "at least 12"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "confirm_password", "not the same"),
        (PASSWORD, PASSWORD, PASSWORD, "new_password", "different"),
    ],
)
def test_a_password_change_needs_the_current_one_and_a_good_new_one_twice(
    app: Flask, current, new, confirm, field, message
) -> None:
    user = ensure_user("learner")
    with pytest.raises(AccountError, match=message) as refused:
        accounts.change_own_password(user, current, new, confirm)
    assert refused.value.field == field


def test_a_password_change_works_and_is_recorded(app: Flask) -> None:
    user = ensure_user("learner")
    accounts.change_own_password(user, PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    db.session.commit()
    assert authenticate(user.email, NEW_PASSWORD) is not None
    assert authenticate(user.email, PASSWORD) is None
    event = events("user-password")[-1]
    assert event.actor_id == user.id and PASSWORD not in event.detail and NEW_PASSWORD not in event.detail


# -- pages --------------------------------------------------------------------------------------------
def test_the_users_page_lists_everyone(login) -> None:
    client = login("admin")
    ensure_user("learner")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "learner@example.org" in page and "admin@example.org" in page and "(you)" in page


def test_an_admin_creates_an_account_and_it_can_sign_in(app: Flask, login) -> None:
    client = login("admin")
    response = client.post(
        "/admin/users/new",
        data={"name": "Dee Nurse", "email": "dee@example.org", "role": "facilitator", "password": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert "Created the account of Dee Nurse" in client.get("/admin/users").get_data(as_text=True)
    user = authenticate("dee@example.org", NEW_PASSWORD)
    assert user is not None and user.role == Role.FACILITATOR and user.name == "Dee Nurse"
    assert events("user-create")[-1].actor_id == ensure_user("admin").id


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"name": "", "email": "a@example.org", "role": "learner", "password": NEW_PASSWORD},
            "Enter the person’s name",
        ),
        ({"name": "Al", "email": "nope", "role": "learner", "password": NEW_PASSWORD}, "Enter an email address like"),
        ({"name": "Al", "email": "learner@example.org", "role": "learner", "password": NEW_PASSWORD}, "already exists"),
        ({"name": "Al", "email": "a@example.org", "role": "learner", "password": "short"}, "at least 12 characters"),
        ({"name": "Al", "email": "a@example.org", "role": "emperor", "password": NEW_PASSWORD}, "Choose a role"),
    ],
)
def test_a_refused_new_account_keeps_what_was_typed(login, data: dict[str, str], message: str) -> None:
    ensure_user("learner")
    response = login("admin").post("/admin/users/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "nhsuk-error-summary" in page and message in page
    if data["name"]:
        assert f'value="{data["name"]}"' in page
    assert f'value="{data["email"]}"' in page
    assert data["password"] not in page  # a password is never sent back


def test_change_a_role_on_the_page_and_not_ones_own_admin_role(login) -> None:
    client = login("admin")
    learner = ensure_user("learner")
    response = client.post(f"/admin/users/{learner.id}/role", data={"role": "curator"})
    assert response.status_code == 302 and fresh(learner).role == Role.CURATOR
    admin = ensure_user("admin")
    response = client.post(f"/admin/users/{admin.id}/role", data={"role": "learner"})
    assert response.status_code == 400 and "your own admin role" in response.get_data(as_text=True)
    assert fresh(admin).role == Role.ADMIN
    assert client.post(f"/admin/users/{learner.id}/role", data={"role": "king"}).status_code == 400


def test_a_user_deactivated_on_the_page_is_signed_out_at_their_next_request(login) -> None:
    curator_client = login("curator")
    assert curator_client.get("/tags/").status_code == 200
    admin_client = login("admin")
    curator = ensure_user("curator")
    confirm_page = admin_client.get(f"/admin/users/{curator.id}/deactivate").get_data(as_text=True)
    assert "signed out at once" in confirm_page  # it asks first
    assert admin_client.post(f"/admin/users/{curator.id}/deactivate").status_code == 302
    response = curator_client.get("/tags/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert curator_client.post("/login", data={"email": curator.email, "password": PASSWORD}).status_code != 302
    # Reactivated, they can sign in again.
    assert admin_client.post(f"/admin/users/{curator.id}/reactivate").status_code == 302
    assert curator_client.post("/login", data={"email": curator.email, "password": PASSWORD}).status_code == 302


def test_an_admin_cannot_deactivate_themselves_on_the_page(login) -> None:
    client = login("admin")
    admin = ensure_user("admin")
    assert "can’t deactivate your own account" in client.get(f"/admin/users/{admin.id}/deactivate").get_data(
        as_text=True
    )
    response = client.post(f"/admin/users/{admin.id}/deactivate")
    assert response.status_code == 400 and fresh(admin).is_active


def test_an_unknown_user_is_a_404(login) -> None:
    client = login("admin")
    assert client.get("/admin/users/999").status_code == 404
    assert client.post("/admin/users/999/role", data={"role": "admin"}).status_code == 404


@pytest.mark.parametrize("role", ["learner", "facilitator", "curator", "admin"])
def test_everyone_can_change_their_own_password(app: Flask, login, role: str) -> None:
    client = login(role)
    assert 'href="/account/password"' in client.get("/").get_data(as_text=True)
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert authenticate(f"{role}@example.org", NEW_PASSWORD) is not None


def test_a_refused_password_change_says_why_beside_the_field(login) -> None:
    client = login("learner")
    response = client.post(
        "/account/password",
        data={"current_password": "wrong one entirely", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "nhsuk-error-summary" in page and 'href="#current_password"' in page and "not right" in page
    assert authenticate("learner@example.org", PASSWORD) is not None
