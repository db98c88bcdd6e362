"""Discussion guides: the rules in the service (ordering, minutes, clock times, sharing,
duplication, unpublished cases), the permissions at the routes, and the two PDFs."""

from __future__ import annotations

import io
import re
from datetime import date, time
from pathlib import Path

import pytest
from flask import Flask
from pypdf import PdfReader
from werkzeug.datastructures import MultiDict

from casestudies.cases.revisions import save_case_data
from casestudies.extensions import db
from casestudies.guides import access, editing, render
from casestudies.guides import plan as timed_plan
from casestudies.guides.access import GuideNotFound
from casestudies.guides.editing import GuideDetails, GuideError
from casestudies.guides.forms import plan_minutes
from casestudies.models import Case, Guide, User
from casestudies.transfer.casefile import QuestionData

from .conftest import case_data, ensure_user, fetch_pdf

# -- helpers -------------------------------------------------------------------------------
Q = QuestionData


def make_guide(author: User, *cases: Case, **details) -> Guide:
    values = {"title": "Speaking up: an afternoon for ward managers", **details}
    guide, problem = editing.create_guide(author, GuideDetails(**values))
    assert problem is None
    for case in cases:
        editing.add_case(guide, case.id)
    db.session.commit()
    return guide


def reload(guide: Guide) -> Guide:
    guide_id, author = guide.id, guide.author
    db.session.expire_all()
    return access.get_guide_for_viewer(guide_id, author)


@pytest.fixture
def two_cases(make_case):
    first = make_case(
        slug="porter-lounge",
        title="The porter and the lounge",
        questions=(
            Q("What did the porter notice?", notes="Porter steer", minutes=15),
            Q("Who else could have acted?"),  # no suggested minutes: the default applies
        ),
    )
    second = make_case(
        slug="clerk-board",
        title="The clerk and the board",
        summary="A ward clerk makes the discharge board honest.",
        seat="Ward clerk",
        body="## What happened\n\nThe board showed beds that did not exist.\n",
        questions=(Q("Why did the board lie?", notes="Clerk steer", minutes=20),),
    )
    return first, second


# -- building and the timed plan -----------------------------------------------------------
def test_adding_a_case_chooses_all_its_questions_at_their_suggested_minutes(app: Flask, two_cases) -> None:
    first, _ = two_cases
    guide = make_guide(ensure_user("facilitator"), first)
    [item] = guide.items
    assert [(q.text, q.minutes, q.is_own) for q in item.questions] == [
        ("What did the porter notice?", 15, False),
        ("Who else could have acted?", timed_plan.DEFAULT_QUESTION_MINUTES, False),
    ]


def test_the_plan_times_every_question_from_the_start_time(app: Flask, two_cases) -> None:
    guide = make_guide(ensure_user("facilitator"), *two_cases, start_time=time(14, 0), duration_minutes=60)
    plan = timed_plan.plan_guide(guide)
    assert [c.title for c in plan.cases] == ["The porter and the lounge", "The clerk and the board"]
    rows = [(plan.clock(q.starts_at), q.text, q.minutes) for c in plan.cases for q in c.questions]
    assert rows == [
        ("14:00", "What did the porter notice?", 15),
        ("14:15", "Who else could have acted?", 10),
        ("14:25", "Why did the board lie?", 20),
    ]
    assert [c.minutes for c in plan.cases] == [25, 20]
    assert (plan.total_minutes, plan.ends, plan.is_over, plan.minutes_left) == (45, "14:45", False, 15)


def test_without_a_start_time_the_plan_shows_time_into_the_session(app: Flask, two_cases) -> None:
    plan = timed_plan.plan_guide(make_guide(ensure_user("facilitator"), *two_cases))
    assert not plan.has_clock
    assert [plan.clock(q.starts_at) for c in plan.cases for q in c.questions] == ["0:00", "0:15", "0:25"]
    assert plan.ends == "0:45"


def test_clock_times_run_past_midnight(app: Flask, two_cases) -> None:
    plan = timed_plan.plan_guide(make_guide(ensure_user("facilitator"), *two_cases, start_time=time(23, 50)))
    assert plan.ends == "00:35"


def test_a_plan_longer_than_the_session_is_flagged(app: Flask, login, two_cases) -> None:
    guide = make_guide(ensure_user("facilitator"), *two_cases, duration_minutes=30)
    plan = timed_plan.plan_guide(guide)
    assert (plan.is_over, plan.over_by, plan.total_minutes) == (True, 15, 45)
    page = login("facilitator").get(f"/guides/{guide.id}").get_data(as_text=True)
    assert "The plan runs over" in page and "It runs 15 minutes over the 30-minute session" in page


