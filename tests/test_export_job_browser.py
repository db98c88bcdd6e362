"""The whole library's export in the browser: asked for on the import page, followed on a
page of its own (by itself with JavaScript), then downloaded; axe on each page."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from casestudies.cases.revisions import save_case_data
from casestudies.extensions import db
from casestudies.jobs import start_runner, stop_runner

from .conftest import axe_violations, case_data, ensure_user, sign_in

pytestmark = pytest.mark.browser


def test_the_export_page_follows_the_job_then_offers_the_download(live_server: Flask, page: Any) -> None:
    stop_runner(live_server)  # held in the queue until the progress page is checked
    with live_server.app_context():
        ensure_user("curator")
        save_case_data(case_data(slug="porter-lounge"), actor=None)
        db.session.commit()
        db.session.remove()
    sign_in(page, "curator")
    page.goto("/transfer/")
    page.get_by_role("button", name="Export the whole library (.zip)").click()
    page.wait_for_url("**/transfer/exports/*")
    expect(page.locator("h1")).to_have_text("Exporting the library")
    status = page.get_by_role("status")
    assert status.count() == 1 and status.get_attribute("aria-live") == "polite"
    expect(status).to_contain_text("The export is waiting its turn.")
    assert axe_violations(page) == [], "the page following the export job"

    start_runner(live_server)
    expect(page.locator("h1")).to_have_text("The export is ready", timeout=30_000)  # reloaded by itself
    assert axe_violations(page) == [], "the finished export's page"
    with page.expect_download() as download:
        page.get_by_role("button", name="Download every-seat-library-").click()
    assert download.value.suggested_filename.startswith("every-seat-library-")
    assert download.value.suggested_filename.endswith(".zip")
