"""The curators' insights in a real browser with CSRF on: a reader's search and answer,
then the Search gaps page, a gap's actions, Library use and the privacy notice; axe-core
on each page."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser

SLUG = "district-nurse-joint-care-planning"


def test_a_reader_leaves_traces_curators_act_on_and_every_page_passes_axe(
    library: Flask, page, playwright_browser
) -> None:
    library.config["GAP_MIN_SEARCHERS"] = 1  # one reader in this test
    sign_in(page, "learner")
    page.goto("/search?q=tangerine+nurse")  # partial matches: no case says tangerine
    page.goto(f"/cases/{SLUG}")
    page.get_by_role("button", name="Send").click()  # no answer chosen
    page.locator(".nhsuk-error-summary").wait_for()
    assert axe_violations(page) == []
    page.get_by_label("Yes").check()
    page.get_by_label("Anything to add? (optional)").fill("Used it with my team")
    page.get_by_role("button", name="Send").click()
    assert "Thank you" in page.locator(".app-flash").inner_text()
    assert axe_violations(page) == []
    page.get_by_role("link", name="What is recorded about reading and searching").click()
    assert "never counted" in page.locator("main").inner_text()
    assert axe_violations(page) == []

    curator = playwright_browser.new_context(base_url=library.config["LIVE_URL"]).new_page()
    sign_in(curator, "curator")
    curator.goto("/curate/")
    curator.get_by_role("link", name="Search gaps").click()
    assert curator.locator("#chart-gaps").count() == 1
    assert axe_violations(curator) == []
    curator.get_by_role("link", name="tangerine nurse").first.click()
    assert axe_violations(curator) == []
    curator.get_by_label("Words or phrases that mean the same, one a line").fill("tangerine\nclementine")
    curator.get_by_role("button", name="Add synonyms").click()
    assert "Synonyms added" in curator.locator(".app-flash").inner_text()
    curator.get_by_label("The case’s address").fill("no-such-case")
    curator.get_by_role("button", name="Recommend").click()
    curator.locator(".nhsuk-error-summary").wait_for()
    assert axe_violations(curator) == []
    curator.get_by_label("The case’s address").fill(SLUG)
    curator.get_by_role("button", name="Recommend").click()
    assert "is now recommended" in curator.locator(".app-flash").inner_text()
    assert axe_violations(curator) == []
    page.goto("/search?q=tangerine+nurse")
    assert "Recommended by the library team" in page.locator(".app-recommended").inner_text()
    assert axe_violations(page) == []
    curator.get_by_role("button", name=re.compile("Undo.*recommendation of")).click()
    assert "Undone" in curator.locator(".app-flash").inner_text()
    curator.goto("/insights/use")
    assert "Used it with my team" in curator.locator("main").inner_text()
    assert axe_violations(curator) == []
    # The synonyms page lists the group added above, with who and when, and undoes it.
    curator.goto("/search/synonyms")
    assert "tangerine = clementine" in curator.locator("#added-terms + p + ul").inner_text()
    assert axe_violations(curator) == []
    curator.get_by_role("button", name=re.compile("Undo.*tangerine = clementine")).click()
    assert "Undone" in curator.locator(".app-flash").inner_text() and curator.url.endswith(
        "/search/synonyms#added-terms"
    )
    assert "removed by" in curator.locator("main").inner_text()
    assert axe_violations(curator) == []
    curator.context.close()