def test_cases_and_questions_move_up_and_down(app: Flask, two_cases) -> None:
    guide = make_guide(ensure_user("facilitator"), *two_cases, start_time=time(9, 30))
    first_item, second_item = guide.items
    assert editing.move_case(guide, second_item.id, "up") is True
    assert editing.move_case(guide, second_item.id, "up") is False  # already first
    q1 = first_item.questions[0]
    editing.update_questions(guide, first_item.id, {}, f"down-{q1.id}")
    db.session.commit()
    plan = timed_plan.plan_guide(reload(guide))
    assert [c.title for c in plan.cases] == ["The clerk and the board", "The porter and the lounge"]
    assert [(plan.clock(q.starts_at), q.text) for q in plan.cases[1].questions] == [
        ("09:50", "Who else could have acted?"),
        ("10:00", "What did the porter notice?"),
    ]
    assert [item.position for item in reload(guide).items] == [0, 1]  # nothing lost on the way


def test_minutes_are_saved_only_when_all_are_valid(app: Flask, two_cases) -> None:
    guide = make_guide(ensure_user("facilitator"), two_cases[0])
    item = guide.items[0]
    q1, q2 = item.questions
    typed = MultiDict({f"minutes-{q1.id}": "5", f"minutes-{q2.id}": "ten"})
    assert plan_minutes(typed, guide).errors == {
        f"minutes-{q2.id}": "Case 1 ‘The porter and the lounge’, question 2: "
        "enter the minutes as a whole number from 1 to 240"
    }
    for bad in ("0", "241", "-3", "1.5", ""):
        assert plan_minutes(MultiDict({f"minutes-{q1.id}": bad}), guide).errors, bad
    minutes = plan_minutes(MultiDict({f"minutes-{q1.id}": " 7 ", f"minutes-{q2.id}": "240"}), guide)
    assert (minutes.errors, minutes.questions) == ({}, {q1.id: 7, q2.id: 240})
    for bad in (0, 241):  # services take whole numbers, and check them too
        with pytest.raises(GuideError):
            editing.update_questions(guide, item.id, {q1.id: bad}, "save")
    db.session.rollback()
    guide = reload(guide)
    assert [q.minutes for q in guide.items[0].questions] == [15, 10]
    editing.update_questions(guide, item.id, minutes.questions, "save")
    db.session.commit()
    assert timed_plan.plan_guide(reload(guide)).total_minutes == 247


def test_questions_can_be_removed_used_again_and_written_by_the_facilitator(app: Flask, two_cases) -> None:
    guide = make_guide(ensure_user("facilitator"), two_cases[0])
    item = guide.items[0]
    first = item.questions[0]
    editing.update_questions(guide, item.id, {}, f"remove-{first.id}")
    db.session.commit()
    planned = timed_plan.plan_guide(reload(guide)).cases[0]
    assert [q.text for q in planned.questions] == ["Who else could have acted?"]
    assert [q.text for q in planned.unused] == ["What did the porter notice?"]
    editing.update_questions(guide, item.id, {}, f"use-{planned.unused[0].id}")
    editing.add_own_question(guide, item.id, "  What would you have done?  ", "Own steer", 12)
    db.session.commit()
    planned = timed_plan.plan_guide(reload(guide)).cases[0]
    assert [(q.text, q.minutes, q.is_own, q.notes) for q in planned.questions] == [
        ("Who else could have acted?", 10, False, None),
        ("What did the porter notice?", 15, False, "Porter steer"),  # the case's own notes
        ("What would you have done?", 12, True, "Own steer"),
    ]
    assert planned.unused == []
    case_question = next(q for q in two_cases[0].questions if q.text == "What did the porter notice?")
    with pytest.raises(GuideError, match="already in the guide"):
        editing.update_questions(guide, item.id, {}, f"use-{case_question.id}")
    with pytest.raises(GuideNotFound):
        editing.update_questions(guide, item.id, {}, "use-999999")
    with pytest.raises(GuideError):
        editing.add_own_question(guide, item.id, "   ", "", 5)


def test_only_published_cases_can_be_added_and_only_once(app: Flask, two_cases, make_case) -> None:
    draft = make_case(slug="a-draft", title="A draft", status="draft")
    guide = make_guide(ensure_user("facilitator"), two_cases[0])
    with pytest.raises(GuideError, match="Only published cases"):
        editing.add_case(guide, draft.id)
    with pytest.raises(GuideError, match="already in"):
        editing.add_case(guide, two_cases[0].id)
    with pytest.raises(GuideError):
        editing.add_case(guide, 999_999)


