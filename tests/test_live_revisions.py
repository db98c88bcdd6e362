"""What learners read is what a second curator approved (issue 22): a published case's row
is its live revision; every way of changing it writes a pending change that learners don't
see until a curator who neither wrote nor sent it publishes it."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from casestudies import curation
from casestudies.cases.revisions import save_case_data
from casestudies.curation import pending
from casestudies.curation.editor import CaseInput
from casestudies.extensions import db
from casestudies.guides import handouts
from casestudies.indexing import catch_up
from casestudies.jobs import run_jobs
from casestudies.learning import lists
from casestudies.models import AuditEvent, Case, SearchJournal
from casestudies.transfer.casefile import dump_case_file

from .conftest import PASSWORD, case_data, ensure_user
from .test_guides import make_guide

LIVE_TITLE = "The porter and the okapine lounge"
LIVE_LINE = "Patients waited for hours in the okapine lounge."
NEW_TITLE = "A title nobody has reviewed yet"
NEW_LINE = "The quokkaish sentence nobody has reviewed."
SLUG = "porter-okapine-lounge"

LIVE = {"title": LIVE_TITLE, "body": f"## The situation\n\n{LIVE_LINE}\n"}
NEW = {"title": NEW_TITLE, "body": f"## The situation\n\n{LIVE_LINE}\n\n{NEW_LINE}\n"}


def signed_in(app: Flask, role: str, email: str) -> FlaskClient:
    user = ensure_user(role, email=email)
    client = app.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def world(app: Flask, make_case):
    """A live case (revision 1 held the new text, as a draft; revision 2, the live text, was
    sent by curator A and published by curator B) in a related case's page, a guide with
    its handout on, and a learner's reading list."""
    author = ensure_user("curator", email="curator-a@example.org")
    second = ensure_user("curator", email="curator-b@example.org")
    case, _ = save_case_data(case_data(slug=SLUG, status="draft", **NEW), actor=author)
    save_case_data(case_data(slug=SLUG, status="draft", **LIVE), actor=author, case=case)
    curation.change_status(case, "review", author)
    curation.change_status(case, "published", second)
    db.session.commit()
    other = make_case(
        slug="clerk-okapine-lounge",
        title="The ward clerk and the okapine lounge",
        body="## The situation\n\nThe ward clerk saw patients waiting for hours in the okapine lounge.\n",
    )
    facilitator = ensure_user("facilitator")
    guide = make_guide(facilitator, case)
    handouts.update_handout(guide, facilitator, "on")
    learner = ensure_user("learner")
    reading_list, _ = lists.save_case(learner, case.id, list_id=None, new_title="Before my placement")
    db.session.commit()
    catch_up(app)
    return {"case_id": case.id, "other": other.slug, "guide": guide.id, "token": guide.handout_token,
            "list": reading_list.id}  # fmt: skip


