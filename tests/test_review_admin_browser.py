"""Issue 28 in a real browser (CSRF on): an admin corrects a user's name and email on the
account's page, beside its sessions; a refusal keeps what was typed; axe-core finds nothing."""

from __future__ import annotations

import pytest
from flask import Flask

from casestudies.extensions import db

from .conftest import axe_violations, ensure_user, sign_in

pytestmark = pytest.mark.browser


def test_an_admin_corrects_a_name_and_email_with_a_refusal_first(library: Flask, page) -> None:
    with library.app_context():
        ensure_user("admin")
        curator_id = ensure_user("curator").id
        ensure_user("learner", email="casey@example.org")
        db.session.remove()
    sign_in(page, "admin")
    page.goto(f"/admin/users/{curator_id}")
    assert page.get_by_role("heading", name="Sessions").is_visible()
    page.get_by_label("Full name").fill("Casey Curator")
    page.get_by_label("Email address").fill("c\u0430sey@example.org")  # a Cyrillic "а"
    page.get_by_role("button", name="Save the name and email address").click()
    summary = page.locator(".nhsuk-error-summary")
    assert "looks the same" in summary.inner_text()
    assert page.get_by_label("Full name").input_value() == "Casey Curator"
    assert axe_violations(page) == []
    summary.get_by_role("link").first.click()  # the summary leads to the field
    assert page.evaluate("document.activeElement.id") == "email"
    page.get_by_label("Email address").fill("casey.curator@example.org")
    page.get_by_role("button", name="Save the name and email address").click()
    assert "Saved the name and email address" in page.locator(".app-flash").inner_text()
    assert page.get_by_role("heading", name="Casey Curator").is_visible()
