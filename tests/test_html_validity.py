"""Every page type is valid HTML by the Nu Html Checker (vnu.jar from npm, run with
Debian's Java), signed in with CSRF on as in production: the tokens are part of the markup."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from casestudies.cases.revisions import save_case_data
from casestudies.extensions import db
from casestudies.indexing import catch_up
from casestudies.models import Case

from .conftest import PASSWORD, ROOT, case_data, ensure_user
from .test_access import EXPECTED, _export_job_for, _guide_for, _import_job_for, _learning_for, _report_on, _url

pytestmark = pytest.mark.slow

JAVA = Path("/usr/bin/java")
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# Endpoints whose answer is no HTML page (files), or not to a signed-in admin (sign-in).
# Routes that answer with something other than an HTML page (files, JSON, redirects). A PDF's
# first answer is the page following its render job: guides.pdf stands for them all.
NOT_PAGES = {
    "static", "auth.login", "auth.sso_callback", "transfer.progress", "guides.shared_pdf", "jobs.status",
    "audit.export_csv", "transfer.export", "transfer.export_download", "learning.export_pdf", "learning.export_docx",
    "learning.export_csv", "learning.export_my_data", "guides.handout_pdf", "library.case_pdf",
    # A reset link redirects; the page it leads to needs a real emailed link (axe-core checks
    # both, in tests/test_password_reset_browser.py).
    "auth.reset_link", "auth.reset_password",
    "notifications.open_notification",  # a redirect to the thing itself
    "insights.gaps_csv", "insights.use_csv",
}  # fmt: skip


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found[1]


def _signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    token = _token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return client


def _post(client: FlaskClient, path: str, data: dict[str, str]) -> str:
    token = _token(client.get(path).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token}).get_data(as_text=True)


def validate(pages: dict[str, str], tmp_path: Path) -> list[str]:
    """The Nu Html Checker's errors, as "page: line: message"."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    files, files_by_name = {}, []
    for index, (name, html) in enumerate(pages.items()):
        path = tmp_path / f"page-{index:03}.html"
        path.write_text(html, "utf-8")
        files[path.resolve().name] = name
        files_by_name.append(path)
    result = subprocess.run(
        [
            str(JAVA),
            "-jar",
            str(VNU_JAR),
            "--errors-only",
            "--format",
            "json",
            *[str(p) for p in tmp_path.glob("page-*.html")],
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    messages = json.loads(result.stderr or "{}").get("messages", [])
    return [
        f"{files.get(m.get('url', '').rsplit('/', 1)[-1], m.get('url'))}: line {m.get('lastLine')}: {m['message']}"
        for m in messages
        if m.get("type") in ("error", "non-document-error")
    ]


@pytest.fixture
def every_page(csrf_app: Flask) -> dict[str, str]:
    """The HTML of every page type an admin can open (the route table's GET routes), the
    sign-in page, and the editor, dashboard and diff in their other states."""
    overdue = date.today() - timedelta(days=2)
    case, _ = save_case_data(case_data(review_by=overdue), actor=None)
    db.session.commit()
    edited = case_data(summary="A porter sees patients waiting and, with them, redesigns the lounge.")
    edited = replace(edited, review_by=overdue)
    save_case_data(edited, actor=None, case=case)
    db.session.commit()
    catch_up(csrf_app)
    _report_on(case)
    admin = ensure_user("admin")
    _guide_for(admin, case)
    _learning_for(admin, case)
    _import_job_for(admin)
    _export_job_for(admin)
    pages = {"/login (signed out)": csrf_app.test_client().get("/login").get_data(as_text=True)}
    client = _signed_in(csrf_app, admin.email)
    bad = []
    for endpoint, (method, _) in EXPECTED.items():
        if method != "GET" or endpoint in NOT_PAGES:
            continue
        url = _url(csrf_app, endpoint)
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            bad.append((endpoint, url, response.status_code, response.mimetype))
            continue
        pages[url] = response.get_data(as_text=True)
    assert not bad, bad
    editor = {"title": "", "summary": "S", "seat": "Porter", "body": "Some *text*", "q-0-text": "", "q-0-minutes": "x"}
    pages["editor with errors"] = _post(client, "/curate/cases/new", {**editor, "action": "save"})
    pages["editor with a preview"] = _post(client, "/curate/cases/new", {**editor, "action": "preview"})
    copy = {**editor, "title": db.session.get(Case, case.id).title, "q-0-minutes": "", "consent": "obtained"}
    pages["editor with possible duplicates"] = _post(client, "/curate/cases/new", {**copy, "action": "save"})
    assert "This case may already be in the library" in pages["editor with possible duplicates"]
    pages["diff of two revisions"] = client.get(f"/curate/cases/{case.slug}/diff?a=1&b=2").get_data(as_text=True)
    csrf_app.config["AUTO_RETURN_OVERDUE"] = True
    pages["dashboard returning an overdue case"] = client.get("/curate/").get_data(as_text=True)
    assert "went back to review" in pages["dashboard returning an overdue case"]
    learner = _signed_in(csrf_app, ensure_user("learner").email)
    pages["/ (learner)"] = learner.get("/").get_data(as_text=True)
    return pages


def test_every_page_type_is_valid_html(every_page: dict[str, str], tmp_path: Path) -> None:
    assert len(every_page) > 40
    errors = validate(every_page, tmp_path / "pages")
    assert errors == [], "\n".join(errors)


def test_the_checker_does_report_errors(tmp_path: Path) -> None:
    page = (
        '<!DOCTYPE html><html lang="en"><head><title>t</title></head>'
        '<body><p id="a"></p><span id="a" aria-label="x">0</span></body></html>'
    )
    errors = validate({"sample": page}, tmp_path)
    assert any("Duplicate ID" in error for error in errors), errors
    assert any("aria-label" in error for error in errors), errors
