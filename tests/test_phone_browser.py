"""Issue 27 in a real browser on a phone: the "Save" disclosure under each result, with and
without JavaScript, and its "Saved" state; axe-core with it open."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from .conftest import axe_violations, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


@pytest.mark.parametrize("javascript", [True, False])
def test_save_opens_when_asked_and_then_says_saved(playwright_browser: Any, library: Flask, javascript: bool) -> None:
    context = playwright_browser.new_context(
        base_url=library.config["LIVE_URL"], viewport=PHONE, java_script_enabled=javascript
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page)
    page.goto("/search?q=nurse")
    first = page.locator(".app-case-list__item").first
    first.get_by_role("button", name=re.compile("^Save to my list")).click()  # a first list: one button
    page.wait_for_url("**/search?q=nurse")
    first = page.locator(".app-case-list__item").first
    second = page.locator(".app-case-list__item").nth(1)
    assert first.locator("summary").inner_text().split()[0] == "Saved"
    assert second.locator("summary").inner_text().split()[0] == "Save"
    choices = second.get_by_label("Name of a new list (optional)")
    assert not choices.is_visible()  # closed until asked
    control = second.locator("details.app-save").bounding_box()
    assert control is not None and control["height"] < 50  # the list menu, name and button took about 200 px
    second.locator("summary").click()
    choices.fill("Night shifts")
    assert axe_violations(page) == [] if javascript else True
    second.get_by_role("button", name="Save to list").click()
    page.wait_for_url("**/search?q=nurse")
    assert "Saved to Night shifts" in page.locator(".app-flash").inner_text()
    assert page.locator(".app-case-list__item").nth(1).locator("summary").inner_text().split()[0] == "Saved"
    context.close()
