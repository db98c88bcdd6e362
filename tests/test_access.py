"""Role by route: every rule of the URL map, for anonymous and each role, gets the
expected answer. The table is checked against the app's own URL map, so a route added
without an entry here (or without a declared policy) fails."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from itsdangerous import URLSafeSerializer

from casestudies.models import Role
from casestudies.notifications.email import UNSUBSCRIBE_SALT
from casestudies.policy import route_policy

from .conftest import ROLES, ensure_user

# endpoint -> (method, who may use it). "public" means anyone, signed in or not.
EXPECTED: dict[str, tuple[str, str]] = {
    "static": ("GET", "public"),
    "auth.login": ("GET", "public"),
    # Single sign-on: not set up in this app, so both answer 404 (with it on: tests/test_oidc.py).
    "auth.sso_start": ("POST", "public"),
    "auth.sso_callback": ("GET", "public"),
    # Password reset: asking for a link, and following one (the sample token is no valid link: 400).
    "auth.forgot_password": ("GET", "public"),
    "auth.reset_link": ("GET", "public"),
    "auth.reset_password": ("GET", "public"),
    "admin.send_password_reset": ("POST", "admin"),
    "library.home": ("GET", "learner"),
    "library.cases": ("GET", "learner"),
    "library.case": ("GET", "learner"),
    "library.search": ("GET", "learner"),
    "library.synonyms": ("GET", "curator"),
    "curate.dashboard": ("GET", "curator"),
    "curate.coverage": ("GET", "curator"),
    "curate.new_case": ("GET", "curator"),
    "curate.manage": ("GET", "curator"),
    "curate.edit_case": ("GET", "curator"),
    "curate.change_status": ("POST", "curator"),
    "curate.delete_case": ("GET", "curator"),
    "curate.history": ("GET", "curator"),
    "curate.diff": ("GET", "curator"),
    "curate.restore_revision": ("POST", "curator"),
    "curate.bin": ("GET", "curator"),
    "curate.restore_case": ("POST", "curator"),
    "tags.index": ("GET", "curator"),
    "tags.rename": ("GET", "curator"),
    "tags.merge": ("GET", "curator"),
    "tags.delete": ("GET", "curator"),
    "transfer.index": ("GET", "curator"),
    "transfer.upload": ("POST", "curator"),
    "transfer.confirm": ("POST", "curator"),
    "transfer.discard": ("POST", "curator"),
    "transfer.export": ("GET", "curator"),
    "transfer.progress": ("GET", "curator"),
    "audit.log": ("GET", "curator"),
    "audit.export_csv": ("GET", "curator"),
    # Reports of problems with cases: report 1 is on the sample case (see below).
    "reports.new": ("GET", "learner"),
    "reports.mine": ("GET", "learner"),
    "reports.queue": ("GET", "curator"),
    "reports.resolve": ("GET", "curator"),
    "reports.accessibility_statement": ("GET", "public"),
    "reports.accessibility_problem": ("GET", "learner"),
    "admin.users": ("GET", "admin"),
    "admin.new_user": ("GET", "admin"),
    "admin.user": ("GET", "admin"),
    "admin.change_role": ("POST", "admin"),
    "admin.deactivate": ("GET", "admin"),
    "admin.reactivate": ("POST", "admin"),
    "admin.end_session": ("POST", "admin"),
    "admin.end_all_sessions": ("POST", "admin"),
    "admin.update_details": ("POST", "admin"),
    "admin.single_sign_on": ("POST", "admin"),
    "searchadmin.status": ("GET", "admin"),
    "account.password": ("GET", "learner"),
    # Discussion guides: each facilitator and above signs in owning guide 1, shared (see below).
    "guides.index": ("GET", "facilitator"),
    "guides.new": ("GET", "facilitator"),
    "guides.builder": ("GET", "facilitator"),
    "guides.edit": ("GET", "facilitator"),
    "guides.delete": ("GET", "facilitator"),
    "guides.how_it_went": ("GET", "facilitator"),
    "guides.print_view": ("GET", "facilitator"),
    "guides.pdf": ("GET", "facilitator"),
    "guides.shared": ("GET", "facilitator"),
    "guides.shared_print": ("GET", "facilitator"),
    "guides.shared_pdf": ("GET", "facilitator"),
    "guides.present": ("GET", "facilitator"),
    "guides.present_notes": ("GET", "facilitator"),
    "guides.shared_present": ("GET", "facilitator"),
    "guides.shared_present_notes": ("GET", "facilitator"),
    "guides.add_case": ("POST", "facilitator"),
    "guides.move_case": ("POST", "facilitator"),
    "guides.update_questions": ("POST", "facilitator"),
    "guides.add_question": ("POST", "facilitator"),
    "guides.remove_case": ("POST", "facilitator"),
    "guides.sharing": ("POST", "facilitator"),
    "guides.duplicate": ("POST", "facilitator"),
    "guides.shared_duplicate": ("POST", "facilitator"),
    # My learning: each signed-in user owns list 1 (item 1, shared), reflection 1 and CPD
    # entry 1; collection 1 holds the case as item 1 (see _learning_for).
    "learning.reading_lists": ("GET", "learner"),
    "learning.new_list": ("POST", "learner"),
    "learning.save_case": ("POST", "learner"),
    "learning.reading_list": ("GET", "learner"),
    "learning.rename_list": ("POST", "learner"),
    "learning.move_list": ("POST", "learner"),
    "learning.move_item": ("POST", "learner"),
    "learning.delete_list": ("GET", "learner"),
    "learning.list_sharing": ("POST", "facilitator"),
    "learning.shared_list": ("GET", "learner"),
    "learning.copy_shared_list": ("POST", "learner"),
    "learning.collection": ("GET", "learner"),
    "learning.manage_collections": ("GET", "curator"),
    "learning.new_collection": ("GET", "curator"),
    "learning.edit_collection": ("GET", "curator"),
    "learning.add_collection_case": ("POST", "curator"),
    "learning.move_collection_case": ("POST", "curator"),
    "learning.delete_collection": ("GET", "curator"),
    "learning.notebook_home": ("GET", "learner"),
    "learning.new_reflection": ("GET", "learner"),
    "learning.reflection": ("GET", "learner"),
    "learning.edit_reflection": ("GET", "learner"),
    "learning.delete_reflection": ("GET", "learner"),
    "learning.new_cpd": ("GET", "learner"),
    "learning.edit_cpd": ("GET", "learner"),
    "learning.delete_cpd": ("GET", "learner"),
    "learning.export_pdf": ("GET", "learner"),
    "learning.export_docx": ("GET", "learner"),
    "learning.export_csv": ("GET", "learner"),
    "learning.export_my_data": ("GET", "learner"),
    "learning.delete_notebook": ("GET", "learner"),
    "learning.restore_item": ("POST", "learner"),
    "transfer.import_status": ("GET", "curator"),
    "transfer.export_library": ("POST", "curator"),  # the whole library, as a job
    "transfer.export_status": ("GET", "curator"),  # the user's own finished export (_export_job_for)
    "transfer.export_download": ("GET", "curator"),
    "learning.remove_item": ("POST", "learner"),  # late: they take item 1 away
    "learning.remove_collection_case": ("POST", "curator"),
    "guides.update_plan": ("POST", "facilitator"),
    "guides.add_segment": ("POST", "facilitator"),
    "guides.add_suggested_plan": ("POST", "facilitator"),
    "guides.handout_settings": ("POST", "facilitator"),
    # Handouts: any signed-in user, through the link of guide 1's handout (on: see below).
    "guides.handout": ("GET", "learner"),
    "guides.handout_print": ("GET", "learner"),
    "guides.handout_pdf": ("GET", "learner"),
    "guides.my_sessions": ("GET", "learner"),
    "library.case_print": ("GET", "learner"),
    "library.case_pdf": ("GET", "learner"),
    # Jobs: following job 1 (a shared PDF render, its token SAMPLE_ARGS["token"]); the admins' list.
    "jobs.status": ("GET", "learner"),
    "jobs.admin": ("GET", "admin"),
    "jobs.retry": ("POST", "admin"),
    # Notifications: each signed-in user owns notification 1 (see _notification_for); the
    # unsubscribe link is user 1's, signed with the test SECRET_KEY.
    "notifications.index": ("GET", "learner"),
    "notifications.open_notification": ("GET", "learner"),  # marks it read, then on to the thing itself
    "notifications.mark_read": ("POST", "learner"),
    "notifications.mark_all_read": ("POST", "learner"),
    "notifications.preferences": ("GET", "learner"),
    "notifications.unsubscribe": ("GET", "public"),
    # Curators' insights; a reader's "Was this case useful?"; the privacy notice.
    "insights.gaps": ("GET", "curator"),
    "insights.gaps_csv": ("GET", "curator"),
    "insights.library_use": ("GET", "curator"),
    "insights.use_csv": ("GET", "curator"),
    "insights.gap": ("GET", "curator"),
    "insights.add_synonym": ("POST", "curator"),
    "insights.add_concept": ("POST", "curator"),
    "insights.promote": ("POST", "curator"),
    "insights.add_wanted": ("POST", "curator"),
    "insights.undo": ("POST", "curator"),
    "insights.feedback": ("POST", "learner"),
    "privacy.privacy": ("GET", "public"),
    "auth.logout": ("POST", "learner"),  # last: it ends the session
}

SINGLE_SIGN_ON_OFF = {"auth.sso_start", "auth.sso_callback"}
NO_VALID_RESET_LINK = {"auth.reset_link", "auth.reset_password"}
REDIRECTS = {"notifications.open_notification"}  # a GET that answers with where to go
SAMPLE_QUERY: dict[str, dict[str, object]] = {"curate.diff": {"a": 1, "b": 1}}
SAMPLE_QUERY: dict[str, dict[str, object]] = {
    "curate.diff": {"a": 1, "b": 1},
    "transfer.export": {"q": "porter"},  # a search's results (the whole library is a job)
    "insights.gaps_csv": {"table": "gaps"},
    "insights.use_csv": {"table": "most-read"},
    **{
        f"insights.{name}": {"q": "bullying"} for name in ("gap", "add_synonym", "add_concept", "promote", "add_wanted")
    },
}
SAMPLE_ARGS = {
    "slug": "porter-discharge-lounge",
    "filename": "build/css/main.css",
    "number": 1,
    "case_id": 1,
    "tag_id": 1,
    "user_id": 1,
    "guide_id": 1,
    "item_id": 1,
    "edition": "participant",
    "token": "sample-share-token",
    "job_token": "sample-import-job",
    "export_token": "sample-export-job",
    "report_id": 1,
    "list_id": 1,
    "collection_id": 1,
    "reflection_id": 1,
    "entry_id": 1,
    "session_id": 1,
    "job_id": 1,
    "notification_id": 1,
    "unsubscribe_token": URLSafeSerializer("test-secret", salt=UNSUBSCRIBE_SALT).dumps([1, "weekly-digest"]),
    "kind": "wanted",
}


def _guide_for(user, case) -> None:
    """Guide 1, the user's own, holding the case as item 1, shared as SAMPLE_ARGS["token"]."""
    from casestudies.extensions import db
    from casestudies.guides import editing

    guide, _ = editing.create_guide(user, editing.GuideDetails(title="Sample guide"), first_case_id=case.id)
    guide.share_token = SAMPLE_ARGS["token"]
    guide.handout_token, guide.is_handout_on = SAMPLE_ARGS["token"], True
    db.session.commit()
    assert (guide.id, guide.items[0].id) == (SAMPLE_ARGS["guide_id"], SAMPLE_ARGS["item_id"])


