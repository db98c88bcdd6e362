"""Report a problem → a curator resolves it → the reporter sees the outcome, in a real
browser with CSRF on; axe-core on every new page."""

from __future__ import annotations

import pytest
from flask import Flask

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser

SLUG = "district-nurse-joint-care-planning"


def test_report_then_resolve_then_the_reporter_sees_the_outcome(library: Flask, page, playwright_browser) -> None:
    sign_in(page, "learner")
    page.goto(f"/cases/{SLUG}/report")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Send the report").click()  # nothing chosen: errors, linked to the fields
    page.locator(".nhsuk-error-summary").wait_for()
    assert axe_violations(page) == []
    page.get_by_label("Out of date").check()
    page.get_by_label("Tell us more").fill("The referral pathway changed in 2026.")
    page.get_by_role("button", name="Send the report").click()
    page.wait_for_url("**/my-reports")
    assert "Not resolved yet" in page.locator(".app-report-outcome").inner_text()
    assert axe_violations(page) == []

    curator = playwright_browser.new_context(base_url=library.config["LIVE_URL"]).new_page()
    sign_in(curator, "curator")
    curator.goto("/curate/")
    curator.get_by_role("link", name="Reported problems").click()
    assert axe_violations(curator) == []
    curator.get_by_role("link", name="Out of date").click()
    assert "The referral pathway changed in 2026." in curator.locator("main").inner_text()
    assert axe_violations(curator) == []
    curator.get_by_label("Fixed").check()
    curator.get_by_label("Note for the person who reported it").fill("Updated the pathway section. Thank you!")
    curator.get_by_role("button", name="Resolve the report").click()
    assert "resolved: Fixed" in curator.locator(".app-flash").inner_text()
    assert "No open reports." in curator.locator("main").inner_text()
    assert axe_violations(curator) == []
    curator.context.close()

    page.reload()
    outcome = page.locator(".app-report-outcome").inner_text()
    assert "Fixed" in outcome and "Updated the pathway section. Thank you!" in outcome


def test_axe_on_the_admin_override_and_the_import_checkbox(library: Flask, page, tmp_path) -> None:
    sign_in(page, "admin")
    page.goto("/curate/cases/new")
    page.get_by_label("Title").fill("An admin's own case")
    page.get_by_label("Summary").fill("Written and sent for review by the admin.")
    page.locator("#seat").fill("Porter")
    page.get_by_label("Obtained: the people in the story agreed to its use").check()
    page.get_by_label("Text of the case").fill("Text.")
    page.locator("#q-0-text").fill("What would you do?")
    page.get_by_role("button", name="Save as draft").click()
    page.get_by_role("button", name="Submit for review").click()
    assert "is now in review" in page.locator(".app-flash").inner_text()
    assert page.get_by_label("Reason for publishing it yourself (admins only)").count() == 1
    assert axe_violations(page) == []
    page.get_by_label("Reason for publishing it yourself (admins only)").fill("Only curator is on leave")
    page.get_by_role("button", name="Publish").click()
    assert "is now published" in page.locator(".app-flash").inner_text()
    assert "Two-person rule overridden by an admin: Only curator is on leave" in page.locator("main").inner_text()

    marked = tmp_path / "marked.md"
    marked.write_text(
        "---\ntitle: A file marked published\nslug: a-file-marked-published\nsummary: S.\nseat: Porter\n"
        "questions:\n  - What now?\nstatus: published\nconsent: obtained\n---\nText.\n",
        "utf-8",
    )
    page.goto("/transfer/")
    page.set_input_files("#files", str(marked))
    page.get_by_role("button", name="Upload and check").click()
    page.get_by_label("Publish the files marked published").wait_for()
    assert axe_violations(page) == []
