"""The notifications page in a real browser (CSRF on): the header's unread count, marking
one read, following one to the thing itself, the choices page; axe-core on each."""

from __future__ import annotations

import pytest
from flask import Flask

from casestudies.extensions import db
from casestudies.models import Case, CaseReport
from casestudies.reports import services as reports

from .conftest import axe_violations, ensure_user, sign_in

pytestmark = pytest.mark.browser


def test_unread_count_mark_read_and_follow_a_link(library: Flask, page) -> None:
    with library.app_context():
        learner = ensure_user("learner")
        curator = ensure_user("curator")
        case = db.session.scalar(db.select(Case).where(Case.is_published).limit(1))
        for text in ("A typo", "A broken link"):
            report, _ = reports.report_problem(case, learner, reports.ReportInput("other", text))
            reports.resolve_report(report, curator, reports.ResolutionInput("fixed", f"Fixed: {text}"))
        db.session.commit()
        assert db.session.scalar(db.select(db.func.count(CaseReport.id))) == 2
        db.session.remove()
    sign_in(page, "learner")
    count = page.locator("#unread-count")
    assert count.inner_text().replace("\n", " ").startswith("2")
    page.locator("#header-account").get_by_role("link", name="Notifications").click()
    page.get_by_role("heading", name="Notifications", exact=True).wait_for()
    assert "2 unread" in page.locator("#notifications-status").inner_text()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Mark as read").first.click()
    page.get_by_role("heading", name="Notifications", exact=True).wait_for()
    assert "1 unread" in page.locator("#notifications-status").inner_text()
    assert page.locator("#unread-count").inner_text().startswith("1")
    # Following the unread one leads to the thing itself, and marks it read.
    page.locator(".app-notification--unread h2 a").click()
    page.get_by_role("heading", name="My reports").wait_for()
    assert page.locator("#unread-count").count() == 0
    page.goto("/notifications/preferences")
    assert axe_violations(page) == []
    page.get_by_role("group", name="A problem you reported was resolved").get_by_label("In the app only").check()
    page.get_by_role("button", name="Save choices").click()
    assert "saved" in page.locator(".app-flash").inner_text()