def _report_on(case) -> None:
    """Report 1, a learner's, on the case."""
    from casestudies.extensions import db
    from casestudies.reports import services as reports

    report, _ = reports.report_problem(case, ensure_user("learner"), reports.ReportInput("other", "A typo"))
    db.session.commit()
    assert report is not None and report.id == SAMPLE_ARGS["report_id"]


def _learning_for(user, case) -> None:
    """The user's list 1 (the case as item 1, shared as SAMPLE_ARGS["token"]), reflection 1
    and CPD entry 1; collection 1 with the case as item 1."""
    from datetime import date

    from casestudies.extensions import db
    from casestudies.learning import collections, lists, notebook

    if user is not None:
        reading_list, _ = lists.save_case(user, case.id, list_id=None, new_title="Sample list")
        reading_list.share_token = SAMPLE_ARGS["token"]
        reflection = notebook.save_reflection(user, notebook.ReflectionInput("nmc", "Sample", nature="A case"))
        entry = notebook.save_cpd_entry(
            user, notebook.CpdInput(date(2026, 1, 5), "reading", "1", False, None, "Sample topic")
        )
        assert (reading_list.id, reading_list.items[0].id, reflection.id, entry.id) == (1, 1, 1, 1)
    # Its slug is the case's, so that SAMPLE_ARGS["slug"] names both.
    collection = collections.create_collection(collections.CollectionDetails("Sample collection"), slug=case.slug)
    collections.add_case(collection, case.slug, ensure_user("curator"))
    db.session.commit()
    assert (collection.id, collection.items[0].id) == (SAMPLE_ARGS["collection_id"], 1)