def test_a_case_unpublished_later_shows_only_its_title_and_a_notice(app: Flask, login, two_cases) -> None:
    first, second = two_cases
    guide = make_guide(ensure_user("facilitator"), first, second, start_time=time(10, 0))
    save_case_data(
        case_data(
            slug="porter-lounge",
            title="DRAFT retitled porter",
            body="Secret draft body text.\n",
            summary="Secret draft summary.",
            status="draft",
            questions=(Q("Secret draft question?"),),
        ),
        actor=None,
        case=first,
        direct=True,  # unpublished, and rewritten as a draft
    )
    db.session.commit()
    plan = timed_plan.plan_guide(reload(guide))
    gone = plan.cases[0]
    assert not gone.is_available and gone.title == "The porter and the lounge" and gone.questions == []
    assert "is no longer published" in (gone.notice or "")
    assert plan.unavailable == [gone]
    assert plan.total_minutes == 20 and plan.clock(plan.cases[1].starts_at) == "10:00"  # left out of the timings
    client = login("facilitator")
    for path in ("", "/print/participant", "/print/facilitator"):
        page = client.get(f"/guides/{guide.id}{path}").get_data(as_text=True)
        assert "The porter and the lounge" in page and "is no longer published" in page, path
        assert "Secret draft" not in page and "DRAFT retitled" not in page, path
        assert "What did the porter notice?" not in page, path
        assert "Why did the board lie?" in page, path


def test_a_case_in_the_bin_or_purged_is_not_shown_either(app: Flask, two_cases) -> None:
    from casestudies.models import utcnow

    first, second = two_cases
    guide = make_guide(ensure_user("facilitator"), first, second)
    first.deleted_at = utcnow()  # in the bin
    db.session.delete(second)  # purged
    db.session.commit()
    binned, purged = timed_plan.plan_guide(reload(guide)).cases
    assert not binned.is_available and "is no longer published" in (binned.notice or "")
    assert not purged.is_available and purged.title == "The clerk and the board"
    assert "has been removed from the library" in (purged.notice or "")


def test_a_reworded_case_question_stays_as_chosen_and_is_flagged(app: Flask, two_cases) -> None:
    _, second = two_cases
    guide = make_guide(ensure_user("facilitator"), second)
    save_case_data(
        case_data(
            slug="clerk-board",
            title="The clerk and the board",
            summary="A ward clerk makes the discharge board honest.",
            seat="Ward clerk",
            questions=(Q("Why did the board not tell the truth?", notes="New steer", minutes=5),),
        ),
        actor=None,
        case=second,
        direct=True,  # the change as a second curator published it
    )
    db.session.commit()
    [planned] = timed_plan.plan_guide(reload(guide)).cases
    [question] = planned.questions
    assert (question.text, question.is_changed, question.notes) == ("Why did the board lie?", True, None)
    assert [q.text for q in planned.unused] == ["Why did the board not tell the truth?"]


def test_objectives_are_one_per_line(app: Flask) -> None:
    guide, _ = editing.create_guide(
        ensure_user("facilitator"), GuideDetails(title="T", objectives="- Name two ways\n\n* Practise one\n")
    )
    assert timed_plan.objectives_list(guide) == ["Name two ways", "Practise one"]


def test_details_are_checked_in_the_service_too(app: Flask) -> None:
    author = ensure_user("facilitator")
    with pytest.raises(GuideError):
        editing.create_guide(author, GuideDetails(title="  "))
    with pytest.raises(GuideError):
        editing.create_guide(author, GuideDetails(title="T", duration_minutes=2))
    with pytest.raises(GuideError):
        editing.create_guide(ensure_user("learner"), GuideDetails(title="T"))


# -- sharing and duplication ---------------------------------------------------------------
def test_a_guide_is_its_authors_and_others_read_it_only_by_its_share_link(app: Flask, two_cases) -> None:
    author = ensure_user("facilitator")
    other = ensure_user("facilitator", email="other@example.org")
    curator, admin, learner = ensure_user("curator"), ensure_user("admin"), ensure_user("learner")
    guide = make_guide(author, *two_cases)
    assert access.get_guide_for_viewer(guide.id, author) is guide
    for user in (other, curator, admin, learner):
        with pytest.raises(GuideNotFound):
            access.get_guide_for_viewer(guide.id, user)
    token = access.share_guide(guide)
    db.session.commit()
    assert access.share_guide(guide) == token  # the same link while shared
    for user in (other, curator, admin, author):
        assert access.get_shared_guide(token, user) is guide
    with pytest.raises(GuideNotFound):
        access.get_guide_for_viewer(guide.id, other)  # by id, still only the author
    with pytest.raises(GuideNotFound):
        access.get_shared_guide(token, learner)
    with pytest.raises(GuideNotFound):
        access.get_shared_guide(token[:-1] + ("A" if token[-1] != "A" else "B"), other)
    access.stop_sharing(guide)
    db.session.commit()
    with pytest.raises(GuideNotFound):
        access.get_shared_guide(token, other)
    assert access.share_guide(guide) != token  # sharing again makes a new link


