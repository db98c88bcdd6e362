"""The accessibility statement's facts, and an accessibility problem reported from any page:
it joins the curators' queue of reported problems (a report with no case, naming the page).

TESTED_PAGES names the page types the statement says were tested; tests/test_accessibility.py
checks that they are exactly the pages the browser and HTML checks walk (the route table's
GET pages), so the statement stays true when a page is added."""

from __future__ import annotations

from casestudies.audit import services as audit
from casestudies.extensions import db
from casestudies.models import CaseReport, User
from casestudies.notifications import events as notify
from casestudies.reports.services import MAX_TEXT, FieldErrors

PAGE_MAX = 500

# endpoint -> the page as the statement names it, grouped by the part of the service.
TESTED_PAGES: dict[str, dict[str, str]] = {
    "Signing in and this statement": {
        "auth.login": "Sign in",
        "auth.forgot_password": "Forgot your password (asking for a reset link)",
        "reports.accessibility_statement": "Accessibility statement",
        "reports.accessibility_problem": "Report an accessibility problem",
        "privacy.privacy": "What is recorded about reading and searching",
    },
    "The case library": {
        "library.home": "Home page",
        "library.cases": "Library (browse and filter)",
        "library.case": "A case",
        "library.case_print": "A case, printable",
        "library.search": "Search and its results",
        "library.synonyms": "Search synonyms",
        "reports.new": "Report a problem with a case",
        "reports.mine": "My reports",
        "account.password": "Change password",
    },
    "My learning": {
        "learning.reading_lists": "My lists",
        "learning.reading_list": "A list",
        "learning.delete_list": "Delete a list",
        "learning.shared_list": "A shared reading list",
        "learning.collection": "A collection",
        "learning.notebook_home": "Reflection notebook and CPD log",
        "learning.new_reflection": "Write a reflection",
        "learning.reflection": "A reflection",
        "learning.edit_reflection": "Edit a reflection",
        "learning.delete_reflection": "Delete a reflection",
        "learning.new_cpd": "Add to the CPD log",
        "learning.edit_cpd": "Edit a CPD entry",
        "learning.delete_cpd": "Delete a CPD entry",
        "learning.delete_notebook": "Delete the notebook",
        "guides.handout": "A session handout",
        "guides.handout_print": "A session handout, printable",
        "guides.my_sessions": "My sessions",
    },
    "Notifications": {
        "notifications.index": "Notifications",
        "notifications.preferences": "Notification choices",
        "notifications.unsubscribe": "Stop emails of one kind (from an email's link)",
    },
    "Discussion guides": {
        "guides.index": "My guides",
        "guides.new": "New guide",
        "guides.builder": "Guide builder",
        "guides.edit": "Guide details",
        "guides.delete": "Delete a guide",
        "guides.how_it_went": "How it went",
        "guides.print_view": "A guide, printable",
        "guides.shared": "A shared guide",
        "guides.shared_print": "A shared guide, printable",
        "guides.pdf": "A guide's PDF being made (the page that follows it)",
        "guides.present": "Presenting a guide (the projected window)",
        "guides.present_notes": "Presenting a guide (the facilitator's notes window)",
        "guides.shared_present": "Presenting a shared guide (the projected window)",
        "guides.shared_present_notes": "Presenting a shared guide (the facilitator's notes window)",
    },
    "Curation": {
        "curate.dashboard": "Curation dashboard",
        "curate.coverage": "Coverage of the library",
        "curate.new_case": "New case",
        "curate.manage": "Manage a case",
        "curate.edit_case": "Edit a case",
        "curate.delete_case": "Delete a case",
        "curate.history": "A case's history",
        "curate.diff": "Compare two revisions",
        "curate.bin": "Bin",
        "tags.index": "Tags",
        "tags.rename": "Rename a tag",
        "tags.merge": "Merge tags",
        "tags.delete": "Delete a tag",
        "transfer.index": "Import and export",
        "transfer.import_status": "An import's progress and outcome",
        "transfer.export_status": "An export's progress and download",
        "audit.log": "Audit log",
        "reports.queue": "Reported problems",
        "reports.resolve": "Resolve a report",
        "learning.manage_collections": "Collections",
        "learning.new_collection": "New collection",
        "learning.edit_collection": "Edit a collection",
        "learning.delete_collection": "Delete a collection",
        "insights.gaps": "Search gaps",
        "insights.gap": "A search gap and what to do about it",
        "insights.library_use": "Library use",
    },
    "Administration": {
        "admin.users": "Users",
        "admin.new_user": "New user",
        "admin.user": "A user",
        "admin.deactivate": "Deactivate a user",
        "searchadmin.status": "Search index status",
        "jobs.admin": "Jobs",
    },
}


def tested_endpoints() -> set[str]:
    return {endpoint for group in TESTED_PAGES.values() for endpoint in group}


def report_accessibility_problem(reporter: User, page: str, text: str) -> tuple[CaseReport | None, FieldErrors]:
    """A reader's report of an accessibility problem on a page of the app (its path)."""
    errors: FieldErrors = {}
    page = " ".join(page.split())[:PAGE_MAX]
    text = text.strip()
    if not text:
        errors["text"] = "Say what the problem is"
    elif len(text) > MAX_TEXT:
        errors["text"] = f"Use {MAX_TEXT:,} characters or fewer"
    if errors:
        return None, errors
    report = CaseReport(case=None, page=page or None, reporter=reporter, reason="accessibility", text=text)
    db.session.add(report)
    db.session.flush()
    audit.record(reporter, "report-create", detail=f"Report {report.id}: accessibility problem on {page or 'a page'}")
    notify.problem_reported(report)
    return report, {}
