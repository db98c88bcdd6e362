"""Discussion guides in a real browser (CSRF on, no JavaScript needed): search, add to a
guide, reorder, print view; axe-core on the builder pages and the print views."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import expect

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser

PORTER = "The porter who redesigned the discharge lounge"
RECEPTIONIST = "The junior receptionist who spoke up about how patients were talked about"


def named(*parts: str) -> re.Pattern[str]:
    """An accessible name made of visible text and visually hidden text (Chromium may put a
    space between them)."""
    return re.compile(r"\W*".join(re.escape(part) for part in parts))


def _build_a_guide(page) -> str:
    """Search -> add to a new guide -> add a second case from search -> the builder URL."""
    page.goto("/search?q=porter")
    page.get_by_role("button", name=named("Add to a new guide", PORTER)).click()
    page.wait_for_url("**/guides/new?case=*")
    assert page.get_by_text(f"“{PORTER}” will be the first case in this guide.").is_visible()
    page.get_by_label("Title", exact=True).fill("Speaking up and flow")
    page.get_by_label("Start time (optional)").fill("14:00")
    page.get_by_label("Length of the session in minutes (optional)").fill("90")
    page.get_by_label("Learning objectives (optional)").fill("Name two ways staff raise concerns")
    page.get_by_role("button", name="Create guide").click()
    page.wait_for_url("**/guides/*")
    builder = page.url

    page.locator("#search-field").fill("receptionist")
    page.locator("#search-field").press("Enter")
    page.wait_for_url("**/search?q=receptionist")
    page.get_by_label(named("Add", f"“{RECEPTIONIST}”", "to")).select_option(label="Speaking up and flow")
    page.get_by_role("button", name=named("Add to guide", RECEPTIONIST)).click()
    page.wait_for_url("**/search?q=receptionist")
    assert "added to Speaking up and flow" in page.locator(".app-flash").inner_text()
    return builder


def test_search_add_to_guide_reorder_and_print(library: Flask, page) -> None:
    sign_in(page, "facilitator")
    builder = _build_a_guide(page)
    page.get_by_role("link", name="Guides", exact=True).click()
    page.get_by_role("link", name="Speaking up and flow").click()
    assert page.url == builder
    headings = page.locator(".app-guide-case h3")
    expect(headings).to_have_text([f"1. {PORTER}", f"2. {RECEPTIONIST}"])  # waits for the page

    page.get_by_role("button", name=named("Move case up", RECEPTIONIST)).click()  # in place (JavaScript)
    expect(headings).to_have_text([f"1. {RECEPTIONIST}", f"2. {PORTER}"])
    page.get_by_role("button", name="Save the timed plan", exact=True).click()  # the order saved once
    expect(page.locator(".app-flash")).to_contain_text("The timed plan was saved")
    expect(headings).to_have_text([f"1. {RECEPTIONIST}", f"2. {PORTER}"])
    plan_rows = page.locator(".app-plan__case th").all_inner_texts()
    assert plan_rows[0].startswith(f"Case 1: {RECEPTIONIST}")
    assert page.locator(".app-plan__case td").first.inner_text() == "14:00"

    # Minutes: a refused value keeps what was typed; a good one moves the clock on.
    first_minutes = page.locator(".app-guide-case").first.get_by_label("Minutes for question 1")
    first_minutes.fill("soon")
    first_minutes.press("Enter")  # Enter means "Save minutes", never "Move" or "Remove"
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    assert page.locator(".app-guide-case").first.get_by_label("Minutes for question 1").input_value() == "soon"
    page.locator(".app-guide-case").first.get_by_label("Minutes for question 1").fill("12")
    page.get_by_role("button", name="Save the timed plan", exact=True).click()
    expect(page.locator(".app-guide-case").first).to_contain_text("Starts at 14:12")
    expect(page.locator(".nhsuk-error-summary")).to_have_count(0)

    page.get_by_role("link", name=named("print view", "of the participant handout")).click()
    page.wait_for_url("**/print/participant")
    titles = page.locator(".app-print-case__title").all_inner_texts()
    assert titles == [RECEPTIONIST, PORTER]
    text = page.locator("main").inner_text()
    assert "Facilitator notes" not in text and "Learning objectives" not in text and "14:00" not in text
    assert page.locator(".app-print-answer").count() >= 2
    assert page.locator("header.nhsuk-header").count() == 0  # no site navigation
    assert axe_violations(page) == []
    page.get_by_role("link", name="See the facilitator edition").click()
    page.wait_for_url("**/print/facilitator")
    assert "Facilitator notes" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    # The PDF is made by a job: a page follows it (by itself, with JavaScript) and the
    # download starts when it is ready.
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("link", name="Download this edition as a PDF").click()
        expect(page.locator("h1")).to_have_text("Making your PDF")
        assert page.get_by_role("status").count() == 1
        assert axe_violations(page) == [], "the page following the PDF job"
    assert download.value.suggested_filename == "speaking-up-and-flow-facilitator-edition.pdf"
    expect(page.get_by_role("status")).to_contain_text("Your PDF is ready")


def test_axe_finds_no_violation_on_the_builder_pages(library: Flask, page) -> None:
    sign_in(page, "facilitator")
    pages = {"guides with none yet": "/guides/", "new guide": "/guides/new"}
    for name, path in pages.items():
        page.goto(path)
        assert axe_violations(page) == [], name
    page.get_by_role("button", name="Create guide").click()  # refused: no title
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    assert axe_violations(page) == [], "new guide with errors"

    builder = _build_a_guide(page)
    guide_path = builder.split("://", 1)[1].split("/", 1)[1]
    for name, path in {
        "builder": f"/{guide_path}",
        "guides": "/guides/",
        "search with add to guide": "/search?q=porter",
        "case with add to guide": "/cases/porter-redesigned-discharge-lounge",
        "details": f"/{guide_path}/edit",
        "how it went": f"/{guide_path}/how-it-went",
        "delete": f"/{guide_path}/delete",
    }.items():
        page.goto(path)
        assert axe_violations(page) == [], name

    page.goto(f"/{guide_path}")
    page.get_by_text("Add a question of your own").first.click()
    page.get_by_role("button", name=named("Add your question", "to " + PORTER)).click()  # refused: empty
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    assert axe_violations(page) == [], "builder with errors"

    page.get_by_role("button", name="Share with a link").click()
    expect(page.locator(".app-share-link a")).to_be_visible()
    link = page.locator(".app-share-link a").get_attribute("href")
    assert link
    page.context.clear_cookies()
    sign_in(page, "curator")
    page.goto(link)
    assert page.get_by_role("button", name="Copy into my guides").is_visible()
    assert axe_violations(page) == [], "shared guide"


def test_saving_the_plan_keeps_the_minutes_typed_in_every_case(library: Flask, page) -> None:
    """Bug: each case had its own save, and saving case 2 threw away minutes typed in case 1."""
    sign_in(page, "facilitator")
    _build_a_guide(page)
    page.goto(page.url.split("/search")[0] + "/guides/")
    page.get_by_role("link", name="Speaking up and flow").click()
    cases = page.locator(".app-guide-case")
    expect(cases).to_have_count(2)
    cases.nth(0).get_by_label("Minutes for question 1").fill("12")
    cases.nth(1).get_by_label("Minutes for question 1").fill("7")
    with page.expect_navigation():
        cases.nth(1).get_by_label("Minutes for question 1").press("Enter")  # save from case 2
    cases = page.locator(".app-guide-case")
    expect(cases.nth(0).get_by_label("Minutes for question 1")).to_have_value("12")
    expect(cases.nth(1).get_by_label("Minutes for question 1")).to_have_value("7")
    expect(page.locator(".app-flash")).to_contain_text("The timed plan was saved")

    # A bad value names its case and question, and keeps every value typed.
    cases.nth(0).get_by_label("Minutes for question 1").fill("20")
    cases.nth(1).get_by_label("Minutes for question 1").fill("lots")
    page.get_by_role("button", name="Save the timed plan", exact=True).click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Case 2 ‘The junior receptionist who spoke up ab…’, question 1: enter the minutes")
    cases = page.locator(".app-guide-case")
    assert cases.nth(0).get_by_label("Minutes for question 1").input_value() == "20"
    assert cases.nth(1).get_by_label("Minutes for question 1").input_value() == "lots"


def test_segments_teaching_notes_and_handouts_with_axe_on_every_new_page(library: Flask, page) -> None:
    slug = "porter-redesigned-discharge-lounge"
    # A curator writes the porter case's teaching notes in the editor.
    sign_in(page, "curator")
    page.goto(f"/curate/cases/{slug}/edit")
    page.get_by_label("Synopsis").fill("A porter sees patients wait and redesigns the lounge.")
    page.get_by_label("Suggested plan").fill("lots Read the case")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Suggested plan, line 1")
    assert axe_violations(page) == [], "editor with a teaching-note error"
    page.get_by_label("Suggested plan").fill("8 Read the case\n15 Pairs: what did the porter see?")
    page.get_by_label("Board plan").fill("Two columns: seen and done.")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(f"**/curate/cases/{slug}")
    page.goto(f"/curate/cases/{slug}/edit")
    assert axe_violations(page) == [], "editor with teaching notes"
    # The case is live: the notes wait as a change until a second curator publishes it.
    page.goto(f"/curate/cases/{slug}")
    page.get_by_role("button", name="Submit the change for review").click()
    page.context.clear_cookies()
    sign_in(page, "admin")
    page.goto(f"/curate/cases/{slug}")
    page.get_by_role("button", name="Publish the change").click()
    page.context.clear_cookies()

    sign_in(page, "facilitator")
    page.goto(f"/cases/{slug}")
    expect(page.locator("#teaching-notes")).to_be_visible()
    assert axe_violations(page) == [], "case page with teaching notes"
    builder = _build_a_guide(page)
    page.goto(builder)
    page.locator(".app-guide-case", has_text=PORTER).locator("summary", has_text="Teaching notes").click()
    page.get_by_role("button", name=named("Add the case’s suggested plan", "for " + PORTER)).click()
    expect(page.locator(".app-flash")).to_contain_text("2 segments added, 23 minutes")
    page.get_by_label("Kind of segment").select_option(label="Reading time")
    page.locator("summary", has_text="Reading time, minutes and name").click()  # folded
    page.get_by_label("Case to read (for reading time)").select_option(label=RECEPTIONIST)
    page.get_by_role("button", name="Add the segment").click()
    segments = page.locator(".app-guide-segment h3")
    expect(segments).to_have_count(3)
    reading = segments.nth(2).inner_text()
    assert reading.startswith("Reading time: ")
    page.get_by_role("button", name=named("Move up", reading)).click()  # past the receptionist case, in place
    page.get_by_label("Minutes for " + reading).fill("0")
    page.get_by_role("button", name="Save the timed plan", exact=True).click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(f"‘{reading[:39]}")
    # Shown again unsaved: the order moved in place is kept with the minutes typed.
    expect(page.locator(".app-plan-list__title").nth(3)).to_have_text(reading)
    assert axe_violations(page) == [], "builder with segments and an error"
    page.get_by_label("Minutes for " + reading).fill("4")
    page.get_by_role("button", name="Save the timed plan", exact=True).click()
    expect(page.locator(".app-plan tbody th").nth(3)).to_have_text(reading)
    page.get_by_role("button", name="Switch the handout on").click()
    link = page.locator("#handout ~ .app-share-link a").get_attribute("href")
    assert link and "/guides/handout/" in link
    assert axe_violations(page) == [], "builder with the handout on"
    page.goto(f"/{builder.split('://', 1)[1].split('/', 1)[1]}/print/facilitator")
    assert "Read the case" in page.locator("main").inner_text()
    assert axe_violations(page) == [], "facilitator edition with segments and teaching notes"
    page.context.clear_cookies()

    sign_in(page, "learner")
    page.goto(link)
    text = page.locator("main").inner_text()
    assert PORTER in text and "Board plan" not in text and "minutes" not in text
    assert axe_violations(page) == [], "handout"
    page.get_by_role("link", name="My sessions", exact=True).first.click()
    expect(page.get_by_role("link", name="Speaking up and flow")).to_be_visible()
    assert axe_violations(page) == [], "my sessions"
    page.goto(link + "/print")
    assert axe_violations(page) == [], "handout print view"
    page.goto("/guides/handout/no-such-handout")
    expect(page.locator("h1")).to_have_text("This handout is not available")
    assert axe_violations(page) == [], "handout not available"
    page.goto(f"/cases/{slug}")
    assert page.locator("#teaching-notes").count() == 0
    page.get_by_role("link", name=named("Print this case", PORTER)).click()
    page.wait_for_url(f"**/cases/{slug}/print")
    assert axe_violations(page) == [], "case print view"
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("link", name="Download this case as a PDF").click()
    assert download.value.suggested_filename == f"{slug}.pdf"
