"""Notifications: each event reaches the right people and no one else, in the transaction
of the change (a rolled-back change tells nobody); each person's choice per kind; the daily
command's notices once only; email with a one-click unsubscribe; and never a word of a
reflection or a CPD entry."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from casestudies import curation
from casestudies.cases.revisions import case_to_data, save_case_data
from casestudies.curation import overdue, pending
from casestudies.extensions import db
from casestudies.guides import handouts
from casestudies.learning import collections, notebook
from casestudies.models import Case, Job, Notification, User
from casestudies.notifications import kinds, services
from casestudies.notifications.due import send_due
from casestudies.notifications.email import read_unsubscribe_token, unsubscribe_token
from casestudies.reports import services as reports
from casestudies.reports.accessibility import report_accessibility_problem

from .conftest import case_data, ensure_user
from .test_guides import make_guide


def told(kind: str | None = None) -> dict[str, list[str]]:
    """email -> the titles of that person's notifications (of the kind)."""
    query = select(User.email, Notification.title).join(User, User.id == Notification.user_id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    out: dict[str, list[str]] = {}
    for email, title in db.session.execute(query.order_by(Notification.id)):
        out.setdefault(email, []).append(title)
    return out


def mails() -> list[dict]:
    """The mail queued so far (jobs of kind "mail"), their payloads."""
    return [
        json.loads(job.payload) for job in db.session.scalars(select(Job).where(Job.kind == "mail").order_by(Job.id))
    ]


@pytest.fixture
def people(app: Flask) -> dict[str, User]:
    return {
        "writer": ensure_user("curator", email="writer@example.org"),
        "sender": ensure_user("curator", email="sender@example.org"),
        "reviewer": ensure_user("curator", email="reviewer@example.org"),
        "admin": ensure_user("admin"),
        "facilitator": ensure_user("facilitator"),
        "other_facilitator": ensure_user("facilitator", email="other-facilitator@example.org"),
        "learner": ensure_user("learner"),
    }


CURATORS = {"writer@example.org", "sender@example.org", "reviewer@example.org", "admin@example.org"}


def draft_by(author: User) -> Case:
    case, _ = save_case_data(case_data(status="draft"), actor=author)
    db.session.commit()
    return case


# -- review requested, published, returned ----------------------------------------------------


def test_a_case_sent_for_review_tells_the_other_curators_only(people) -> None:
    case = draft_by(people["writer"])
    curation.change_status(case, "review", people["sender"])
    db.session.commit()
    assert set(told(kinds.REVIEW_REQUESTED)) == CURATORS - {"writer@example.org", "sender@example.org"}
    note = db.session.scalar(select(Notification).where(Notification.kind == kinds.REVIEW_REQUESTED))
    assert note.link == f"/curate/cases/{case.slug}" and "waits for review" in note.title


def test_publishing_or_returning_tells_who_wrote_and_sent_it_with_the_note(people) -> None:
    case = draft_by(people["writer"])
    curation.change_status(case, "review", people["sender"])
    curation.change_status(case, "draft", people["reviewer"], "Name the ward in the second paragraph")
    db.session.commit()
    outcome = told(kinds.REVIEW_OUTCOME)
    assert set(outcome) == {"writer@example.org", "sender@example.org"}
    assert "went back to draft" in outcome["writer@example.org"][0]
    body = db.session.scalar(select(Notification.body).where(Notification.kind == kinds.REVIEW_OUTCOME))
    assert "Name the ward in the second paragraph" in body
    curation.change_status(case, "review", people["sender"])
    curation.change_status(case, "published", people["reviewer"])
    db.session.commit()
    assert [t for t in told(kinds.REVIEW_OUTCOME)["writer@example.org"] if "was published" in t]
    assert "reviewer@example.org" not in told(kinds.REVIEW_OUTCOME)


def test_a_pending_change_submitted_published_and_returned(people, make_case) -> None:
    case = make_case()
    guide = make_guide(people["facilitator"], case)
    save_case_data(replace(case_to_data(case), body="A new paragraph.\n"), actor=people["writer"], case=case)
    pending.act(case, pending.SUBMIT, people["sender"])
    db.session.commit()
    assert set(told(kinds.REVIEW_REQUESTED)) == {"reviewer@example.org", "admin@example.org"}
    assert "A change to" in told(kinds.REVIEW_REQUESTED)["admin@example.org"][0]
    pending.act(case, pending.PUBLISH, people["reviewer"])
    db.session.commit()
    assert set(told(kinds.REVIEW_OUTCOME)) == {"writer@example.org", "sender@example.org"}
    # The facilitator whose guide uses the case hears it changed; the other does not.
    changed = told(kinds.GUIDE_CASE_CHANGED)
    assert set(changed) == {"facilitator@example.org"} and "was changed" in changed["facilitator@example.org"][0]
    assert guide.title in changed["facilitator@example.org"][0]
    # A second change, returned: the note reaches its writer.
    save_case_data(replace(case_to_data(case), body="Another paragraph.\n"), actor=people["writer"], case=case)
    pending.act(case, pending.SUBMIT, people["writer"])
    pending.act(case, pending.RETURN, people["reviewer"], "Too long: cut it by half")
    db.session.commit()
    bodies = db.session.scalars(
        select(Notification.body).where(
            Notification.kind == kinds.REVIEW_OUTCOME, Notification.user_id == people["writer"].id
        )
    ).all()
    assert any("Too long: cut it by half" in body for body in bodies)


# -- reports ---------------------------------------------------------------------------------------


def test_a_reported_problem_tells_the_curators_and_its_resolution_tells_the_reader(people, make_case) -> None:
    case = make_case()
    report, _ = reports.report_problem(case, people["learner"], reports.ReportInput("out-of-date", "Old figures"))
    db.session.commit()
    assert set(told(kinds.PROBLEM_REPORTED)) == CURATORS
    assert "Old figures" not in str(told())  # the reader's own words stay in the queue
    reports.resolve_report(report, people["reviewer"], reports.ResolutionInput("fixed", "Figures updated for 2026"))
    db.session.commit()
    assert set(told(kinds.REPORT_RESOLVED)) == {"learner@example.org"}
    body = db.session.scalar(select(Notification.body).where(Notification.kind == kinds.REPORT_RESOLVED))
    assert "Figures updated for 2026" in body


def test_a_curator_reporting_is_not_told_of_their_own_report_and_page_reports_count(people) -> None:
    report, _ = report_accessibility_problem(people["writer"], "/cases", "The filter has no label")
    db.session.commit()
    assert report is not None
    assert set(told(kinds.PROBLEM_REPORTED)) == CURATORS - {"writer@example.org"}


def test_a_report_resolved_as_unpublished_tells_the_facilitator_whose_guide_uses_it(people, make_case) -> None:
    case = make_case()
    make_guide(people["facilitator"], case)
    report, _ = reports.report_problem(case, people["learner"], reports.ReportInput("identifies-someone", "x"))
    reports.resolve_report(report, people["reviewer"], reports.ResolutionInput("unpublished", "Consent withdrawn"))
    db.session.commit()
    assert "was unpublished" in told(kinds.GUIDE_CASE_CHANGED)["facilitator@example.org"][0]


def test_overdue_cases_back_to_review_tell_the_facilitators(people, make_case) -> None:
    case = make_case(review_by=date(2026, 1, 1))
    guide = make_guide(people["facilitator"], case)
    handouts.update_handout(guide, people["facilitator"], "on")
    overdue.return_overdue_to_review(date(2026, 6, 1))
    db.session.commit()
    title = told(kinds.GUIDE_CASE_CHANGED)["facilitator@example.org"][0]
    assert "went back to review" in title and "guide and handout" in title


def test_a_change_rolled_back_tells_nobody_and_mails_nobody(people, make_case) -> None:
    case = make_case()
    reports.report_problem(case, people["learner"], reports.ReportInput("other", "A typo"))
    assert told()  # written in the change's transaction...
    db.session.rollback()
    assert told() == {} and mails() == []  # ...and gone with it


# -- the daily command ---------------------------------------------------------------------------


def test_review_dates_near_and_passed_tell_curators_once(people, make_case, runner) -> None:
    today = date(2026, 3, 10)
    make_case(slug="due-soon", title="Due soon", review_by=today + timedelta(days=7))
    make_case(slug="overdue", title="Overdue", review_by=today - timedelta(days=1))
    make_case(slug="later", title="Later", review_by=today + timedelta(days=8))
    result = runner.invoke(args=["notifications", "send-due", "--today", today.isoformat()])
    assert result.exit_code == 0, result.output
    titles = told(kinds.REVIEW_DUE)
    assert set(titles) == CURATORS
    assert sorted(t.split("”")[0] for t in titles["reviewer@example.org"]) == ["“Due soon", "“Overdue"]
    assert "is overdue for review" in next(t for t in titles["reviewer@example.org"] if "Overdue" in t)
    count = db.session.scalar(select(db.func.count(Notification.id)))
    again = runner.invoke(args=["notifications", "send-due", "--today", today.isoformat()])
    assert again.exit_code == 0 and "0 review-date" in again.output
    assert db.session.scalar(select(db.func.count(Notification.id))) == count
    # The next day: no repeat for the same review dates; "Later" is now 7 days away.
    assert send_due(today + timedelta(days=1)).review_due == len(CURATORS)
    assert [t for t in told(kinds.REVIEW_DUE)["reviewer@example.org"] if "Later" in t]


def test_a_handout_opening_or_closing_tomorrow_tells_its_facilitator_once(people, make_case) -> None:
    today = date(2026, 4, 1)
    case = make_case()
    opening = make_guide(people["facilitator"], case, title="Opening guide")
    handouts.update_handout(opening, people["facilitator"], "on", today + timedelta(days=1), today + timedelta(days=5))
    closing = make_guide(people["other_facilitator"], case, title="Closing guide")
    handouts.update_handout(closing, people["other_facilitator"], "on", None, today + timedelta(days=1))
    off = make_guide(people["facilitator"], case, title="Switched off")
    off.handout_opens_on = today + timedelta(days=1)  # dates kept, handout off: nothing to say
    db.session.commit()
    report = send_due(today)
    db.session.commit()
    assert report.handouts == 2
    assert told(kinds.HANDOUT_DATES) == {
        "facilitator@example.org": ["Your handout for “Opening guide” opens tomorrow, 2 April 2026"],
        "other-facilitator@example.org": ["Your handout for “Closing guide” closes tomorrow, 2 April 2026"],
    }
    assert send_due(today).handouts == 0


def test_the_weekly_digest_is_opt_in_and_lists_the_chosen_seats_and_themes(people, make_case) -> None:
    porter = make_case(slug="porter", title="A porter's case", seat="Porter")
    nurse = make_case(slug="nurse", title="A nurse's case", seat="Nurse")
    make_case(slug="cleaner", title="A cleaner's case", seat="Cleaner")
    theme = collections.create_collection(collections.CollectionDetails("Speaking up"))
    collections.add_case(theme, nurse.slug, people["reviewer"])
    reader = people["learner"]
    services.set_channel(reader, kinds.WEEKLY_DIGEST, kinds.APP)
    services.set_digest_topics(reader, ["Porter", "No such seat"], [theme.id])
    # Chose seats but left the digest off: nothing.
    quiet = ensure_user("learner", email="quiet@example.org")
    services.set_digest_topics(quiet, ["Porter"], [])
    db.session.commit()
    today = date.today()
    assert services.digest_topics(reader) == (["Porter"], [theme.id])
    assert send_due(today).digests == 1
    db.session.commit()
    note = db.session.scalar(select(Notification).where(Notification.kind == kinds.WEEKLY_DIGEST))
    assert note.user_id == reader.id and "2 new or updated cases" in note.title
    assert "A porter's case" in note.body and "A nurse's case" in note.body and "cleaner" not in note.body
    assert porter.title in note.body
    assert send_due(today).digests == 0  # the same week: once


# -- choices ----------------------------------------------------------------------------------------


def test_each_persons_choice_per_kind_decides_app_email_or_nothing(people, make_case) -> None:
    services.set_channel(people["reviewer"], kinds.PROBLEM_REPORTED, kinds.OFF)
    services.set_channel(people["sender"], kinds.PROBLEM_REPORTED, kinds.EMAIL)
    db.session.commit()
    case = make_case()
    reports.report_problem(case, people["learner"], reports.ReportInput("other", "A typo"))
    db.session.commit()
    assert "reviewer@example.org" not in told(kinds.PROBLEM_REPORTED)
    assert {"sender@example.org", "writer@example.org"} <= set(told(kinds.PROBLEM_REPORTED))
    # The default for problem reports is the app only: one mail, to the one who chose email.
    assert [m["to"] for m in mails()] == ["sender@example.org"]
    mail = mails()[0]
    assert mail["kind"] == kinds.PROBLEM_REPORTED and mail["unsubscribe_url"]
    assert "/curate/reports/" in mail["text"] and mail["html"] and "Stop these emails" in mail["html"]


def test_choices_are_limited_to_the_kinds_of_ones_role(people) -> None:
    learner = people["learner"]
    assert {kind.key for kind, _ in services.preferences(learner)} == {kinds.REPORT_RESOLVED, kinds.WEEKLY_DIGEST}
    with pytest.raises(services.PreferenceError):
        services.set_channel(learner, kinds.REVIEW_REQUESTED, kinds.EMAIL)
    with pytest.raises(services.PreferenceError):
        services.set_channel(learner, kinds.WEEKLY_DIGEST, "carrier-pigeon")
    assert dict((k.key, c) for k, c in services.preferences(learner))[kinds.WEEKLY_DIGEST] == kinds.OFF


def test_a_learner_never_gets_a_curators_kind_even_if_named(people) -> None:
    assert services.notify([people["learner"]], kinds.REVIEW_DUE, title="x", body="", link="/") == []


def test_the_unsubscribe_token_names_one_person_and_kind_and_cannot_be_forged(people, app) -> None:
    token = unsubscribe_token(people["learner"], kinds.REPORT_RESOLVED)
    assert read_unsubscribe_token(token) == (people["learner"], kinds.REPORT_RESOLVED)
    from casestudies.errors import NotFound

    for bad in (token[:-2] + "xx", "not-a-token", token.replace(".", "", 1)):
        with pytest.raises(NotFound):
            read_unsubscribe_token(bad)


# -- never a word of a reflection or CPD entry -----------------------------------------------------

MARKER = "zq-private-marker-7741"


def test_no_reflection_or_cpd_text_ever_goes_into_a_notification_or_mail(people, make_case, runner) -> None:
    for kind in kinds.KINDS:  # every channel that can carry text: email for every kind
        for user in people.values():
            if user.role >= kinds.KINDS[kind].audience:
                services.set_channel(user, kind, kinds.EMAIL)
    case = make_case()
    make_case(slug="kept", title="Kept in the library", review_by=date.today() + timedelta(days=2))
    for user in (people["learner"], people["facilitator"], people["writer"]):
        notebook.save_reflection(
            user,
            notebook.ReflectionInput("free", f"Title {MARKER}", body=f"Body {MARKER}", learned=MARKER, case_id=case.id),
        )
        notebook.save_cpd_entry(
            user, notebook.CpdInput(date(2026, 1, 5), "reading", "1", False, None, f"Topic {MARKER}", notes=MARKER)
        )
    services.set_digest_topics(people["learner"], [case.seat], [])
    guide = make_guide(people["facilitator"], case)
    handouts.update_handout(guide, people["facilitator"], "on", date.today() + timedelta(days=1), None)
    report, _ = reports.report_problem(case, people["learner"], reports.ReportInput("other", "A typo"))
    reports.resolve_report(report, people["reviewer"], reports.ResolutionInput("fixed", "Done"))
    save_case_data(replace(case_to_data(case), body="New.\n"), actor=people["writer"], case=case)
    pending.act(case, pending.SUBMIT, people["sender"])
    pending.act(case, pending.PUBLISH, people["reviewer"])
    curation.change_status(case, "draft", people["reviewer"], "Withdrawn for now")
    db.session.commit()
    assert runner.invoke(args=["notifications", "send-due"]).exit_code == 0
    rows = db.session.scalars(select(Notification)).all()
    assert {row.kind for row in rows} == set(kinds.KINDS)  # every kind was sent...
    for row in rows:
        assert MARKER not in row.title + row.body + row.link
    assert mails() and all(MARKER not in json.dumps(mail) for mail in mails())  # ...and none carried it


def test_review_notice_days_is_configurable(app: Flask, people, make_case) -> None:
    today = date(2026, 3, 10)
    make_case(slug="week-away", title="A week away", review_by=today + timedelta(days=7))
    app.config["REVIEW_NOTICE_DAYS"] = 2
    assert send_due(today).review_due == 0
    assert send_due(today + timedelta(days=5)).review_due == len(CURATORS)


# -- the unread count is cheap -----------------------------------------------------------------


def test_the_unread_count_is_one_indexed_count_per_request(app: Flask, login) -> None:
    from sqlalchemy import event, text

    client = login("learner")
    learner = ensure_user("learner")
    services.notify([learner], kinds.REPORT_RESOLVED, title="Hello", body="", link="/my-reports")
    db.session.commit()
    if db.engine.dialect.name == "sqlite":  # SQLite's plan; PostgreSQL's planner may prefer a scan of a tiny table
        plan = " ".join(
            str(row[-1])
            for row in db.session.execute(
                text("EXPLAIN QUERY PLAN SELECT count(*) FROM notification WHERE user_id = 1 AND read_at IS NULL")
            )
        )
        assert "USING COVERING INDEX ix_notification_user_id_read_at" in plan
    counts: list[str] = []

    def remember(conn, cursor, statement, *args) -> None:
        if "count(" in statement.lower() and "notification.read_at is null" in statement.lower():
            counts.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        page = client.get("/notifications")  # the header and the page both show it
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    assert page.status_code == 200 and "1 unread" in page.get_data(as_text=True)
    assert len(counts) == 1


def test_a_daily_run_that_fails_leaves_nothing_behind(people, make_case) -> None:
    # The keyed writes take no savepoint of their own: rolled back with the run.
    make_case(review_by=date(2026, 3, 12))
    assert send_due(date(2026, 3, 10)).review_due == len(CURATORS)
    db.session.rollback()
    assert told() == {}
    assert send_due(date(2026, 3, 10)).review_due == len(CURATORS)  # and the next run sends them


def test_an_import_that_replaces_a_live_case_tells_the_facilitators_whose_guides_use_it(people, make_case) -> None:
    from casestudies.transfer.casefile import BundleFile, dump_case_file
    from casestudies.transfer.services import import_cases

    case = make_case()
    make_guide(people["facilitator"], case)
    changed = dump_case_file(replace(case_data(), body="A new version of the story.\n")).encode("utf-8")
    # Without publishing, the file waits as a pending change: the live text is unchanged.
    import_cases([BundleFile("a.md", changed)], actor=people["admin"])
    assert told(kinds.GUIDE_CASE_CHANGED) == {}
    report = import_cases([BundleFile("a.md", changed)], actor=None, publish=True)
    db.session.commit()
    assert report.published == ["a.md"]
    title = told(kinds.GUIDE_CASE_CHANGED)["facilitator@example.org"][0]
    assert "was changed" in title


# -- pruning ---------------------------------------------------------------------------------------


def test_flask_prune_deletes_read_notifications_older_than_the_configured_age(app: Flask, people, runner) -> None:
    from casestudies.models import utcnow

    learner = people["learner"]
    writer = people["writer"]

    def note(user: User, title: str, *, days_old: int, read: bool, key: str | None = None) -> int:
        [made] = services.notify(
            [user], kinds.REVIEW_DUE if key else kinds.REPORT_RESOLVED, title=title, body="", link="/", key=key
        )
        made.created_at = utcnow() - timedelta(days=days_old)
        made.read_at = utcnow() if read else None
        return made.id

    old_read = note(learner, "old and read", days_old=40, read=True)
    old_unread = note(learner, "old, not read", days_old=40, read=False)
    new_read = note(learner, "new and read", days_old=5, read=True)
    # Kept while kept: an overdue notice's key stops the daily run telling again.
    overdue = note(writer, "overdue", days_old=40, read=True, key="review-overdue:1:2026-01-01")
    due = note(writer, "due", days_old=40, read=True, key="review-due:1:2026-01-01")
    db.session.commit()
    app.config["NOTIFICATION_KEEP_READ_DAYS"] = 30
    result = runner.invoke(args=["prune"])
    assert result.exit_code == 0, result.output
    assert "2 read notification(s) older than 30 days" in result.output
    db.session.expire_all()
    kept = set(db.session.scalars(select(Notification.id)))
    assert kept == {old_unread, new_read, overdue}
    assert old_read not in kept and due not in kept
    app.config["NOTIFICATION_KEEP_READ_DAYS"] = 3
    assert services.prune_read() == 1 and db.session.get(Notification, new_read) is None