def _failed_job() -> None:
    """Job 1: a shared PDF render that failed, its token SAMPLE_ARGS["token"]."""
    from casestudies.extensions import db
    from casestudies.jobs import enqueue

    job = enqueue("render_pdf", {}, key="pdf:sample", label="PDF sample.pdf")
    job.token, job.state, job.error = SAMPLE_ARGS["token"], "failed", "RuntimeError: sample"
    db.session.commit()
    assert job.id == SAMPLE_ARGS["job_id"]


def _import_job_for(user) -> None:
    """The user's finished import job, its token SAMPLE_ARGS["job_token"]."""
    from casestudies.extensions import db
    from casestudies.jobs import enqueue

    job = enqueue("import_cases", {}, key="import:sample", owner=user, label="Import of sample.zip")
    job.token, job.state = SAMPLE_ARGS["job_token"], "finished"
    summary = {"ok": True, "file_count": 1, "created": 1, "updated": 0, "unchanged": 0, "to_review": 0}
    job.result = json.dumps(summary | {"pending": 0, "files": [], "general": []}).encode()
    db.session.commit()


def _export_job_for(user) -> None:
    """The user's finished export of the whole library, its token SAMPLE_ARGS["export_token"]."""
    from casestudies.extensions import db
    from casestudies.jobs import enqueue
    from casestudies.transfer.uploads import zip_chunks

    job = enqueue("export_library", {}, key=f"export:{user.id}", owner=user)
    job.token, job.state, job.label = SAMPLE_ARGS["export_token"], "finished", "Export every-seat-library-sample.zip"
    job.result = b"".join(zip_chunks([("sample.md", b"---\n")]))
    db.session.commit()