def surfaces(app: Flask, world) -> dict[str, str]:
    """Every place a learner (or a facilitator's guide) shows the case, as served."""
    catch_up(app)
    learner = signed_in(app, "learner", "learner@example.org")
    facilitator = signed_in(app, "facilitator", "facilitator@example.org")
    pages = {
        "case page": learner.get(f"/cases/{SLUG}"),
        "print view": learner.get(f"/cases/{SLUG}/print"),
        "search results and snippets": learner.get("/search?q=okapine"),
        "search for the new words": learner.get("/search?q=quokkaish"),
        "related cases": learner.get(f"/cases/{world['other']}"),
        "handout": learner.get(f"/guides/handout/{world['token']}"),
        "guide, participant edition": facilitator.get(f"/guides/{world['guide']}/print/participant"),
        "guide, facilitator edition": facilitator.get(f"/guides/{world['guide']}/print/facilitator"),
        "reading list": learner.get(f"/my/lists/{world['list']}"),
        "data download": learner.get("/my/data.json"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
    seen = {name: _stable(response.get_data(as_text=True)) for name, response in pages.items()}
    # The download's account activity grows with every sign-in: its cases are what is compared.
    seen["data download"] = json.dumps(json.loads(seen["data download"])["reading_lists"], indent=1)
    return seen


def _stable(html: str) -> str:
    """A page without what differs on every request (CSP nonces, CSRF tokens), so two answers
    can be compared byte for byte."""
    html = re.sub(r'nonce="[^"]*"', 'nonce=""', html)
    html = re.sub(r'name="csrf_token" (type="hidden" )?value="[^"]*"', 'name="csrf_token"', html)
    html = re.sub(r'<meta name="csrf-token" content="[^"]*"', "<meta", html)
    return html


# -- each way to change a live case ------------------------------------------------------------------
def by_editor(app: Flask, world, tmp_path: Path) -> None:
    case = db.session.get(Case, world["case_id"])
    form = CaseInput.from_case(case)
    fields = {
        "title": NEW_TITLE, "slug": form.slug, "summary": form.summary, "seat": form.seat, "setting": form.setting,
        "tags": form.tags, "consent": form.consent, "review_by": form.review_by, "body": NEW["body"],
        "version": str(form.version), "action": "save", "dimensions": form.dimensions,
        "duplicates_seen": [str(c.id) for c in db.session.scalars(select(Case))],
    }  # fmt: skip
    for index, question in enumerate(form.questions):
        fields[f"q-{index}-text"] = question.text
        fields[f"q-{index}-notes"] = question.notes
        fields[f"q-{index}-minutes"] = question.minutes
    response = signed_in(app, "curator", "curator-a@example.org").post(f"/curate/cases/{SLUG}/edit", data=fields)
    assert response.status_code == 302, response.get_data(as_text=True)


def by_restoring(app: Flask, world, tmp_path: Path) -> None:
    client = signed_in(app, "curator", "curator-a@example.org")
    assert client.post(f"/curate/cases/{SLUG}/revisions/1/restore").status_code == 302


def _new_file() -> bytes:
    return dump_case_file(case_data(slug=SLUG, status="published", **NEW)).encode("utf-8")


def by_import_page(app: Flask, world, tmp_path: Path) -> None:
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    client = signed_in(app, "curator", "curator-a@example.org")
    check = client.post(
        "/transfer/upload",
        data={"files": [(io.BytesIO(_new_file()), f"{SLUG}.md")]},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "Pending change to a live case (stays live)" in check
    token = check.split('name="upload" value="')[1].split('"')[0]
    assert client.post("/transfer/import", data={"upload": token}).status_code == 302
    run_jobs(app)


def by_command_line(app: Flask, world, tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / f"{SLUG}.md").write_bytes(_new_file())
    dry = app.test_cli_runner().invoke(args=["import", "--dry-run", str(folder)])
    assert f"{SLUG}.md: pending change to a live case (stays live)" in dry.output, dry.output
    result = app.test_cli_runner().invoke(args=["import", str(folder)])
    assert result.exit_code == 0, result.output


WAYS = {"editor": by_editor, "restore": by_restoring, "import page": by_import_page, "command line": by_command_line}


@pytest.mark.parametrize("way", list(WAYS))
def test_learners_read_the_live_text_until_a_second_curator_publishes_the_change(
    app: Flask, world, tmp_path: Path, way: str
) -> None:
    before = surfaces(app, world)
    assert LIVE_TITLE in before["case page"] and LIVE_LINE in before["case page"]
    assert LIVE_TITLE in before["related cases"]  # the other case's page lists this one
    assert SLUG not in before["search for the new words"]

    WAYS[way](app, world, tmp_path)
    db.session.expire_all()

    waiting = surfaces(app, world)
    for name, page in waiting.items():
        assert page == before[name], f"{name} changed before a second curator published the change ({way})"
        assert NEW_TITLE not in page and (NEW_LINE not in page), name

    # Curator B sees the change against the live text, and publishes it.
    author = signed_in(app, "curator", "curator-a@example.org")
    case = db.session.get(Case, world["case_id"])
    if case.pending_status == "draft":
        assert author.post(f"/curate/cases/{SLUG}/status", data={"to": "submit-change"}).status_code == 302
    reviewer = signed_in(app, "curator", "curator-b@example.org")
    manage = reviewer.get(f"/curate/cases/{SLUG}").get_data(as_text=True)
    assert "The change waiting, against the live text" in manage and "quokkaish" in manage
    published = reviewer.post(f"/curate/cases/{SLUG}/status", data={"to": "publish-change"})
    assert published.status_code == 302, published.get_data(as_text=True)
    db.session.expire_all()

    after = surfaces(app, world)
    for name in ("case page", "print view", "handout", "guide, participant edition", "guide, facilitator edition"):
        assert NEW_TITLE in after[name] and NEW_LINE in after[name], name
    assert SLUG in after["search for the new words"] and NEW_TITLE in after["search for the new words"]
    assert NEW_TITLE in after["related cases"] and NEW_TITLE in after["reading list"]
    # A download keeps the title as it was when the case was saved to the list.
    assert json.loads(after["data download"])[0]["cases"][0]["title"] == LIVE_TITLE


# -- the three stories of the issue, each failing before ---------------------------------------------
def test_a_body_line_beginning_status_does_not_hide_who_wrote_it(app: Flask) -> None:
    author = ensure_user("curator", email="curator-a@example.org")
    other = ensure_user("curator", email="curator-b@example.org")
    # Written today, as the editor dates it: the other curator's save then differs from the
    # revision before it only by a line beginning `status:`.
    case, _ = save_case_data(case_data(slug=SLUG, status="draft", updated=date.today(), **LIVE), actor=author)
    curation.change_status(case, "review", author)
    form = CaseInput.from_case(case)
    form.body += "status: checked, and the porter was wrong all along.\n"  # the paragraph goes on
    changed, errors = curation.update_case(case, form, other)
    assert changed and not errors
    db.session.commit()
    blocker = curation.publish_blocker(case, other)
    assert blocker is not None and "you wrote its current revision" in blocker
    with pytest.raises(curation.CurationError):
        curation.change_status(case, "published", other)


def test_reimporting_an_exported_live_case_keeps_it_live(app: Flask, world, login) -> None:
    from casestudies.transfer.casefile import BundleFile
    from casestudies.transfer.services import import_cases

    case = db.session.get(Case, world["case_id"])
    exported = dump_case_file(replace(case_data(slug=SLUG, status="published", **LIVE), summary="Edited offline."))
    report = import_cases([BundleFile(f"{SLUG}.md", exported.encode("utf-8"))], actor=ensure_user("curator"))
    db.session.commit()
    assert (
        report.pending == [f"{SLUG}.md"]
        and report.to_review == []
        and report.outcomes() == [(f"{SLUG}.md", "pending change to a live case (stays live)")]
    )
    db.session.expire_all()
    case = db.session.get(Case, world["case_id"])
    assert (case.status, case.pending_status) == ("published", "review") and case.summary != "Edited offline."
    catch_up(app)
    learner = login("learner")
    assert learner.get(f"/cases/{SLUG}").status_code == 200
    assert "not available any more" not in learner.get(f"/guides/handout/{world['token']}").get_data(as_text=True)
    assert "no longer available" not in learner.get(f"/my/lists/{world['list']}").get_data(as_text=True)


def test_restoring_a_revision_of_a_live_case_waits_for_review(app: Flask, world) -> None:
    case = db.session.get(Case, world["case_id"])
    curator = ensure_user("curator", email="curator-a@example.org")
    curation.restore_revision(case, 1, curator)
    db.session.commit()
    db.session.expire_all()
    case = db.session.get(Case, world["case_id"])
    assert case.title == LIVE_TITLE and NEW_LINE not in case.body
    assert case.pending_revision_number == case.version and case.pending_status == "draft"
    assert db.session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "revision-restore"))


# -- the pending change's workflow -------------------------------------------------------------------
def _edit(case: Case, actor, **fields) -> None:
    form = CaseInput.from_case(case)
    for name, value in fields.items():
        setattr(form, name, value)
    form.duplicates_seen = frozenset(db.session.scalars(select(Case.id)))
    changed, errors = curation.update_case(case, form, actor)
    assert changed and not errors


def test_whoever_wrote_or_sent_a_change_cannot_publish_it_and_an_admin_override_is_recorded(app: Flask, world) -> None:
    case = db.session.get(Case, world["case_id"])
    writer = ensure_user("curator", email="curator-a@example.org")
    sender = ensure_user("curator", email="curator-b@example.org")
    _edit(case, writer, body=NEW["body"])
    with pytest.raises(curation.CurationError, match="not in review"):
        pending.act(case, pending.PUBLISH, ensure_user("curator", email="curator-c@example.org"))
    pending.act(case, pending.SUBMIT, sender)
    assert pending.change_blockers(case) == {writer.id: ["you wrote it"], sender.id: ["you sent it for review"]}
    for blocked in (writer, sender):
        with pytest.raises(curation.CurationError, match="Another curator must publish this change"):
            pending.act(case, pending.PUBLISH, blocked)
    admin = ensure_user("admin")
    _edit(case, admin, title=NEW_TITLE)  # the admin wrote part of it too
    with pytest.raises(curation.CurationError, match="give the reason"):
        pending.act(case, pending.PUBLISH, admin)
    pending.act(case, pending.PUBLISH, admin, override_reason="The author is on leave; the text was checked by phone")
    db.session.commit()
    assert case.title == NEW_TITLE and NEW_LINE in case.body and case.pending_revision_number is None
    assert case.live_revision_number == case.version
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "review-override"))
    assert event.actor_id == admin.id and "The author is on leave" in event.detail


