"""An admin sees where someone is signed in and ends a session, in a real browser (CSRF on),
with axe-core on the account page that lists sessions."""

from __future__ import annotations

import pytest
from flask import Flask

from casestudies.extensions import db

from .conftest import axe_violations, ensure_user, sign_in

pytestmark = pytest.mark.browser


def test_an_admin_ends_a_learners_session(library: Flask, page, playwright_browser) -> None:
    learner_context = playwright_browser.new_context(base_url=library.config["LIVE_URL"])
    learner_page = learner_context.new_page()
    try:
        sign_in(learner_page, "learner")
        with library.app_context():
            learner_id = ensure_user("learner").id
            db.session.remove()
        sign_in(page, "admin")
        page.goto(f"/admin/users/{learner_id}")
        page.get_by_role("heading", name="Sessions").wait_for()
        assert page.locator("#sessions + p + .app-table-scroll table tbody tr").count() == 1
        assert axe_violations(page) == []
        page.get_by_role("button", name="End the session").click()
        page.get_by_text("Ended a session of").wait_for()
        assert page.get_by_text("is not signed in anywhere").is_visible()
        learner_page.goto("/cases")
        assert "/login" in learner_page.url
    finally:
        learner_context.close()