def _notification_for(user) -> None:
    """Notification 1, the user's."""
    from casestudies.extensions import db
    from casestudies.notifications import kinds, services

    services.set_channel(user, kinds.REPORT_RESOLVED, kinds.APP)
    (note,) = services.notify([user], kinds.REPORT_RESOLVED, title="Sample", body="", link="/my-reports")
    db.session.commit()
    assert note.id == SAMPLE_ARGS["notification_id"]


def test_every_route_is_in_the_table_and_declares_a_policy(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(EXPECTED), "add new routes to EXPECTED with who may use them"
    for endpoint, (_, audience) in EXPECTED.items():
        assert route_policy(app, endpoint) == audience, endpoint


def _url(app: Flask, endpoint: str) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **{arg: SAMPLE_ARGS[arg] for arg in rule.arguments}, **SAMPLE_QUERY.get(endpoint, {}))


@pytest.mark.parametrize("who", ["anonymous", "deactivated", *ROLES])
def test_each_role_gets_the_expected_answer_on_every_route(app: Flask, login, make_case, who: str) -> None:
    case = make_case()
    _report_on(case)
    if who in ROLES and ensure_user(who).has_role(Role.FACILITATOR):
        _guide_for(ensure_user(who), case)
    elif who == "learner":  # a facilitator's guide, whose handout the learner opens
        _guide_for(ensure_user("facilitator"), case)
    _learning_for(ensure_user(who) if who in ROLES else None, case)
    _failed_job()
    if who in ROLES and ensure_user(who).can_curate():
        _import_job_for(ensure_user(who))
        _export_job_for(ensure_user(who))
    if who in ROLES:
        _notification_for(ensure_user(who))
    if who == "anonymous":
        client = app.test_client()
    elif who == "deactivated":  # signed in as an admin, then deactivated: treated as signed out
        client = login("admin")
        ensure_user("admin", active=False)
    else:
        client = login(who)
    rank = {role: i for i, role in enumerate(ROLES)}
    for endpoint, (method, audience) in EXPECTED.items():
        if endpoint == "static":
            continue  # built assets are checked by the browser tests
        url = _url(app, endpoint)
        response = client.open(url, method=method)
        if endpoint in SINGLE_SIGN_ON_OFF:
            expected = {404}
        elif endpoint in NO_VALID_RESET_LINK:
            expected = {400}
        elif endpoint in REDIRECTS and who in ROLES:
            expected = {302}
        elif audience == "public":
            expected = {200, 302} if who != "anonymous" else {200}
        elif who in ("anonymous", "deactivated"):
            assert response.status_code == 302, (endpoint, who)
            assert response.headers["Location"].startswith("/login"), (endpoint, who)
            continue
        elif rank[who] >= rank[audience]:
            if method == "POST":  # allowed through: whatever the action answers, never 401/403/5xx
                assert response.status_code not in (401, 403) and response.status_code < 500, (endpoint, who)
                assert not response.headers.get("Location", "").startswith("/login?next"), (endpoint, who)
                continue
            expected = {200}
        else:
            expected = {403}
        assert response.status_code in expected, (endpoint, who, response.status_code)