def test_returning_a_change_keeps_the_live_text_and_the_change_can_be_sent_again(app: Flask, world) -> None:
    case = db.session.get(Case, world["case_id"])
    writer = ensure_user("curator", email="curator-a@example.org")
    reviewer = ensure_user("curator", email="curator-b@example.org")
    _edit(case, writer, body=NEW["body"])
    pending.act(case, pending.SUBMIT, writer)
    with pytest.raises(curation.CurationError, match="comment is required"):
        pending.act(case, pending.RETURN, reviewer)
    pending.act(case, pending.RETURN, reviewer, "Check the quote with the porter first")
    db.session.commit()
    assert case.pending_status == "draft" and NEW_LINE not in case.body and case.status == "published"
    assert NEW_LINE in CaseInput.from_case(case).body  # the editor reopens the change, nothing lost
    pending.act(case, pending.SUBMIT, writer)
    pending.act(case, pending.PUBLISH, reviewer)
    db.session.commit()
    assert NEW_LINE in case.body
    changes = select(AuditEvent.action).where(AuditEvent.action.like("change-%")).order_by(AuditEvent.id)
    actions = db.session.scalars(changes).all()
    assert actions == ["change-submit", "change-return", "change-submit", "change-publish"]


def test_unpublishing_keeps_the_live_text_as_the_draft_and_the_change_in_history(app: Flask, world) -> None:
    case = db.session.get(Case, world["case_id"])
    writer = ensure_user("curator", email="curator-a@example.org")
    _edit(case, writer, body=NEW["body"])
    change = case.pending_revision_number
    with pytest.raises(curation.CurationError, match="comment"):
        curation.change_status(case, "draft", writer)
    curation.change_status(case, "draft", writer, "Consent withdrawn")
    db.session.commit()
    assert case.status == "draft" and NEW_LINE not in case.body
    assert case.pending_revision_number is None and case.live_revision_number is None
    assert NEW_LINE in curation.get_revision(case, change).content


