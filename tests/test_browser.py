"""In a real browser (Debian's chromium through Playwright): sign in, search, open a case,
keyboard use, and axe-core on every page type."""

from __future__ import annotations

import pytest
from flask import Flask

from .conftest import PASSWORD, axe_violations, sign_in

pytestmark = pytest.mark.browser


def test_sign_in_search_and_open_a_case(library: Flask, page) -> None:
    page.goto("/cases")
    assert "/login" in page.url
    sign_in(page)
    assert page.locator("body").get_attribute("class") and "nhsuk-frontend-supported" in page.locator(
        "body"
    ).get_attribute("class")
    page.locator("#home-q").fill("receptionist")  # the home page's one search box
    page.locator("#home-q").press("Enter")
    page.wait_for_url("**/search?q=receptionist")
    first = page.locator(".app-case-list a").first
    assert "receptionist" in first.inner_text().lower()
    first.click()
    page.wait_for_url("**/cases/receptionist-raising-concerns")
    assert page.get_by_role("heading", name="Discussion questions").is_visible()
    assert page.locator(".app-facilitator-note").count() == 0  # a learner sees no notes


def test_the_whole_flow_works_by_keyboard(library: Flask, page) -> None:
    page.goto("/login")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    for _ in range(10):
        if page.evaluate("document.activeElement.id") == "email":
            break
        page.keyboard.press("Tab")
    page.keyboard.type("learner@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/")
    page.locator("#home-q").focus()
    page.keyboard.type("porter")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=porter")
    assert page.locator(".app-case-list li").count() >= 1


def test_a_facilitator_sees_notes_and_minutes(library: Flask, page) -> None:
    sign_in(page, "facilitator")
    page.goto("/cases/district-nurse-joint-care-planning")
    assert page.locator(".app-facilitator-note").count() >= 1


PAGES = [
    ("login", "/login"),
    ("home", "/"),
    ("library", "/cases"),
    ("library filtered", "/cases?seat=Porter"),
    ("search", "/search?q=leadership"),
    ("search without results", "/search?q=zzzzqqq"),
    ("case", "/cases/district-nurse-joint-care-planning"),
    ("not found", "/cases/no-such-case"),
    ("draft case", "/cases/medical-secretary-unanswered-phone-line"),
    ("search with facets and correction", "/search?q=whistelblowing&tag=culture&sort=title"),
    ("synonyms", "/search/synonyms"),
]


@pytest.mark.parametrize(("name", "path"), PAGES, ids=[name for name, _ in PAGES])
def test_axe_finds_no_wcag_violation(library: Flask, page, name: str, path: str) -> None:
    if name != "login":
        sign_in(page, "curator")  # the role that sees the most: notes, drafts, status facet
    page.goto(path)
    assert axe_violations(page) == []


def test_the_axe_check_does_report_violations(page) -> None:
    """The accessibility check is live: a page with an unlabelled image and input fails it."""
    page.set_content("<html><body><img src='x.png'><input type='text'></body></html>")
    ids = {v["id"] for v in axe_violations(page)}
    assert {"image-alt", "label"} <= ids
