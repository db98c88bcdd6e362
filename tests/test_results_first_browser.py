"""Results first, on a phone and from the keyboard (Debian's chromium through Playwright)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


@pytest.fixture
def phone(playwright_browser: Any, library: Flask) -> Any:
    context = playwright_browser.new_context(base_url=library.config["LIVE_URL"], viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page)
    yield page
    context.close()


FIRST_RESULT = ".app-case-list .app-case-list__item h2 a"


# "bullying": a real word no case uses, said so above the results (issue 23).
@pytest.mark.parametrize(
    "path", ["/search?q=nurse", "/search?q=nurse&seat=Porter", "/cases", "/search?q=nurse+bullying"]
)
def test_the_first_result_is_on_a_phones_first_screen(phone, path: str) -> None:
    phone.goto(path)
    box = phone.locator(FIRST_RESULT).first.bounding_box()
    assert box is not None
    assert box["y"] + 30 <= PHONE["height"], f"first result at {box['y']} px"  # its first line shows


@pytest.mark.parametrize("width", [375, 1280])
def test_tab_reaches_the_first_result_from_the_search_box_in_five(playwright_browser, library, width: int) -> None:
    context = playwright_browser.new_context(
        base_url=library.config["LIVE_URL"], viewport={"width": width, "height": 812}
    )
    page = context.new_page()
    sign_in(page)
    page.goto("/search?q=nurse")
    href = page.locator(FIRST_RESULT).first.get_attribute("href")
    page.locator("#q").focus()
    presses = 0
    while presses < 40 and page.evaluate("document.activeElement.getAttribute('href')") != href:
        page.keyboard.press("Tab")
        presses += 1
    context.close()
    assert presses <= 5, f"{presses} Tab presses from the search box to the first result"


def test_the_skip_link_moves_focus_to_the_results(page, library) -> None:
    sign_in(page)
    page.goto("/search?q=nurse")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to results"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "results"
    page.keyboard.press("Tab")  # on into the results: the sort menu, then the first result
    assert page.evaluate("document.activeElement.id") == "sort"


def test_chosen_filters_are_tags_that_remove_their_filter(page, library) -> None:
    sign_in(page)
    page.goto("/search?q=patient&seat=Porter&setting=Acute+hospital")
    seat = page.get_by_role("link", name="Remove filter Seat: Porter")
    assert seat.inner_text().strip().endswith("Seat: Porter ×")  # "Remove filter" is for screen readers
    seat.click()
    page.wait_for_url("**/search?q=patient&setting=Acute+hospital")
    page.get_by_role("link", name="Remove filter Care setting: Acute hospital").click()
    page.wait_for_url("**/search?q=patient")
    assert page.locator(".app-chosen-filter").count() == 0


def test_sort_applies_on_change_with_javascript(page, library) -> None:
    sign_in(page)
    page.goto("/search?q=patient")
    assert not page.get_by_role("button", name="Sort").is_visible()  # the script hid it
    page.get_by_label("Sort by").select_option("title")
    page.wait_for_url("**/search?q=patient&sort=title*")
    titles = page.locator(FIRST_RESULT).all_inner_texts()
    assert titles == sorted(titles, key=str.casefold)
    assert page.get_by_label("Sort by").input_value() == "title"


def test_sort_keeps_its_button_without_javascript(playwright_browser, library) -> None:
    context = playwright_browser.new_context(base_url=library.config["LIVE_URL"], java_script_enabled=False)
    page = context.new_page()
    sign_in(page)
    page.goto("/search?q=patient")
    page.get_by_label("Sort by").select_option("title")
    assert "sort=" not in page.url
    page.get_by_role("button", name="Sort").click()
    page.wait_for_url("**/search?q=patient&sort=title*")
    context.close()


@pytest.mark.parametrize(
    "path",
    [
        "/search?q=patient&seat=Porter&tag=flow",
        "/search?q=zzzzqqq&seat=Porter",
        "/search?q=nurse",
        "/search?q=nurse+bullying",
        "/cases?seat=Porter",
    ],
)
def test_axe_finds_no_violation_on_a_phone(phone, path: str) -> None:
    phone.goto(path)
    assert axe_violations(phone) == []
    if phone.locator("details.app-facets").count():
        phone.locator("details.app-facets summary").click()  # and with the filters open
        assert axe_violations(phone) == []


@pytest.mark.parametrize("path", ["/search?q=patient&seat=Porter&tag=flow", "/search?q=zzzzqqq&seat=Porter"])
def test_axe_finds_no_violation_with_filters_chosen_or_no_results(page, library, path: str) -> None:
    sign_in(page)
    page.goto(path)
    assert axe_violations(page) == []


# Six everyday questions (tests/test_search.py's, and three more of the same kind).
EVERYDAY_QUESTIONS = [
    "porter discharge lounge redesign ideas",
    "reducing seclusion on a secure ward",
    "how receptionists can challenge rude colleagues",
    "improving a discharge process",
    "speaking up about patient safety",
    "nurse",
]


def test_the_first_result_is_within_450_px_on_a_phone_for_everyday_questions(phone) -> None:
    tops = {}
    for question in EVERYDAY_QUESTIONS:
        phone.goto("/search?" + urlencode({"q": question}))
        box = phone.locator(FIRST_RESULT).first.bounding_box()
        assert box is not None, question
        tops[question] = round(box["y"])
    assert max(tops.values()) <= 450, tops


def test_the_home_page_shows_one_search_box_on_a_phones_first_screen(phone) -> None:
    phone.goto("/")
    boxes = [box for box in (b.bounding_box() for b in phone.locator("input[type=search], input[name=q]").all()) if box]
    assert len([box for box in boxes if box["y"] < PHONE["height"]]) == 1, boxes


def test_the_header_folds_behind_a_menu_button_on_a_phone(phone) -> None:
    phone.goto("/cases")
    menu = phone.get_by_role("button", name="Menu", exact=True)
    assert menu.get_attribute("aria-expanded") == "false"
    assert phone.locator("header").bounding_box()["height"] <= 140  # the logo and the search box
    assert not phone.get_by_role("link", name="My learning").is_visible()
    assert not phone.get_by_role("button", name="Sign out").is_visible()
    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"
    assert phone.get_by_role("link", name="My learning").is_visible()
    assert phone.get_by_role("button", name="Sign out").is_visible()
    assert axe_violations(phone) == []  # with the menu open
    phone.get_by_role("link", name="My learning").click()
    phone.wait_for_url("**/my/lists")


@pytest.mark.parametrize(("width", "javascript"), [(1280, True), (375, False)])
def test_nothing_folds_on_a_wide_screen_or_without_javascript(playwright_browser, library, width, javascript) -> None:
    context = playwright_browser.new_context(
        base_url=library.config["LIVE_URL"], viewport={"width": width, "height": 812}, java_script_enabled=javascript
    )
    page = context.new_page()
    sign_in(page)
    page.goto("/cases")
    assert not page.get_by_role("button", name="Menu", exact=True).is_visible()
    assert page.get_by_role("link", name="My learning").is_visible()
    assert page.get_by_role("button", name="Sign out").is_visible()
    context.close()