def test_duplicating_makes_an_independent_guide_of_ones_own(app: Flask, two_cases) -> None:
    author = ensure_user("facilitator")
    other = ensure_user("curator")
    guide = make_guide(
        author,
        *two_cases,
        start_time=time(13, 0),
        duration_minutes=50,
        session_on=date(2027, 3, 1),
        ground_rules="Be kind",
    )
    item = guide.items[0]
    editing.add_own_question(guide, item.id, "Own question?", "Own notes", 5)
    access.share_guide(guide)
    editing.save_how_it_went(guide, "Ran long; cut question two next time.")
    db.session.commit()

    copy = editing.duplicate_guide(access.get_shared_guide(guide.share_token or "", other), other)
    db.session.commit()
    assert copy.author_id == other.id and copy.id != guide.id
    assert copy.title == "Copy of Speaking up: an afternoon for ward managers"
    assert (copy.start_time, copy.duration_minutes, copy.ground_rules) == (time(13, 0), 50, "Be kind")
    assert (copy.session_on, copy.share_token, copy.how_it_went) == (None, None, "")

    def outline(g: Guide) -> list:
        return [(i.case_id, [(q.text, q.notes, q.minutes, q.is_own) for q in i.questions]) for i in g.items]

    assert outline(copy) == outline(guide)
    editing.remove_case(copy, copy.items[0].id)
    db.session.commit()
    assert len(reload(guide).items) == 2  # the original is untouched
    assert access.get_guide_for_viewer(copy.id, other) is copy


# -- routes --------------------------------------------------------------------------------
def test_a_learner_cannot_build_guides_or_see_the_controls(app: Flask, login, two_cases) -> None:
    guide = make_guide(ensure_user("facilitator"), *two_cases)
    token = access.share_guide(guide)
    db.session.commit()
    client = login("learner")
    for path in ("/guides/", "/guides/new", f"/guides/{guide.id}", f"/guides/shared/{token}"):
        assert client.get(path).status_code == 403, path
    assert client.post("/guides/add-case", data={"case_id": two_cases[0].id, "guide": guide.id}).status_code == 403
    assert client.post(f"/guides/shared/{token}/duplicate").status_code == 403
    page = client.get("/cases/porter-lounge").get_data(as_text=True)
    # Only "My sessions" (the learner's handouts) of all the /guides pages is linked.
    assert "Add to" not in page and "/guides" not in page.replace('href="/guides/my-sessions"', "")
    assert len(reload(guide).items) == 2


@pytest.mark.parametrize("who", ["other-facilitator", "curator", "admin"])
def test_nobody_reads_or_changes_anothers_guide_by_id(app: Flask, login, two_cases, who: str) -> None:
    guide = make_guide(ensure_user("facilitator"), *two_cases)
    item = guide.items[0]
    if who == "other-facilitator":
        from flask.testing import FlaskClient

        ensure_user("facilitator", email="other@example.org")
        client: FlaskClient = app.test_client()
        client.post("/login", data={"email": "other@example.org", "password": "correct horse battery staple"})
    else:
        client = login(who)
    base = f"/guides/{guide.id}"
    for path in ("", "/edit", "/delete", "/how-it-went", "/print/participant", "/pdf/facilitator"):
        assert client.get(base + path).status_code == 404, path
    posts = {
        f"/cases/{item.id}/move": {"direction": "down"},
        f"/cases/{item.id}/remove": {},
        f"/cases/{item.id}/questions": {"action": "save"},
        f"/cases/{item.id}/questions/new": {f"own-{item.id}-text": "x", f"own-{item.id}-minutes": "5"},
        "/sharing": {"action": "share"},
        "/duplicate": {},
        "/delete": {},
        "/edit": {"title": "Taken over"},
    }
    for path, data in posts.items():
        assert client.post(base + path, data=data).status_code == 404, path
    assert client.post("/guides/add-case", data={"case_id": two_cases[0].id, "guide": guide.id}).status_code == 404
    fresh = reload(guide)
    assert fresh.title.startswith("Speaking up") and len(fresh.items) == 2 and not fresh.is_shared
    assert client.get("/guides/").get_data(as_text=True).count("Speaking up") == 0


