"""Single sign-on in a real browser: the sign-in page (both options, axe-core), then the
whole redirect flow through the OpenID provider the suite starts, back signed in with the
role the groups map to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from casestudies.extensions import db

from .conftest import axe_violations, make_test_app, serving
from .oidc_fixtures import oidc_settings

pytestmark = pytest.mark.browser


@pytest.fixture
def sso_server(tmp_path: Path, migrated_db_template, oidc_provider: str) -> Iterator[Flask]:
    """The app with CSRF on and single sign-on set up, served on 127.0.0.1."""
    app = make_test_app(tmp_path, migrated_db_template, **oidc_settings(oidc_provider))
    yield from serving(app)


@pytest.fixture
def sso_page(playwright_browser: Any, sso_server: Flask) -> Iterator[Any]:
    context = playwright_browser.new_context(base_url=sso_server.config["LIVE_URL"])
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_the_sign_in_page_with_both_options_is_accessible(sso_page) -> None:
    sso_page.goto("/login")
    assert sso_page.get_by_role("button", name="Sign in with your organisation account").is_visible()
    assert sso_page.get_by_label("Email address").is_visible() and sso_page.get_by_label("Password").is_visible()
    assert axe_violations(sso_page) == []


def test_the_whole_redirect_flow_signs_in_with_the_mapped_role(sso_page, sso_server: Flask) -> None:
    sso_page.goto("/curate/")  # a curator's page: sign in first, then back here
    sso_page.wait_for_url("**/login?next=*")
    sso_page.get_by_role("button", name="Sign in with your organisation account").click()
    sso_page.wait_for_url(sso_server.config["OIDC_ISSUER"] + "/interaction/**")
    sso_page.get_by_label("Login name").fill("alice")
    sso_page.get_by_role("button", name="Sign in to the test provider").click()
    sso_page.wait_for_url(sso_server.config["LIVE_URL"] + "/curate/")
    assert sso_page.get_by_role("button", name="Sign out").is_visible()
    with sso_server.app_context():
        from sqlalchemy import select

        from casestudies.models import Role, User

        alice = db.session.scalar(select(User).where(User.email == "alice@trust.example"))
        assert alice is not None and alice.role == Role.CURATOR
        db.session.remove()


def test_no_access_page_is_accessible(sso_page, sso_server: Flask) -> None:
    sso_page.goto("/login")
    sso_page.get_by_role("button", name="Sign in with your organisation account").click()
    sso_page.get_by_label("Login name").fill("carol")
    sso_page.get_by_role("button", name="Sign in to the test provider").click()
    sso_page.get_by_role("heading", name="You don’t have access to the case library").wait_for()
    assert axe_violations(sso_page) == []
