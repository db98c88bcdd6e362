"""The builder's remaining buttons in a real browser: a segment typed in its box is never
lost whichever button is pressed (without JavaScript each posts the one plan form; Enter in
a field presses "Save the timed plan", which adds it); with JavaScript Enter in a box
presses that box's own button; a case's questions reorder in place by the keyboard, with the
live announcement, saved once; the session reorders by dragging a handle. axe-core on each
state with JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import axe_violations, sign_in
from .test_guide_builder_browser import CLERK, PORTER, guide_id, no_js_page, session_titles  # noqa: F401

pytestmark = pytest.mark.browser


def fill_segment_box(page, name: str, minutes: str) -> None:
    box = page.locator(".app-add-segment")
    if not box.get_by_label("Name (optional)").is_visible():
        box.locator("summary", has_text="Reading time, minutes and name").click()
    page.get_by_label("Kind of segment").select_option(label="Break")
    box.get_by_label("Name (optional)").fill(name)
    box.get_by_label("Minutes (optional)").fill(minutes)


def segment_minutes(page, name: str) -> str:
    return page.locator("li.app-guide-segment").filter(has_text=name).locator("input[name^='segment-']").input_value()


def test_a_segment_typed_in_its_box_is_kept_by_every_other_button(guide_id: int, no_js_page) -> None:  # noqa: F811
    page = no_js_page
    sign_in(page, "facilitator")
    page.goto(f"/guides/{guide_id}")
    porter = lambda: page.locator(".app-guide-case", has_text=PORTER)  # noqa: E731
    presses = [
        ("Add your question", lambda: _own_question(porter())),
        ("Use this question", lambda: _use_question(porter())),
        (
            "Move down question 1",
            lambda: porter().get_by_role("button", name=re.compile("Move down question 1")).click(),
        ),
        ("Move case down", lambda: page.get_by_role("button", name=re.compile(f"Move case down\\W*{PORTER}")).click()),
        ("Move down a segment", lambda: page.get_by_role("button", name=re.compile("Move down\\W*Welcome")).click()),
        ("Enter in the name", lambda: page.locator(".app-add-segment").get_by_label("Name (optional)").press("Enter")),
        ("Remove a segment", lambda: page.get_by_role("button", name=re.compile("Remove\\W*Welcome")).click()),
        ("Save the timed plan", lambda: page.get_by_role("button", name="Save the timed plan", exact=True).click()),
    ]
    for number, (what, press) in enumerate(presses, start=1):
        name = f"Pause {number}"
        fill_segment_box(page, name, str(number + 1))
        press()
        page.wait_for_load_state()
        expect(page.locator(".app-flash")).to_contain_text(f"The segment you typed, “{name}”, was added too.")
        assert name in session_titles(page), what
        assert segment_minutes(page, name) == str(number + 1), what
    assert "Welcome and introductions" not in session_titles(page)


def _own_question(case) -> None:
    case.locator("summary", has_text="Add a question of your own").click()
    case.get_by_label("Your question").fill("What would you have done?")
    case.get_by_role("button", name=re.compile("Add your question")).click()


def _use_question(case) -> None:
    case.locator("summary", has_text="Other questions in this case").click()
    case.get_by_role("button", name=re.compile("Use this question")).click()


def test_enter_presses_a_boxs_own_button_and_questions_reorder_by_the_keyboard(guide_id: int, page) -> None:  # noqa: F811
    sign_in(page, "facilitator")
    page.goto(f"/guides/{guide_id}")
    # Enter in the new segment's name adds that segment (not "Save the timed plan").
    fill_segment_box(page, "Stretch", "4")
    page.locator(".app-add-segment").get_by_label("Name (optional)").press("Enter")
    expect(page.locator(".app-flash")).to_have_text(re.compile("“Stretch” added to the session \\(4 minutes\\)"))
    assert session_titles(page)[-1] == "Stretch"
    # Enter in a question's minutes adds that question.
    porter = page.locator(".app-guide-case", has_text=PORTER)
    porter.locator("summary", has_text="Add a question of your own").click()
    porter.get_by_label("Your question").fill("Who would you tell first?")
    porter.locator("input[name$='-minutes']").fill("6")
    porter.locator("input[name$='-minutes']").press("Enter")
    expect(page.locator(".app-flash")).to_contain_text("Your question was added")
    porter = page.locator(".app-guide-case", has_text=PORTER)
    texts = porter.locator(".app-guide-question__text")
    expect(texts).to_have_count(2)
    first, second = (re.sub(r"\s*Your question$", "", t).strip() for t in texts.all_inner_texts())
    assert second == "Who would you tell first?"

    # The keyboard moves a question in place, announced; its buttons and numbers follow.
    url = page.url
    status = page.locator("[data-app-reorder-status]")
    porter.get_by_label("Minutes for question 1").fill("13")
    porter.get_by_role("button", name=re.compile("Move up question 2")).press("Enter")
    expect(status).to_have_text(
        f"Moved “{second} Your question” to position 1 of 2. Save the timed plan to keep this order."
    )
    assert page.url == url
    assert [re.sub(r"\s*Your question$", "", t).strip() for t in texts.all_inner_texts()] == [second, first]
    # Now first: its "Move up" is hidden, focus went to its "Move down", named question 1.
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.startswith("Move down") and "question 1 of" in focused
    expect(porter.get_by_role("button", name=re.compile("Move up question 1"))).to_have_count(0)
    assert porter.get_by_label("Minutes for question 2").input_value() == "13"  # the minutes moved with it
    assert axe_violations(page) == [], "builder after moving a question in place"

    # Saved once, with the minutes typed.
    page.get_by_role("button", name="Save the timed plan", exact=True).click()
    expect(page.locator(".app-flash")).to_contain_text("The timed plan was saved")
    porter = page.locator(".app-guide-case", has_text=PORTER)
    texts = porter.locator(".app-guide-question__text")
    assert [re.sub(r"\s*Your question$", "", t).strip() for t in texts.all_inner_texts()] == [second, first]
    expect(porter.get_by_label("Minutes for question 2")).to_have_value("13")


def test_dragging_a_handle_reorders_the_session_saved_once(guide_id: int, page) -> None:  # noqa: F811
    page.set_viewport_size({"width": 1280, "height": 2400})  # the pointer drags within the window
    sign_in(page, "facilitator")
    page.goto(f"/guides/{guide_id}")
    assert session_titles(page) == ["Welcome and introductions", PORTER, CLERK]
    status = page.locator("[data-app-reorder-status]")
    clerk = page.locator(".app-guide-case", has_text=CLERK)
    handle = clerk.locator("[data-app-drag-handle]").first
    expect(handle).to_be_visible()  # shown with JavaScript only
    # Drop the clerk case on the top half of the welcome: it goes first.
    welcome = page.locator(".app-guide-segment").first
    handle.drag_to(welcome, target_position={"x": 40, "y": 4})
    expect(status).to_have_text(f"Moved “{CLERK}” to position 1 of 3. Save the timed plan to keep this order.")
    assert session_titles(page) == [CLERK, "Welcome and introductions", PORTER]
    numbers = page.locator(".app-plan-list__title [data-app-row-number]").all_inner_texts()
    assert [n.strip() for n in numbers] == ["1.", "2."]
    assert axe_violations(page) == [], "builder after a drag"
    page.get_by_role("button", name="Save the timed plan", exact=True).click()
    expect(page.locator(".app-flash")).to_contain_text("The timed plan was saved")
    assert session_titles(page) == [CLERK, "Welcome and introductions", PORTER]