def test_a_shared_guide_is_read_through_its_link_until_sharing_stops(app: Flask, login, two_cases) -> None:
    guide = make_guide(ensure_user("facilitator"), *two_cases)
    owner = login("facilitator")
    assert owner.post(f"/guides/{guide.id}/sharing", data={"action": "share"}).status_code == 302
    token = reload(guide).share_token
    assert token and token in owner.get(f"/guides/{guide.id}").get_data(as_text=True)
    editing.save_how_it_went(reload(guide), "Private reflection")
    db.session.commit()
    reader = login("curator")
    page = reader.get(f"/guides/shared/{token}").get_data(as_text=True)
    assert "Why did the board lie?" in page and "Clerk steer" in page  # notes: for facilitators
    assert "Private reflection" not in page and "Move case" not in page  # read-only
    assert reader.get(f"/guides/shared/{token}/print/facilitator").status_code == 200
    response = reader.post(f"/guides/shared/{token}/duplicate")
    assert response.status_code == 302
    copy_page = reader.get(response.headers["Location"]).get_data(as_text=True)
    assert "Copy of Speaking up" in copy_page and "Move case down" in copy_page
    assert owner.post(f"/guides/{guide.id}/sharing", data={"action": "stop"}).status_code == 302
    assert reader.get(f"/guides/shared/{token}").status_code == 404
    assert reader.get(f"/guides/shared/{token}/pdf/participant").status_code == 404
    assert reader.post(f"/guides/shared/{token}/duplicate").status_code == 404


def test_add_to_guide_from_a_case_page_starts_a_guide_then_adds_to_it(app: Flask, login, two_cases) -> None:
    first, second = two_cases
    client = login("facilitator")
    page = client.get("/cases/porter-lounge").get_data(as_text=True)
    assert "Add to a new guide" in page
    response = client.post(
        "/guides/add-case", data={"case_id": first.id, "guide": "new", "next": "/cases/porter-lounge"}
    )
    assert response.headers["Location"] == f"/guides/new?case={first.id}"
    form = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "“The porter and the lounge” will be the first case in this guide." in form
    response = client.post(
        "/guides/new", data={"title": "Flow", "case_id": str(first.id), "start_time": "9.15", "duration_minutes": "45"}
    )
    assert response.status_code == 302
    guide_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = client.get("/cases/clerk-board").get_data(as_text=True)
    assert f'<option value="{guide_id}">Flow</option>' in page
    response = client.post(
        "/guides/add-case", data={"case_id": second.id, "guide": guide_id, "next": "/cases/clerk-board"}
    )
    assert response.headers["Location"] == "/cases/clerk-board"
    assert "added to <a href=" in client.get("/cases/clerk-board").get_data(as_text=True)
    again = client.post("/guides/add-case", data={"case_id": second.id, "guide": guide_id, "next": "//evil.example"})
    assert again.headers["Location"] == f"/guides/{guide_id}"  # never another site
    plan = timed_plan.plan_guide(access.get_guide_for_viewer(guide_id, ensure_user("facilitator")))
    assert [c.title for c in plan.cases] == ["The porter and the lounge", "The clerk and the board"]
    assert plan.clock(0) == "09:15" and plan.duration_minutes == 45


