"""The password reset flow in a real browser (CSRF on, the server's own job runner writing
mail to MAIL_DIR): sign-in page → "Forgot your password?" → the emailed link → a new
password → sign in with it; axe-core on each page and on the message's HTML."""

from __future__ import annotations

import email
import re
import time
from pathlib import Path

import pytest
from flask import Flask

from casestudies.extensions import db

from .conftest import axe_violations, ensure_user

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a brand new passphrase for the library"


def _emailed(app: Flask, seconds: float = 20) -> tuple[str, str]:
    """The reset link and the HTML part of the first message the server's runner writes
    to MAIL_DIR."""
    folder = Path(app.config["MAIL_DIR"])
    deadline = time.monotonic() + seconds
    while not list(folder.glob("*.eml")):
        assert time.monotonic() < deadline, "no mail was written"
        time.sleep(0.1)
    [path] = folder.glob("*.eml")
    message = email.message_from_bytes(path.read_bytes())
    text, html = (part.get_payload(decode=True).decode() for part in message.get_payload())
    match = re.search(r"http://\S+/login/reset/\S+", text)
    assert match, text
    return match.group(0), html


def test_a_learner_resets_a_forgotten_password_from_the_sign_in_page(live_server: Flask, page) -> None:
    with live_server.app_context():
        ensure_user("learner")
        db.session.remove()
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_role("heading", name="Reset your password").wait_for()
    assert axe_violations(page) == []
    page.get_by_label("Email address").fill("learner@example.org")
    page.get_by_role("button", name="Send the link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    assert axe_violations(page) == []
    link, html = _emailed(live_server)
    mail_view = page.context.new_page()
    mail_view.set_content(html)  # the message as a mail program shows its HTML part
    assert mail_view.get_by_role("link", name="Choose a new password").get_attribute("href") == link
    assert axe_violations(mail_view) == []
    mail_view.close()
    page.goto(link)
    page.get_by_role("heading", name="Choose a new password").wait_for()
    assert "/login/reset/" not in page.url  # the token left the address bar
    assert axe_violations(page) == []
    page.get_by_label("New password", exact=True).fill("too short")
    page.get_by_label("New password again").fill("too short")
    page.get_by_role("button", name="Change password").click()
    page.get_by_role("heading", name="There is a problem").wait_for()
    assert axe_violations(page) == []
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.get_by_text("Your password has been changed").wait_for()
    page.get_by_label("Email address").fill("learner@example.org")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    page.goto(link)  # used up
    page.get_by_role("heading", name="This link has expired").wait_for()
    assert axe_violations(page) == []
