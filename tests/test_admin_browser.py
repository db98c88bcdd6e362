"""Tags, import/export, accounts and the audit log in a real browser (CSRF on), with
axe-core on every page they add."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from casestudies.extensions import db
from casestudies.models import Tag, User
from casestudies.transfer.casefile import dump_case_file

from .conftest import PASSWORD, axe_violations, case_data, ensure_user, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def site(library: Flask, tmp_path: Path) -> dict[str, int]:
    """The sample library with an admin, an unused tag, and the ids the pages need."""
    library.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    with library.app_context():
        admin = ensure_user("admin")
        curator = ensure_user("curator")
        db.session.add(Tag(name="unused tag", key="unused tag"))
        db.session.commit()
        ids = {
            "admin": admin.id,
            "curator": curator.id,
            "culture": db.session.scalar(select(Tag.id).where(Tag.key == "culture")),
            "whistleblowing": db.session.scalar(select(Tag.id).where(Tag.key == "whistleblowing")),
            "unused": db.session.scalar(select(Tag.id).where(Tag.key == "unused tag")),
        }
        db.session.remove()
    return ids


def new_case_file(tmp_path: Path) -> Path:
    path = tmp_path / "night-porter.md"
    data = case_data(slug="night-porter-quokka", title="The night porter and the quokka rota")
    path.write_text(dump_case_file(data), "utf-8")
    return path


def test_import_in_the_browser_then_a_learner_finds_the_case(
    site, page, playwright_browser, library: Flask, tmp_path: Path
) -> None:
    # An admin, who confirms the publication of the file marked published (a curator's
    # import would put it in review, for another curator to publish).
    sign_in(page, "admin")
    page.get_by_role("link", name="Import/export").first.click()
    page.locator("#files").set_input_files(str(new_case_file(tmp_path)))
    page.get_by_role("button", name="Upload and check").click()
    page.get_by_role("heading", name="Check the import").wait_for()
    assert "night-porter.md" in page.locator("#report").inner_text()
    assert axe_violations(page) == []
    page.get_by_label("Publish the files marked published").check()
    page.get_by_role("button", name="Import 1 file").click()
    # The import runs as a job: its page follows it and shows the outcome by itself.
    page.get_by_text("Imported 1 file: 1 new").wait_for(timeout=30_000)
    assert page.get_by_role("heading", name="Cases imported").is_visible()
    assert axe_violations(page) == []

    learner = playwright_browser.new_context(base_url=library.config["LIVE_URL"]).new_page()
    sign_in(learner, "learner")
    learner.goto("/search?q=quokka")
    assert learner.locator(".app-case-list a").first.inner_text() == "The night porter and the quokka rota"
    learner.context.close()


def test_an_invalid_upload_shows_file_line_problems(site, page, tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("---\ntitle: Only a title\n---\nBody\n", "utf-8")
    sign_in(page, "curator")
    page.goto("/transfer/")
    page.locator("#files").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and check").click()
    assert "bad.md:" in page.locator("#report").inner_text()
    page.locator(".nhsuk-error-summary").wait_for()
    assert page.get_by_role("button", name="Import 1 file").count() == 0
    assert axe_violations(page) == []


def test_export_these_results_downloads_a_zip_of_case_files(site, page) -> None:
    sign_in(page, "curator")
    page.goto("/search?q=porter")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export these results").click()
    download = download_info.value
    assert download.suggested_filename.startswith("every-seat-search-porter-")
    with zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes())) as archive:
        names = archive.namelist()
    assert "porter-redesigned-discharge-lounge.md" in names


def test_rename_refused_then_merge_with_confirmation(site, page) -> None:
    sign_in(page, "curator")
    page.goto(f"/tags/{site['whistleblowing']}/rename")
    page.get_by_label("New name").fill("Culture")
    page.get_by_role("button", name="Rename").click()
    page.locator(".nhsuk-error-summary").wait_for()
    assert page.get_by_label("New name").input_value() == "Culture"
    assert axe_violations(page) == []
    page.get_by_role("link", name="Merge “whistleblowing” into “culture”").first.click()
    assert page.locator("#into").input_value() == str(site["culture"])
    page.get_by_role("button", name="Merge tags").click()  # without ticking the box
    assert "Tick the box" in page.locator(".nhsuk-error-summary").inner_text()
    assert axe_violations(page) == []
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Merge tags").click()
    assert "Merged “whistleblowing” into “culture”" in page.locator(".app-flash").inner_text()
    page.goto("/cases?tag=whistleblowing")
    assert page.locator(".app-case-list li").count() == 0


def test_a_deactivated_curator_is_signed_out_on_their_next_click(
    site, page, playwright_browser, library: Flask
) -> None:
    curator = playwright_browser.new_context(base_url=library.config["LIVE_URL"]).new_page()
    sign_in(curator, "curator")
    sign_in(page, "admin")
    page.get_by_role("link", name="Users").first.click()
    page.get_by_role("link", name="Test curator").click()
    page.get_by_role("link", name="Deactivate Test curator").click()
    page.get_by_role("button", name="Deactivate Test curator").click()
    assert "Deactivated Test curator" in page.locator(".app-flash").inner_text()
    curator.goto("/tags/")
    assert "/login" in curator.url
    curator.context.close()
    with library.app_context():
        assert not db.session.get(User, site["curator"]).is_active
        db.session.remove()


def test_create_an_account_keeps_what_was_typed_when_refused(site, page) -> None:
    sign_in(page, "admin")
    page.goto("/admin/users/new")
    page.get_by_label("Full name").fill("Sam Porter")
    page.get_by_label("Email address").fill("sam@example.org")
    page.get_by_label("Role").select_option("curator")
    page.get_by_label("Initial password").fill("short")
    page.get_by_role("button", name="Create the account").click()
    assert "at least 12 characters" in page.locator(".nhsuk-error-summary").inner_text()
    assert page.get_by_label("Full name").input_value() == "Sam Porter"
    assert page.get_by_label("Role").input_value() == "curator"
    assert axe_violations(page) == []
    page.get_by_label("Initial password").fill("a long enough passphrase")
    page.get_by_role("button", name="Create the account").click()
    assert "Created the account of Sam Porter" in page.locator(".app-flash").inner_text()


def test_change_own_password_with_errors_then_success(site, page) -> None:
    sign_in(page, "learner")
    page.get_by_role("link", name="Change password").click()
    page.get_by_label("Current password").fill("not my password at all")
    page.get_by_label("New password", exact=True).fill("a brand new passphrase")
    page.get_by_label("New password again").fill("a brand new passphrase")
    page.get_by_role("button", name="Change password").click()
    assert "not right" in page.locator(".nhsuk-error-summary").inner_text()
    assert axe_violations(page) == []
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("a brand new passphrase")
    page.get_by_label("New password again").fill("a brand new passphrase")
    page.get_by_role("button", name="Change password").click()
    assert "Your password has been changed" in page.locator(".app-flash").inner_text()


def _pages(site: dict[str, int]) -> list[tuple[str, str]]:
    return [
        ("curator", "/tags/"),
        ("curator", f"/tags/{site['culture']}/rename"),
        ("curator", f"/tags/{site['culture']}/merge"),
        ("curator", f"/tags/{site['culture']}/delete"),
        ("curator", f"/tags/{site['unused']}/delete"),
        ("curator", "/transfer/"),
        ("curator", "/audit"),
        ("curator", "/audit?since=not-a-date&action=import"),
        ("curator", "/search?q=porter"),
        ("admin", "/admin/users"),
        ("admin", "/admin/users/new"),
        ("admin", f"/admin/users/{site['curator']}"),
        ("admin", f"/admin/users/{site['admin']}"),
        ("admin", f"/admin/users/{site['curator']}/deactivate"),
        ("learner", "/account/password"),
    ]


def test_axe_finds_no_violation_on_any_new_page(site, page) -> None:
    failures = {}
    signed_in_as = None
    for role, path in _pages(site):
        if role != signed_in_as:
            page.context.clear_cookies()
            sign_in(page, role)
            signed_in_as = role
        page.goto(path)
        violations = axe_violations(page)
        if violations:
            failures[path] = violations
    assert failures == {}


def test_axe_on_pages_showing_errors(site, page) -> None:
    sign_in(page, "curator")
    page.goto("/transfer/")
    page.get_by_role("button", name="Upload and check").click()  # no file chosen
    page.locator(".nhsuk-error-summary").wait_for()
    assert axe_violations(page) == []
    page.context.clear_cookies()
    sign_in(page, "admin")
    page.goto(f"/admin/users/{site['admin']}")
    page.get_by_label("Role").select_option("learner")
    page.get_by_role("button", name="Change the role").click()
    assert "your own admin role" in page.locator(".nhsuk-error-summary").inner_text()
    assert axe_violations(page) == []
