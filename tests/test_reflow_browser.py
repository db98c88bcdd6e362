"""Reflow (WCAG 2.2, 1.4.10): every page type at 320 and 375 CSS px, signed in as an admin
with the sample library loaded, never scrolls sideways; a wide table scrolls inside its own
labelled, focusable region. axe-core runs on each page at both widths. The pages are the route
table's GET routes, as the HTML validity walk takes them (tests/test_html_validity.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from casestudies.extensions import db
from casestudies.indexing import catch_up
from casestudies.models import Case

from .conftest import axe_violations, ensure_user, make_test_app, serving, sign_in
from .test_access import EXPECTED, _export_job_for, _guide_for, _import_job_for, _learning_for, _report_on, _url
from .test_html_validity import NOT_PAGES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = (320, 375)


def reflow_pages(app: Flask) -> list[str]:
    """The URL of every page type an admin opens: the route table's GET routes that answer HTML."""
    gets = [endpoint for endpoint, (method, _) in EXPECTED.items() if method == "GET"]
    return [_url(app, endpoint) for endpoint in gets if endpoint not in NOT_PAGES]


@pytest.fixture
def full_library(tmp_path: Path, migrated_db_template: Path) -> Iterator[Flask]:
    """The live server holding the route table's sample objects (case 1, report 1, guide 1, list 1,
    reflection 1, CPD entry 1, collection 1, all the admin's) and then the sample library, so that
    tables have their real widths (the coverage grid's nine dimensions, the audit log's rows)."""
    from casestudies.cases.revisions import save_case_data
    from casestudies.cli import SAMPLE_DIR
    from casestudies.transfer.casefile import read_bundle
    from casestudies.transfer.services import import_cases

    from .conftest import case_data

    app = make_test_app(tmp_path, migrated_db_template)
    with app.app_context():
        case, _ = save_case_data(case_data(), actor=None)
        db.session.commit()
        _report_on(case)
        admin = ensure_user("admin")
        _guide_for(admin, case)
        _learning_for(admin, case)
        _import_job_for(admin)
        _export_job_for(admin)
        import_cases(read_bundle(SAMPLE_DIR), actor=None, publish=True)
        db.session.commit()
        catch_up(app)
        assert db.session.get(Case, 1).slug == "porter-discharge-lounge"
        db.session.remove()
    yield from serving(app)


def sideways(page: Any) -> list[str]:
    """How far the page scrolls sideways, and the widest elements that make it, if it does."""
    return page.evaluate(
        """() => {
            const root = document.documentElement, width = root.clientWidth;
            if (root.scrollWidth <= width) return [];
            const wide = [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > width + 1)
                .filter(e => !(e.parentElement && e.parentElement.closest('.app-table-scroll')))
                .map(e => e.tagName.toLowerCase() + (e.className && e.className.baseVal === undefined
                    ? '.' + String(e.className).trim().split(/\\s+/).join('.') : '')
                    + ' ' + Math.round(e.getBoundingClientRect().right));
            return [`page ${root.scrollWidth} px wide in ${width}`, ...wide.slice(0, 6)];
        }"""
    )


def test_no_page_scrolls_sideways_at_320_or_375_px_and_axe_passes(full_library: Flask, playwright_browser) -> None:
    urls = reflow_pages(full_library)
    assert len(urls) > 40
    context = playwright_browser.new_context(
        base_url=full_library.config["LIVE_URL"], viewport={"width": WIDTHS[0], "height": 640}
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: dict[str, Any] = {}
    page.goto("/login")
    for width in WIDTHS:  # the sign-in page, signed out
        page.set_viewport_size({"width": width, "height": 640})
        if found := sideways(page):
            problems[f"/login at {width}"] = found
        if violations := axe_violations(page):
            problems[f"/login at {width}: axe"] = violations
    sign_in(page, "admin")
    for url in urls:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 640})
            if found := sideways(page):
                problems[f"{url} at {width}"] = found
            if violations := axe_violations(page):
                problems[f"{url} at {width}: axe"] = violations
    context.close()
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