@pytest.mark.parametrize("status", ["draft", "review"])
@pytest.mark.parametrize(("role", "code"), [("learner", 404), ("facilitator", 404), ("curator", 200), ("admin", 200)])
def test_unpublished_cases_are_for_curators_and_admins_only(
    login, make_case, status: str, role: str, code: int
) -> None:
    make_case(slug="hidden-case", title="Hidden kestrelbay case", status=status)
    client = login(role)
    assert client.get("/cases/hidden-case").status_code == code
    listing = client.get("/cases").get_data(as_text=True)
    results = client.get("/search?q=kestrelbay").get_data(as_text=True)
    visible = code == 200
    assert ("Hidden kestrelbay case" in listing) is visible
    assert ("Hidden kestrelbay case" in results) is visible


def test_a_deactivated_user_is_signed_out_on_the_next_request(app: Flask, login) -> None:
    from casestudies.extensions import db
    from casestudies.models import User

    client = login("curator")
    assert client.get("/cases").status_code == 200
    user = db.session.query(User).filter_by(email="curator@example.org").one()
    user.is_active = False
    db.session.commit()
    response = client.get("/cases")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_an_unknown_page_is_a_404_not_a_500(login) -> None:
    client = login("learner")
    assert client.get("/no/such/page").status_code == 404
    assert client.get("/cases/NOT a slug").status_code == 404
