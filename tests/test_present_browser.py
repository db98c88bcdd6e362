"""The presenter view in a real browser: the clock (Playwright's clock, no sleeping), the
keys and buttons, the two windows moving together, no notes on the projected one, no
network needed once open, and axe-core on both windows."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from playwright.sync_api import expect

from casestudies.extensions import db

from .conftest import axe_violations, sign_in
from .test_presenting import KEY_POINT, NOTE, make_guide

pytestmark = pytest.mark.browser

SECOND = "How did he win over the ward sisters?"


@pytest.fixture
def guide_id(live_server: Flask) -> int:
    from .conftest import case_data

    with live_server.app_context():
        from casestudies.cases.revisions import save_case_data
        from casestudies.indexing import catch_up

        def make_case(**overrides):
            case, _ = save_case_data(case_data(**overrides), actor=None)
            db.session.commit()
            catch_up(live_server)
            return case

        guide = make_guide(make_case)
        guide_id = guide.id
        db.session.remove()
    return guide_id


def test_present_the_session_with_the_clock_keys_notes_window_and_no_network(
    live_server: Flask, guide_id: int, page
) -> None:
    start = dt.datetime(2027, 3, 1, 14, 0, 0)
    page.clock.install(time=start - dt.timedelta(minutes=1))
    sign_in(page, "facilitator")
    page.clock.pause_at(start)  # from here, time moves only when the test says so
    page.goto(f"/guides/{guide_id}/present")
    left = page.locator("[data-app-present-left]")
    current = page.locator("[data-app-present-item]:visible")
    expect(current).to_have_count(1)
    expect(current.locator("h2")).to_have_text("What did the porter notice that others missed?")
    expect(left).to_have_text("10:00 left of 10 minutes")
    expect(page.locator("[data-app-present-next]")).to_have_text(f"Next: {SECOND} (12 minutes)")
    expect(page.locator("[data-app-present-clock]")).to_have_text("14:00")
    assert NOTE not in page.content() and KEY_POINT not in page.content()

    page.clock.run_for(61_000)
    expect(left).to_have_text("8:59 left of 10 minutes")
    expect(page.locator("[data-app-present-clock]")).to_have_text("14:01")
    page.keyboard.press("p")  # pause: the clock stops
    page.clock.run_for(120_000)
    expect(left).to_have_text("8:59 left of 10 minutes (paused)")
    page.get_by_role("button", name="Resume").click()
    page.clock.run_for(9 * 60_000)
    expect(left).to_have_text("Over by 0:01 (10 minutes planned)")
    expect(left).to_have_class("app-present__left app-present__left--over")

    # The facilitator's window joins at the current item and shows its notes.
    notes = page.context.new_page()
    notes.goto(f"/guides/{guide_id}/present/notes")
    notes_current = notes.locator("[data-app-present-item]:visible")
    expect(notes_current.locator("h2")).to_have_text("What did the porter notice that others missed?")
    expect(notes_current).to_contain_text(KEY_POINT)

    # Offline from here: the keys still work in both windows, and nothing is fetched.
    requests: list[str] = []
    page.context.on("request", lambda request: requests.append(request.url))
    page.context.set_offline(True)
    page.bring_to_front()
    page.keyboard.press("ArrowRight")
    expect(current.locator("h2")).to_have_text(SECOND)
    expect(left).to_have_text("12:00 left of 12 minutes")
    expect(page.locator("[data-app-present-next]")).to_have_text("Next: Break (15 minutes)")
    expect(notes_current.locator("h2")).to_have_text(SECOND)
    expect(notes_current).to_contain_text(NOTE)
    assert NOTE not in page.content()

    notes.keyboard.press("n")  # the notes window drives the projected one
    expect(current.locator("h2")).to_have_text("Break")
    page.get_by_role("button", name="Next").click()
    expect(current.locator("h2")).to_have_text("Close")
    expect(page.locator("[data-app-present-next]")).to_have_text("Next: the end of the session")
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    # The first item's clock carried on where it stopped.
    expect(current.locator("h2")).to_have_text("What did the porter notice that others missed?")
    expect(left).to_have_text("Over by 0:01 (10 minutes planned)")
    expect(page.get_by_role("button", name="Back")).to_be_disabled()
    assert requests == []
    page.clock.resume()  # axe-core waits on timers
    assert axe_violations(page) == []
    assert axe_violations(notes) == []