def test_a_refused_save_keeps_what_was_typed(app: Flask, login, two_cases) -> None:
    guide = make_guide(ensure_user("facilitator"), two_cases[0])
    client = login("facilitator")
    response = client.post(
        "/guides/new", data={"title": "", "audience": "New managers", "start_time": "25:00", "duration_minutes": "lots"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "There is a problem" in page
    assert "Enter a title for the guide" in page and 'href="#title"' in page
    assert "24-hour clock" in page and "whole number from 5 to 600" in page
    assert 'value="New managers"' in page and 'value="25:00"' in page and 'value="lots"' in page
    item = guide.items[0]
    q1, q2 = item.questions
    response = client.post(
        f"/guides/{guide.id}/cases/{item.id}/questions", data={f"minutes-{q1.id}": "8", f"minutes-{q2.id}": "99999"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and f'href="#minutes-{q2.id}"' in page
    assert 'value="99999"' in page and 'value="8"' in page
    assert [q.minutes for q in reload(guide).items[0].questions] == [15, 10]  # none saved
    response = client.post(
        f"/guides/{guide.id}/cases/{item.id}/questions/new",
        data={f"own-{item.id}-notes": "Kept", f"own-{item.id}-minutes": "5"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Enter your question" in page and "Kept</textarea>" in page
    assert [q.minutes for q in reload(guide).items[0].questions] == [15, 10]


def test_how_it_went_and_delete(app: Flask, login, two_cases) -> None:
    guide = make_guide(ensure_user("facilitator"), *two_cases)
    client = login("facilitator")
    assert client.post(f"/guides/{guide.id}/how-it-went", data={"how_it_went": "Good *energy*"}).status_code == 302
    assert "Good <em>energy</em>" in client.get(f"/guides/{guide.id}").get_data(as_text=True)
    assert "Good" not in client.get(f"/guides/{guide.id}/print/facilitator").get_data(as_text=True)
    assert client.get(f"/guides/{guide.id}/delete").status_code == 200
    assert client.post(f"/guides/{guide.id}/delete").status_code == 302
    assert client.get(f"/guides/{guide.id}").status_code == 404
    assert db.session.get(Case, two_cases[0].id) is not None  # cases stay in the library


def test_every_guide_form_needs_a_csrf_token(csrf_app: Flask, two_cases_csrf) -> None:
    client = csrf_app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page)
    assert token
    client.post(
        "/login",
        data={"email": "facilitator@example.org", "password": "correct horse battery staple", "csrf_token": token[1]},
    )
    guide_id, item_id = two_cases_csrf
    for path in (
        "/guides/new",
        "/guides/add-case",
        f"/guides/{guide_id}/sharing",
        f"/guides/{guide_id}/duplicate",
        f"/guides/{guide_id}/cases/{item_id}/remove",
        f"/guides/{guide_id}/how-it-went",
    ):
        assert client.post(path, data={"title": "x", "action": "share"}).status_code == 400, path
    builder = client.get(f"/guides/{guide_id}").get_data(as_text=True)
    forms = re.findall(r"<form\b.*?</form>", builder, re.S)
    post_forms = [f for f in forms if 'method="post"' in f]
    # The plan is one form (its buttons post it to their own addresses with formaction).
    assert len(post_forms) >= 5 and all('name="csrf_token"' in f for f in post_forms)


@pytest.fixture
def two_cases_csrf(csrf_app: Flask) -> tuple[int, int]:
    first, _ = save_case_data(case_data(), actor=None)
    db.session.commit()
    guide = make_guide(ensure_user("facilitator"), first)
    return guide.id, guide.items[0].id


# -- print views and PDFs ------------------------------------------------------------------
def pdf_pages(data: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


@pytest.mark.pdf
def test_the_two_pdfs(app: Flask, login, two_cases) -> None:
    first, second = two_cases
    guide = make_guide(
        ensure_user("facilitator"),
        first,
        second,
        title="Speaking up",
        start_time=time(14, 0),
        duration_minutes=90,
        objectives="Name two ways staff raise concerns\nPractise a first reply",
        introduction="Welcome to *Speaking up*. See [the policy](https://example.org/policy).",
        ground_rules="- What is said here stays here",
        opening_remarks="Opening words for the facilitator only",
        closing_remarks="Closing words for the facilitator only",
    )
    editing.add_own_question(guide, guide.items[1].id, "What would you say first?", "Own facilitator hint", 7)
    db.session.commit()
    client = login("facilitator")

    response = fetch_pdf(client, f"/guides/{guide.id}/pdf/participant")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="speaking-up-participant-handout.pdf"'
    handout = pdf_pages(response.data)
    assert len(handout) == 3  # the cover, then the texts and cases following on
    assert all(f"Page {n} of 3" in text for n, text in enumerate(handout, start=1))
    cover, case_one, case_two = handout
    assert "Participant handout" in cover.title() or "PARTICIPANT HANDOUT" in cover
    assert "Welcome to Speaking up" in case_one and "(https://example.org/policy)" in case_one  # link target as text
    assert "What is said here stays here" in case_one
    assert "The porter and the lounge" in case_one and "The clerk and the board" in case_two
    for text, in_order in (
        (
            case_one,
            ["The porter and the lounge", "Patients waited for hours", "What did the porter notice?", "Who else"],
        ),
        (
            case_two,
            [
                "The clerk and the board",
                "Ward clerk",
                "The board showed beds",
                "Why did the board lie?",
                "What would you say first?",
            ],
        ),
    ):
        positions = [text.index(part) for part in in_order]
        assert positions == sorted(positions), text
    whole = " ".join(handout)
    for secret in (
        "Porter steer",
        "Clerk steer",
        "Own facilitator hint",
        "Facilitator notes",
        "Name two ways",
        "Learning objectives",
        "Timed plan",
        "minutes",
        "14:00",
        "Opening words",
        "Closing words",
        "Leading with care",
    ):
        assert secret not in whole, secret

    response = fetch_pdf(client, f"/guides/{guide.id}/pdf/facilitator")
    assert response.headers["Content-Disposition"] == 'attachment; filename="speaking-up-facilitator-edition.pdf"'
    edition = pdf_pages(response.data)
    assert len(edition) == 4  # the cover; the plan and texts, with the first case after them; the next case
    cover, plan_page, case_one, case_two = edition
    # The first case follows on from the plan (no part-empty page): its text from its heading on.
    case_one = (plan_page + case_one)[(plan_page + case_one).upper().index("CASE 1 OF 2") :]
    assert "Speaking up" in cover and "Planned 52 minutes" in cover
    positions = [
        plan_page.index(part)
        for part in ("Learning objectives", "Name two ways", "Timed plan", "Introduction", "Opening words")
    ]
    assert positions == sorted(positions)
    assert "Total, ending at 14:52 52" in plan_page and "fits the 90-minute session" in plan_page
    assert "Leading with care, Engaging the team" in case_one
    for text, parts in (
        (
            case_one,
            ["What did the porter notice?", "14:00, 15 minutes", "Porter steer", "Who else", "14:15, 10 minutes"],
        ),
        (
            case_two,
            [
                "Why did the board lie?",
                "14:25, 20 minutes",
                "Clerk steer",
                "What would you say first?",
                "14:45, 7 minutes",
                "Own facilitator hint",
                "Closing words",
            ],
        ),
    ):
        positions = [text.index(part) for part in parts]
        assert positions == sorted(positions), text


@pytest.mark.pdf
def test_the_pdf_renderer_fetches_only_the_apps_static_files(app: Flask) -> None:
    static = Path(app.static_folder or "")
    fetcher = render._static_fetcher("http://every-seat.test/", static)
    css = fetcher.fetch("http://every-seat.test/static/build/css/main.css")
    assert css.read(10) and css.content_type == "text/css"
    css.close()
    for url in (
        "https://example.org/tracker.png",
        "http://every-seat.test/static/../app.py",
        "http://every-seat.test/static/%2e%2e/app.py",
        "http://every-seat.test/instance/every-seat.db",
        "file:///etc/passwd",
        "http://other.test/static/build/css/main.css",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    html = '<html><body><h1>x</h1><img src="https://example.org/tracker.png" alt=""></body></html>'
    pdf = render.render_pdf(html, base_url="http://every-seat.test/", static_dir=static)
    assert pdf.startswith(b"%PDF") and "x" in pdf_pages(pdf)[0]


def test_one_save_keeps_the_minutes_of_every_case_and_errors_name_case_and_question(app: Flask, two_cases) -> None:
    guide = make_guide(ensure_user("facilitator"), *two_cases)
    (p1, p2), (c1,) = guide.items[0].questions, guide.items[1].questions
    editing.update_plan(guide, {p1.id: 12, p2.id: 4, c1.id: 9}, "save")
    db.session.commit()
    assert [[q.minutes for q in item.questions] for item in reload(guide).items] == [[12, 4], [9]]
    typed = MultiDict({f"minutes-{p1.id}": "13", f"minutes-{c1.id}": "0", "action": f"down-{p1.id}"})
    assert plan_minutes(typed, reload(guide)).errors == {
        f"minutes-{c1.id}": "Case 2 ‘The clerk and the board’, question 1: "
        "enter the minutes as a whole number from 1 to 240"
    }
    assert [[q.minutes for q in item.questions] for item in reload(guide).items] == [[12, 4], [9]]


# -- segments of the session ---------------------------------------------------------------
def test_segments_are_timed_with_the_cases_and_move_among_them(app: Flask, two_cases) -> None:
    guide = make_guide(ensure_user("facilitator"), *two_cases, start_time=time(14, 0), duration_minutes=60)
    porter_item = guide.items[0]
    welcome = editing.add_segment(guide, "welcome")
    reading = editing.add_segment(guide, "reading", item_id=porter_item.id)
    brk = editing.add_segment(guide, "break", minutes=7)
    db.session.commit()
    plan = timed_plan.plan_guide(reload(guide))
    # Added at the end: porter (15+10), clerk (20), welcome 10, reading 1, break 7.
    assert [(e.title, plan.clock(e.starts_at), e.minutes) for e in plan.entries] == [
        ("The porter and the lounge", "14:00", 25),
        ("The clerk and the board", "14:25", 20),
        ("Welcome and introductions", "14:45", 10),
        ("Reading time: The porter and the lounge", "14:55", 1),
        ("Break", "14:56", 7),
    ]
    assert (plan.total_minutes, plan.is_over, plan.over_by) == (63, True, 3)
    # Welcome to the front (past two cases), reading just before the porter case.
    guide = reload(guide)
    for _ in range(2):
        editing.update_plan(guide, {}, f"segment-up-{welcome.id}")
    for _ in range(2):
        editing.update_plan(guide, {}, f"segment-up-{reading.id}")
    editing.update_plan(guide, {}, f"segment-up-{welcome.id}")  # already first: no change
    db.session.commit()
    plan = timed_plan.plan_guide(reload(guide))
    assert [(e.title, plan.clock(e.starts_at)) for e in plan.entries] == [
        ("Welcome and introductions", "14:00"),
        ("Reading time: The porter and the lounge", "14:10"),
        ("The porter and the lounge", "14:11"),
        ("The clerk and the board", "14:36"),
        ("Break", "14:56"),
    ]
    assert [c.number for c in plan.cases] == [1, 2]
    assert plan.cases[0].questions[1].starts_at == 26  # questions follow the segments before them
    # Minutes of segments and questions in one save; a bad segment value names the segment.
    guide = reload(guide)
    q1 = guide.items[0].questions[0]
    minutes = plan_minutes(MultiDict({f"minutes-{q1.id}": "5", f"segment-{brk.id}": "0"}), guide)
    assert minutes.errors == {f"segment-{brk.id}": "‘Break’: enter the minutes as a whole number from 1 to 240"}
    minutes = plan_minutes(MultiDict({f"minutes-{q1.id}": "5", f"segment-{brk.id}": "12"}), guide)
    assert (minutes.errors, minutes.segments) == ({}, {brk.id: 12})
    editing.update_plan(guide, minutes.questions, "save", minutes.segments)
    editing.update_plan(guide, {}, f"segment-remove-{welcome.id}")
    db.session.commit()
    plan = timed_plan.plan_guide(reload(guide))
    assert plan.total_minutes == 1 + 15 + 20 + 12 and len(plan.segments) == 2
    assert sorted(row.position for row in timed_plan.plan_rows(reload(guide))) == [0, 1, 2, 3]


def test_reading_time_is_suggested_from_the_cases_length(app: Flask, make_case) -> None:
    long_case = make_case(slug="long", title="A long case", body="word " * 1_900, summary="Short.")
    assert timed_plan.reading_minutes(long_case) == 10  # 1,902 words at 200 a minute
    guide = make_guide(ensure_user("facilitator"), long_case)
    segment = editing.add_segment(guide, "reading", item_id=guide.items[0].id)
    assert segment.minutes == 10
    assert editing.add_segment(guide, "reading", item_id=guide.items[0].id, minutes=4).minutes == 4
    for kind, kwargs in (("nap", {}), ("reading", {}), ("break", {"minutes": 0}), ("break", {"label": "x" * 201})):
        with pytest.raises(GuideError):
            editing.add_segment(guide, kind, **kwargs)


def test_segments_are_copied_with_the_guide_and_survive_their_case_leaving(app: Flask, two_cases) -> None:
    author = ensure_user("facilitator")
    guide = make_guide(author, *two_cases)
    editing.add_segment(guide, "reading", item_id=guide.items[1].id)
    editing.add_segment(guide, "plenary", label="Whole-group plenary")
    db.session.commit()
    copy = editing.duplicate_guide(reload(guide), ensure_user("curator"))
    db.session.commit()
    copied = timed_plan.plan_guide(copy)
    assert [e.title for e in copied.segments] == ["Reading time: The clerk and the board", "Whole-group plenary"]
    assert copy.segments[0].item is copy.items[1]
    guide = reload(guide)
    editing.remove_case(guide, guide.items[1].id)
    db.session.commit()
    assert [e.title for e in timed_plan.plan_guide(reload(guide)).segments] == ["Reading time", "Whole-group plenary"]


def test_segments_through_the_builder(app: Flask, login, two_cases) -> None:
    guide = make_guide(ensure_user("facilitator"), *two_cases, start_time=time(9, 0))
    client = login("facilitator")
    response = client.post(
        f"/guides/{guide.id}/segments", data={"segment_kind": "welcome", "segment_minutes": "", "segment_label": ""}
    )
    assert response.status_code == 302
    response = client.post(f"/guides/{guide.id}/segments", data={"segment_kind": "break", "segment_minutes": "often"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "There is a problem" in page and 'value="often"' in page
    page = client.get(f"/guides/{guide.id}").get_data(as_text=True)
    label = 'Minutes<span class="nhsuk-u-visually-hidden"> for Welcome and introductions</span>'
    assert "Welcome and introductions" in page and "09:45" in page and label in page


def test_removing_a_case_from_the_plan_keeps_the_minutes_typed_elsewhere(app: Flask, two_cases) -> None:
    guide = make_guide(ensure_user("facilitator"), *two_cases)
    first, second = guide.items
    editing.add_segment(guide, "reading", item_id=second.id)
    q1 = first.questions[0]
    editing.update_plan(guide, {q1.id: 3}, f"case-remove-{second.id}")
    db.session.commit()
    guide = reload(guide)
    assert [item.case_title for item in guide.items] == ["The porter and the lounge"]
    assert guide.items[0].questions[0].minutes == 3
    assert guide.segments[0].guide_case_id is None and timed_plan.segment_title(guide.segments[0]) == "Reading time"
