"""The accessibility statement: public, linked from every page's footer, true about what is
tested (its list of pages is the route table's, which the reflow, axe and HTML checks walk),
and its "Accessibility problem" report reaches the curators' queue."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from casestudies.models import CaseReport
from casestudies.reports.accessibility import TESTED_PAGES
from casestudies.reports.accessibility import tested_endpoints as statement_pages

from .conftest import ensure_user
from .test_access import EXPECTED, _guide_for, _learning_for, _report_on, _url
from .test_html_validity import NOT_PAGES


def walked_pages() -> set[str]:
    """The page types tests/test_reflow_browser.py and tests/test_html_validity.py check:
    the route table's GET pages, and the sign-in page signed out."""
    return {e for e, (method, _) in EXPECTED.items() if method == "GET" and e not in NOT_PAGES} | {"auth.login"}


def test_the_statement_names_exactly_the_pages_the_suite_checks(client) -> None:
    assert statement_pages() == walked_pages()
    html = client.get("/accessibility").get_data(as_text=True)  # public: signed out too
    for group in TESTED_PAGES.values():
        for endpoint, name in group.items():
            assert f'<li data-endpoint="{endpoint}">{name}</li>'.replace("'", "&#39;") in html, endpoint
    for section in ("How accessible this service is", "Reporting accessibility problems", "Enforcement procedure",
                    "Compliance status", "Non-accessible content", "How we tested this service"):  # fmt: skip
        assert section in html
    for fact in ("axe-core", "Nu Html Checker", "keyboard", "screen readers", "PDF/UA-1", "320"):
        assert fact in html


def test_every_page_links_to_the_statement_in_its_footer(app: Flask, make_case, login) -> None:
    case = make_case()
    _report_on(case)
    admin = ensure_user("admin")
    _guide_for(admin, case)
    _learning_for(admin, case)
    link = re.compile(r'<a class="nhsuk-footer__list-item-link" href="/accessibility"\s*>Accessibility statement</a>')
    pages = {"/login": app.test_client().get("/login").get_data(as_text=True)}
    client = login("admin")
    for endpoint in walked_pages() - {"auth.login"}:
        pages[endpoint] = client.get(_url(app, endpoint)).get_data(as_text=True)
    # Printable views (print_base.html) are documents, not pages of the site: no site footer.
    printable = {page for page, html in pages.items() if "<footer" not in html}
    assert printable == {"library.case_print", "guides.print_view", "guides.shared_print", "guides.handout_print"}
    assert [page for page, html in pages.items() if page not in printable and not link.search(html)] == []


def test_an_accessibility_problem_reaches_the_curators_queue(app: Flask, login) -> None:
    learner = login("learner")
    page = learner.get("/accessibility").get_data(as_text=True)
    assert 'href="/accessibility/report"' in page
    assert learner.post("/accessibility/report", data={"page": "/search", "text": " "}).status_code == 400
    off_site = {"page": "https://evil.example/", "text": "The sort menu is announced twice"}
    response = learner.post("/accessibility/report", data=off_site)
    assert response.status_code == 302 and response.headers["Location"] == "/my-reports"
    report = app.extensions["sqlalchemy"].session.scalar(select(CaseReport))
    assert (report.case_id, report.page, report.reason) == (None, None, "accessibility")  # an off-site page is dropped
    learner.post("/accessibility/report", data={"page": "/search", "text": "Focus is lost after sorting"})
    mine = learner.get("/my-reports").get_data(as_text=True)
    assert "Page: /search" in mine and "Focus is lost after sorting" in mine
    curator = login("curator")
    queue = curator.get("/curate/reports").get_data(as_text=True)
    assert "Accessibility problem" in queue and "Page: /search" in queue
    refused = curator.post("/curate/reports/2", data={"outcome": "unpublished", "note": "?"})
    assert refused.status_code == 400 and "nothing to unpublish" in refused.get_data(as_text=True)
    done = curator.post("/curate/reports/2", data={"outcome": "fixed", "note": "Focus now stays on the menu."})
    assert done.status_code == 302
    assert "Focus now stays on the menu." in learner.get("/my-reports").get_data(as_text=True)
    assert login("learner").get("/accessibility/report?page=/cases").status_code == 200
    assert ensure_user("learner").id == report.reporter_id