def test_the_dashboard_lists_changes_waiting_and_the_review_page_shows_the_diff(app: Flask, world, login) -> None:
    case = db.session.get(Case, world["case_id"])
    _edit(case, ensure_user("curator", email="curator-a@example.org"), body=NEW["body"])
    db.session.commit()
    client = signed_in(app, "curator", "curator-b@example.org")
    board = client.get("/curate/").get_data(as_text=True)
    drafts = board.split('id="changes-in-draft"')[1].split("</ul>")[0]
    assert LIVE_TITLE in drafts
    manage = client.get(f"/curate/cases/{SLUG}").get_data(as_text=True)
    assert re.search(r"<ins>[^<]*quokkaish[^<]*</ins>", manage)  # the change against the live text
    assert "Submit the change for review" in manage
    history = client.get(f"/curate/cases/{SLUG}/history").get_data(as_text=True)
    assert "(live)" in history and "(change waiting)" in history


def test_a_live_case_goes_to_the_bin_only_with_a_reason(app: Flask, world) -> None:
    client = signed_in(app, "curator", "curator-a@example.org")
    page = client.get(f"/curate/cases/{SLUG}/delete").get_data(as_text=True)
    assert 'name="reason"' in page
    refused = client.post(f"/curate/cases/{SLUG}/delete", data={"reason": " "})
    assert refused.status_code == 400 and "say why it is leaving the library" in refused.get_data(as_text=True)
    assert client.post(f"/curate/cases/{SLUG}/delete", data={"reason": "Consent withdrawn"}).status_code == 302
    db.session.expire_all()
    case = db.session.get(Case, world["case_id"])
    assert case.is_deleted and case.status == "draft"
    assert curation.state_history(case)[0].comment == "Moved to the bin: Consent withdrawn"


