"""Issue 17's screens in a real browser with CSRF on: the coverage grid at 1,280 px, the
diff's marks, the editor's preview and possible duplicates, the dashboard returning overdue
cases, "My reports" in the header; axe-core on each."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from flask import Flask

from casestudies.cases.revisions import case_to_data, save_case_data
from casestudies.extensions import db
from casestudies.indexing import catch_up
from casestudies.models import Case
from casestudies.transfer.casefile import QuestionData

from .conftest import axe_violations, case_data, sign_in

pytestmark = pytest.mark.browser

SLUG = "district-nurse-joint-care-planning"


def _change_sample_case(app: Flask, **changes) -> None:
    with app.app_context():
        case = db.session.query(Case).filter_by(slug=SLUG).one()
        save_case_data(  # the live row itself, as if a change had been published
            replace(case_to_data(case), **changes), actor=None, case=case, summary="Changed by the test", direct=True
        )
        db.session.commit()
        catch_up(app)
        db.session.remove()


def test_the_coverage_grid_fits_1280_px_and_scrolls_in_its_own_region(library: Flask, page) -> None:
    with library.app_context():  # the district nurse gets three cases engaging the team
        for number in (1, 2):
            save_case_data(case_data(slug=f"another-nurse-{number}", title=f"Another nurse {number}",
                                     seat="District nurse", dimensions=("Engaging the team",)), actor=None)  # fmt: skip
        db.session.commit()
        db.session.remove()
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, "curator")
    page.goto("/curate/coverage")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # the page never scrolls sideways
    region = page.get_by_role("region", name="Published cases by seat and dimension")
    assert region.get_attribute("tabindex") == "0"
    sticky = page.evaluate(
        """() => [document.querySelector('.app-coverage thead th:nth-child(3)'),
                  document.querySelector('.app-coverage tbody th')].map(e => getComputedStyle(e).position)"""
    )
    assert sticky == ["sticky", "sticky"]
    gap = page.locator("td.app-coverage__cell--gap").first
    assert gap.inner_text().split() == ["0", "gap"]
    shades = dict(
        page.evaluate(
            """() => [...document.querySelectorAll('.app-coverage td')].map(
                   c => [c.innerText.trim().split(/\\s/)[0], getComputedStyle(c).backgroundColor])"""
        )
    )
    assert {"0", "1", "3"} <= set(shades)
    assert len({shades["0"], shades["1"], shades["3"]}) == 3  # each count its own shade
    # By keyboard: focus the region, scroll right; the seat column stays at the left edge.
    box_left = page.evaluate("document.querySelector('.app-table-scroll').getBoundingClientRect().left")
    region.focus()
    # Nine dimensions don't fit the page's 960 px column: the grid scrolls inside its box.
    assert page.evaluate("(e => e.scrollWidth > e.clientWidth)(document.querySelector('.app-table-scroll'))")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    for _ in range(40):  # keyboard scrolling may be smooth; polled from here (the CSP forbids eval)
        if page.evaluate("document.querySelector('.app-table-scroll').scrollLeft") > 0:
            break
        page.wait_for_timeout(50)
    assert page.evaluate("document.querySelector('.app-table-scroll').scrollLeft") > 0
    seat_left = page.evaluate("document.querySelector('.app-coverage tbody th').getBoundingClientRect().left")
    assert abs(seat_left - box_left) <= 2
    assert axe_violations(page) == []


def test_the_diff_marks_changes_in_colour_and_words_with_a_question_per_line(library: Flask, page) -> None:
    with library.app_context():
        questions = case_to_data(db.session.query(Case).filter_by(slug=SLUG).one()).questions
        db.session.remove()
    _change_sample_case(
        library, questions=(*questions[:2], QuestionData("Who else should have been at the table?"), *questions[3:])
    )
    sign_in(page, "curator")
    page.goto(f"/curate/cases/{SLUG}/diff?a=1&b=2")
    questions_diff = page.locator("h2:has-text('Questions') + .app-diff")
    text = questions_diff.inner_text()
    assert "\n2. How did Grace build trust" in text and "\n3. " in text  # one question per line
    removed, added = questions_diff.locator("del").first, questions_diff.locator("ins").first
    labels = page.evaluate(
        "els => els.map(e => getComputedStyle(e, '::before').content + getComputedStyle(e, '::after').content)",
        [removed.element_handle(), added.element_handle()],
    )
    assert labels == ['"[Removed: ""]"', '"[Added: ""]"']  # heard, not seen
    colours = page.evaluate(
        "els => els.map(e => getComputedStyle(e).backgroundColor)",
        [removed.element_handle(), added.element_handle()],
    )
    assert "rgba(0, 0, 0, 0)" not in colours and colours[0] != colours[1]
    assert axe_violations(page) == []


def test_the_preview_is_boxed_and_possible_duplicates_can_be_saved_anyway(library: Flask, page) -> None:
    sign_in(page, "curator")
    page.goto("/curate/cases/new")
    page.get_by_label("Title").fill("The district nurse who got health and social care planning at the same table!")
    page.get_by_label("Summary").fill("A second telling of Grace's story.")
    page.locator("#seat").fill("District nurse")
    page.get_by_label("Obtained: the people in the story agreed to its use").check()
    page.get_by_label("Text of the case").fill("## Grace\n\nShe planned care *jointly*.")
    page.locator("#q-0-text").fill("What would you have done?")
    page.get_by_role("button", name="Preview the text").click()
    preview = page.get_by_role("region", name="Preview")
    assert "nhsuk-card" in (preview.get_attribute("class") or "")
    assert preview.locator("em").inner_text() == "jointly"
    assert axe_violations(page) == []
    page.get_by_role("button", name="Save as draft").click()
    panel = page.locator("#duplicates")
    assert "This case may already be in the library" in panel.inner_text()
    assert "the same title" in panel.inner_text()
    assert page.get_by_label("Summary").input_value() == "A second telling of Grace's story."  # nothing lost
    assert axe_violations(page) == []
    page.get_by_role("button", name="Save anyway").click()
    page.wait_for_url("**/curate/cases/the-district-nurse-who-got-health-and-social-care-planning-at-the-same-table")
    assert "created" in page.locator(".app-flash").inner_text()


def test_the_dashboard_sends_an_overdue_case_back_to_review(library: Flask, page) -> None:
    _change_sample_case(library, review_by=date.today() - timedelta(days=5))
    library.config["AUTO_RETURN_OVERDUE"] = True
    sign_in(page, "curator")
    page.goto("/curate/")
    notice = page.locator("#returned-to-review")
    assert "1 published case went back to review just now" in notice.inner_text()
    assert "The district nurse who got health and social care planning" in notice.inner_text()
    assert axe_violations(page) == []


def test_a_reader_finds_my_reports_under_my_learning(library: Flask, page) -> None:
    sign_in(page, "learner")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="My learning").click()
    page.get_by_role("navigation", name="My learning").get_by_role("link", name="My reports").click()
    page.wait_for_url("**/my-reports")
    assert page.locator("h1").inner_text() == "My reports"
    assert axe_violations(page) == []
