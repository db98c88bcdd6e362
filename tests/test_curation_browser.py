"""The curators' flows in a real browser, with CSRF on, and axe-core on every new page."""

from __future__ import annotations

import pytest
from flask import Flask

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser


def test_create_preview_review_publish_then_a_learner_finds_it(library: Flask, page, playwright_browser) -> None:
    sign_in(page, "curator")
    page.goto("/curate/cases/new")
    page.get_by_label("Title").fill("The night porter who redesigned handovers")
    page.get_by_label("Summary").fill("A night porter makes handovers safer.")
    page.locator("#seat").fill("Porter")
    page.get_by_label("Engaging the team").check()
    page.get_by_label("Not needed: the story is fictional or a composite").check()
    page.get_by_label("Text of the case").fill("## The situation\n\nHandovers were *chaotic* and quokkaesque.")
    page.get_by_role("button", name="Preview the text").click()
    assert page.locator(".app-preview em").inner_text() == "chaotic"
    assert page.get_by_label("Title").input_value() == "The night porter who redesigned handovers"
    page.locator("#q-0-text").fill("What made handovers chaotic?")
    page.get_by_role("button", name="Save as draft").click()
    page.wait_for_url("**/curate/cases/the-night-porter-who-redesigned-handovers")
    page.get_by_role("button", name="Submit for review").click()
    assert "is now in review" in page.locator(".app-flash").inner_text()
    # The two-person rule: the curator who sent it for review is not offered Publish.
    assert page.get_by_role("button", name="Publish").count() == 0
    assert "Another curator must publish this case" in page.locator("#publish-blocked").inner_text()
    assert axe_violations(page) == []
    reviewer = playwright_browser.new_context(base_url=library.config["LIVE_URL"]).new_page()
    sign_in(reviewer, email="second-curator@example.org")
    reviewer.goto("/curate/cases/the-night-porter-who-redesigned-handovers")
    reviewer.get_by_role("button", name="Publish").click()
    assert "is now published" in reviewer.locator(".app-flash").inner_text()
    reviewer.context.close()

    learner = playwright_browser.new_context(base_url=library.config["LIVE_URL"]).new_page()
    sign_in(learner, "learner")
    learner.goto("/search?q=quokkaesque")
    assert learner.locator(".app-case-list a").first.inner_text() == "The night porter who redesigned handovers"
    learner.context.close()


def test_a_refused_save_keeps_what_was_typed(library: Flask, page) -> None:
    sign_in(page, "curator")
    page.goto("/curate/cases/new")
    page.get_by_label("Summary").fill("A summary I took time to write.")
    page.get_by_label("Text of the case").fill("Three paragraphs of careful text.")
    page.locator("#q-0-minutes").fill("500")
    page.get_by_role("button", name="Save as draft").click()
    page.locator(".nhsuk-error-summary").wait_for()
    assert page.get_by_label("Summary").input_value() == "A summary I took time to write."
    assert page.get_by_label("Text of the case").input_value() == "Three paragraphs of careful text."
    assert page.locator("#q-0-minutes").input_value() == "500"
    page.locator(".nhsuk-error-summary a").first.click()  # the summary links to the field
    assert page.evaluate("document.activeElement.id") in ("title", "seat", "q-0-minutes")


CURATOR_PAGES = [
    "/curate/",
    "/curate/coverage",
    "/curate/bin",
    "/curate/cases/new",
    "/curate/cases/district-nurse-joint-care-planning",
    "/curate/cases/district-nurse-joint-care-planning/edit",
    "/curate/cases/district-nurse-joint-care-planning/history",
    "/curate/cases/district-nurse-joint-care-planning/delete",
    "/curate/cases/district-nurse-joint-care-planning/diff?a=1&b=1",
]


@pytest.mark.parametrize("path", CURATOR_PAGES)
def test_axe_finds_no_violation_on_curator_pages(library: Flask, page, path: str) -> None:
    sign_in(page, "curator")
    page.goto(path)
    assert axe_violations(page) == []


def test_axe_on_an_editor_showing_errors(library: Flask, page) -> None:
    sign_in(page, "curator")
    page.goto("/curate/cases/new")
    page.get_by_role("button", name="Save as draft").click()
    page.locator(".nhsuk-error-summary").wait_for()
    assert axe_violations(page) == []


def test_a_change_to_a_live_case_waits_for_a_second_curator(library: Flask, page, playwright_browser) -> None:
    """Curator A edits a live case; the learner still reads the old text; curator B sees the
    change against the live text and publishes it; the learner reads the new text."""
    slug = "district-nurse-joint-care-planning"
    sentence = "The numbatish sentence nobody has reviewed."
    learner = playwright_browser.new_context(base_url=library.config["LIVE_URL"]).new_page()
    sign_in(learner, "learner")
    learner.goto(f"/cases/{slug}")
    live_text = learner.locator("main").inner_text()

    sign_in(page, "curator")
    page.goto(f"/curate/cases/{slug}/edit")
    body = page.get_by_label("Text of the case")
    body.fill(body.input_value() + f"\n\n{sentence}\n")
    page.get_by_role("button", name="Save changes").click()
    if page.get_by_role("button", name="Save anyway").count():  # a similar case in the library
        page.get_by_role("button", name="Save anyway").click()
    page.wait_for_url(f"**/curate/cases/{slug}")
    assert "waiting for review" in page.locator(".app-flash").inner_text()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Submit the change for review").click()
    assert "in review" in page.locator(".app-flash").inner_text()
    assert page.get_by_role("button", name="Publish the change").count() == 0  # A wrote it
    assert "Another curator must publish this change" in page.locator("#publish-blocked").inner_text()
    assert axe_violations(page) == []

    learner.goto(f"/cases/{slug}")
    assert learner.locator("main").inner_text() == live_text and "numbatish" not in learner.content()

    reviewer = playwright_browser.new_context(base_url=library.config["LIVE_URL"]).new_page()
    sign_in(reviewer, email="second-curator@example.org")
    reviewer.goto("/curate/")
    assert axe_violations(reviewer) == []
    reviewer.locator("#changes-in-review + ul a").first.click()
    assert "numbatish" in reviewer.locator(".app-diff ins").all_inner_texts().__str__()
    assert axe_violations(reviewer) == []
    reviewer.get_by_role("button", name="Publish the change").click()
    assert "learners now read it" in reviewer.locator(".app-flash").inner_text()
    assert axe_violations(reviewer) == []
    reviewer.context.close()

    learner.goto(f"/cases/{slug}")
    assert sentence in learner.locator("main").inner_text()
    learner.context.close()