def test_publish_on_the_command_line_still_replaces_a_live_case_at_once_and_is_recorded(
    app: Flask, world, tmp_path: Path
) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / f"{SLUG}.md").write_bytes(_new_file())
    result = app.test_cli_runner().invoke(args=["import", "--publish", str(folder)])
    assert result.exit_code == 0 and "updated at once (--publish)" in result.output, result.output
    db.session.expire_all()
    case = db.session.get(Case, world["case_id"])
    assert case.title == NEW_TITLE and case.pending_revision_number is None
    assert case.live_revision_number == case.version
    detail = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "import")).all()[-1]
    assert detail.endswith("published as marked (command line --publish)")


def test_a_pending_change_leaves_the_index_alone_and_its_publication_is_journaled(app: Flask, world) -> None:
    def journaled() -> int:
        return len(db.session.scalars(select(SearchJournal.id).where(SearchJournal.case_id == world["case_id"])).all())

    case = db.session.get(Case, world["case_id"])
    before = journaled()
    _edit(case, ensure_user("curator", email="curator-a@example.org"), body=NEW["body"])
    pending.act(case, pending.SUBMIT, ensure_user("curator", email="curator-a@example.org"))
    db.session.commit()
    assert journaled() == before  # what learners read has not changed
    pending.act(case, pending.PUBLISH, ensure_user("curator", email="curator-b@example.org"))
    db.session.commit()
    assert journaled() == before + 1


def test_the_dry_run_and_the_import_page_flag_possible_duplicates(app: Flask, world, tmp_path: Path) -> None:
    twin = dump_case_file(case_data(slug="another-okapine-lounge", status="draft", **LIVE)).encode("utf-8")
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "twin.md").write_bytes(twin)
    dry = app.test_cli_runner().invoke(args=["import", "--dry-run", str(folder)])
    assert f"twin.md: possible duplicate of “{LIVE_TITLE}” (the same title" in dry.output, dry.output
    assert "twin.md: new case" in dry.output
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    client = signed_in(app, "curator", "curator-a@example.org")
    files = {"files": [(io.BytesIO(twin), "twin.md")]}
    check = client.post("/transfer/upload", data=files, content_type="multipart/form-data").get_data(as_text=True)
    assert f"Possible duplicate of “{LIVE_TITLE}” (the same title" in check
