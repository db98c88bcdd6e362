"""The import page's "Search index" section follows the indexer by itself (a small script
asking /transfer/progress every second), and keeps its "Check again" link without
JavaScript."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from casestudies.cases.revisions import save_case_data
from casestudies.extensions import db
from casestudies.indexing import start_follower, stop_follower

from .conftest import axe_violations, case_data, ensure_user, sign_in

STATUS = "#search-index + .app-index-progress [role=status]"


def _changes_waiting(app: Flask, count: int) -> None:
    """count committed changes this server's indexer has not applied (it is stopped)."""
    stop_follower(app)
    with app.app_context():
        ensure_user("curator")
        for n in range(count):
            save_case_data(case_data(slug=f"waiting-{n}", title=f"Waiting case {n}"), actor=None)
        db.session.commit()
        db.session.remove()


def test_the_progress_endpoint_says_how_far_the_indexer_is(app: Flask, login) -> None:
    _changes_waiting(app, 2)
    assert login("learner").get("/transfer/progress").status_code == 403
    answer = login("curator").get("/transfer/progress")
    assert answer.status_code == 200
    assert answer.json is not None and answer.json["pending"] == 2


@pytest.mark.browser
def test_the_import_page_follows_the_indexer_by_itself(live_server: Flask, page: Any) -> None:
    _changes_waiting(live_server, 3)
    sign_in(page, "curator")
    page.goto("/transfer/")
    status = page.locator(STATUS)
    assert "3 changes still to index" in status.inner_text()
    assert status.get_attribute("aria-live") == "polite"
    assert page.get_by_label("Indexed since this page opened").is_visible()
    page.get_by_role("link", name="Check again").wait_for(state="hidden")  # the script refreshes instead
    assert axe_violations(page) == []

    page.evaluate("window.sameDocument = true")
    start_follower(live_server)
    page.wait_for_function(
        "selector => document.querySelector(selector).textContent.includes('up to date')", arg=STATUS, timeout=10_000
    )
    assert page.evaluate("window.sameDocument") is True  # updated in place, not reloaded
    bar = page.locator("#index-progress")
    assert bar.evaluate("bar => bar.value === bar.max")
    assert axe_violations(page) == []


@pytest.mark.browser
def test_without_javascript_the_check_again_link_stays(live_server: Flask, playwright_browser: Any) -> None:
    _changes_waiting(live_server, 1)
    context = playwright_browser.new_context(base_url=live_server.config["LIVE_URL"], java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, "curator")
        page.goto("/transfer/")
        assert "1 change still to index" in page.locator(STATUS).inner_text()
        assert page.get_by_role("link", name="Check again").is_visible()
    finally:
        context.close()
