"""My learning in a real browser (CSRF on, no JavaScript needed): save from search and a
case page, reorder, share, another user opens the shared list; the notebook; axe-core on
every new page."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import expect

from casestudies.cli import SAMPLE_DIR
from casestudies.extensions import db
from casestudies.learning.collections import load_sample_collections

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser

PORTER = "The porter who redesigned the discharge lounge"
RECEPTIONIST = "The junior receptionist who spoke up about how patients were talked about"


def named(*parts: str) -> re.Pattern[str]:
    return re.compile(r"\W*".join(re.escape(part) for part in parts))


def _save_two_cases(page) -> None:
    """Search → save into a new list → save a second case from its page into that list."""
    page.goto("/search?q=porter")
    page.get_by_role("button", name=named("Save to my list", PORTER)).click()
    page.wait_for_url("**/search?q=porter")
    expect(page.locator(".app-flash")).to_contain_text("Saved to Saved cases")
    page.goto("/search?q=receptionist")
    page.get_by_role("link", name=RECEPTIONIST).click()
    page.locator("details.app-save summary").click()  # the list choices open when asked
    page.get_by_label(named("Save", f"“{RECEPTIONIST}”", "to my list")).select_option(label="Saved cases")
    page.get_by_role("button", name=named("Save to list", RECEPTIONIST)).click()
    expect(page.locator(".app-flash")).to_contain_text("Saved to Saved cases")


def test_save_list_reorder_share_and_another_user_opens_it(library: Flask, page) -> None:
    sign_in(page, "facilitator")
    _save_two_cases(page)
    page.get_by_role("link", name="My learning").click()
    page.get_by_role("link", name="Saved cases").click()
    titles = page.locator(".app-reading-list h2")
    expect(titles).to_have_text([PORTER, RECEPTIONIST])
    page.get_by_role("button", name=named("Move up", RECEPTIONIST)).click()
    expect(titles).to_have_text([RECEPTIONIST, PORTER])
    page.get_by_label("Name of the list").fill("Speaking up pack")
    page.get_by_role("button", name="Rename").click()
    expect(page.locator("h1")).to_have_text("Speaking up pack")
    page.get_by_role("button", name="Share by link").click()
    link = page.locator(".app-share-link a").get_attribute("href")
    assert link and "/reading-lists/" in link

    page.context.clear_cookies()
    sign_in(page, "learner")
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Speaking up pack")
    expect(page.locator(".app-reading-list h2")).to_have_text([RECEPTIONIST, PORTER])
    assert page.get_by_role("button", name=re.compile("Move|Remove")).count() == 0  # read only
    assert axe_violations(page) == [], "shared list"

    page.context.clear_cookies()
    sign_in(page, "facilitator")
    page.goto("/my/lists/1")
    page.get_by_role("button", name="Stop sharing").click()
    expect(page.get_by_role("button", name="Share by link")).to_be_visible()
    page.context.clear_cookies()
    sign_in(page, "learner")
    response = page.goto(link)
    assert response is not None and response.status == 404


def test_axe_finds_no_violation_on_the_new_pages(library: Flask, page) -> None:
    with library.app_context():
        load_sample_collections(SAMPLE_DIR / "collections.json")
        db.session.commit()
        db.session.remove()
    sign_in(page, "curator")
    for name, path in {
        "home with collections": "/",
        "collection": "/collections/raising-concerns",
        "lists, none yet": "/my/lists",
        "notebook, empty": "/my/notebook",
        "manage collections": "/curate/collections",
        "new collection": "/curate/collections/new",
        "edit collection": "/curate/collections/1",
        "delete collection": "/curate/collections/1/delete",
    }.items():
        page.goto(path)
        assert axe_violations(page) == [], name
    expect(page.locator("h1")).to_have_text("Delete the collection “Integrated working with social care”?")

    page.goto("/curate/collections/1")
    page.get_by_label("Add a case").fill("no-such-case")
    page.get_by_role("button", name="Add the case").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    assert axe_violations(page) == [], "edit collection with an error"

    _save_two_cases(page)
    for name, path in {
        "case with save": "/cases/porter-redesigned-discharge-lounge",
        "search with save": "/search?q=porter",
        "lists": "/my/lists",
        "list": "/my/lists/1",
        "delete list": "/my/lists/1/delete",
    }.items():
        page.goto(path)
        assert axe_violations(page) == [], name

    # The notebook: write an NMC account from a case, refused once, then saved.
    page.goto("/cases/porter-redesigned-discharge-lounge")
    page.get_by_role("link", name="Write a reflection on this case").click()
    expect(page.get_by_role("heading", name=re.compile("Leave out anything that identifies someone"))).to_be_visible()
    assert axe_violations(page) == [], "new NMC account"
    page.get_by_label("What did you learn").fill("That porters see the whole flow")
    page.get_by_role("button", name="Save the reflection").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    assert page.get_by_label("What did you learn").input_value() == "That porters see the whole flow"
    assert axe_violations(page) == [], "NMC account with errors"
    page.get_by_label("Title (for you)").fill("Flow from the porter's seat")
    page.get_by_label("Month").select_option(label="March")
    page.get_by_label("Year").fill("2026")
    page.get_by_label("Preserve safety").check()
    page.get_by_role("button", name="Save the reflection").click()
    expect(page.locator("h1")).to_have_text("Flow from the porter's seat")
    assert axe_violations(page) == [], "reflection"
    reflection = page.url.split("://", 1)[1].split("/", 1)[1]
    for name, path in {
        "edit reflection": f"/{reflection}/edit",
        "delete reflection": f"/{reflection}/delete",
        "free-form reflection": "/my/notebook/reflections/new?form=free",
        "new CPD entry": "/my/notebook/cpd/new",
        "delete notebook": "/my/notebook/delete",
    }.items():
        page.goto(path)
        assert axe_violations(page) == [], name

    page.goto("/my/notebook/cpd/new")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    assert axe_violations(page) == [], "CPD entry with errors"
    page.get_by_label("Day").fill("4")
    page.get_by_label("Month").fill("3")
    page.get_by_label("Year").fill("2026")
    page.get_by_label("Topic").fill("Discharge lounge case")
    page.get_by_label("Method").select_option("reading")
    page.get_by_label("Hours").fill("1.5")
    page.get_by_label("Yes").check()
    page.get_by_label("Flow from the porter's seat").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/my/notebook*")
    expect(page.locator("table")).to_contain_text("Discharge lounge case")
    assert axe_violations(page) == [], "notebook with entries"
    page.get_by_role("link", name="Discharge lounge case").click()
    assert axe_violations(page) == [], "edit CPD entry"
    page.get_by_role("link", name="Delete this entry").click()
    assert axe_violations(page) == [], "delete CPD entry"
    with page.expect_download() as download:
        page.goto("/my/notebook")
        page.get_by_role("link", name="CPD log (CSV, for a spreadsheet)").click()
    assert download.value.suggested_filename.endswith(".csv")
