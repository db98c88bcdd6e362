"""Issue 27's My learning points: the save control keeps a typed list name and says "Saved",
and (below) the reflection form's choice, CPD totals, copying a shared list, and why a
learner was signed out."""

from __future__ import annotations

import re
from datetime import date

from flask import Flask
from sqlalchemy import select

from casestudies.extensions import db
from casestudies.learning import lists, notebook
from casestudies.models import ReadingList

from .conftest import ensure_user


def _save_controls(html: str) -> list[str]:
    return re.findall(r'<details class="[^"]*app-save[^"]*".*?</details>', html, re.S)


def test_a_name_typed_for_a_new_list_makes_that_list_whatever_the_menu_says(app: Flask, login, make_case) -> None:
    first = make_case()
    second = make_case(slug="second", title="A second case")
    client = login("learner")
    client.post("/my/lists/save", data={"case_id": first.id, "list_id": "new"})  # makes "Saved cases"
    response = client.post("/my/lists/save", data={"case_id": second.id, "list_id": "1", "new_title": " Speaking up "})
    assert response.status_code == 302
    titles = {
        t: [i.case_id for i in items]
        for t, items in ((r.title, r.items) for r in db.session.scalars(select(ReadingList)))
    }
    assert titles == {"Saved cases": [first.id], "Speaking up": [second.id]}
    # The same name again finds that list rather than making a second one.
    third = make_case(slug="third", title="A third case")
    client.post("/my/lists/save", data={"case_id": third.id, "list_id": "1", "new_title": "speaking up"})
    assert [r.title for r in db.session.scalars(select(ReadingList))] == ["Saved cases", "Speaking up"]
    assert lists.saved_case_ids(ensure_user("learner")) == {first.id, second.id, third.id}


def test_each_result_has_one_small_save_control_that_says_saved(app: Flask, login, make_case) -> None:
    saved = make_case(slug="saved", title="Porter saved case")
    make_case(slug="other", title="Porter other case")
    client = login("learner")
    client.post("/my/lists/save", data={"case_id": saved.id, "list_id": "new"})
    client.post("/my/lists/save", data={"case_id": saved.id, "list_id": "new", "new_title": "Second list"})
    html = client.get("/search?q=porter").get_data(as_text=True)
    controls = _save_controls(html)
    assert len(controls) == 2
    summaries = {
        re.sub(r"<[^>]+>|\s+", " ", re.search(r"<summary.*?</summary>", c, re.S)[0]).split()[0]: c for c in controls
    }
    assert set(summaries) == {"Saved", "Save"}
    assert "Porter saved case" in summaries["Saved"] and "Second list" in summaries["Saved"]
    assert 'name="new_title"' in summaries["Save"]  # the choices, inside the disclosure
    assert html.count('name="new_title"') == 2  # nothing outside the two disclosures


def test_a_reflection_on_a_case_opens_in_the_form_the_writer_last_chose(app: Flask, login, make_case) -> None:
    case = make_case()
    client = login("learner")
    first = client.get(f"/my/notebook/reflections/new?case={case.id}").get_data(as_text=True)
    assert "Write an NMC reflective account" in first  # a first reflection: the NMC form
    assert f'href="/my/notebook/reflections/new?case={case.id}&amp;form=free">Use the free form instead' in first
    notebook.save_reflection(ensure_user("learner"), notebook.ReflectionInput("free", "Notes", body="What I saw"))
    db.session.commit()
    again = client.get(f"/my/notebook/reflections/new?case={case.id}").get_data(as_text=True)
    assert "Write a free-form reflection" in again and "Use the NMC reflective account form instead" in again
    assert f'name="case_id" value="{case.id}"' in again  # still on the case
    chosen = client.get(f"/my/notebook/reflections/new?case={case.id}&form=nmc").get_data(as_text=True)
    assert "Write an NMC reflective account" in chosen


def test_the_cpd_log_totals_hours_per_year_and_method_and_towards_35_hours(app: Flask, login) -> None:
    learner = ensure_user("learner")
    this_year = date.today().year
    for done_on, method, hours, participatory in [
        (date(this_year, 1, 2), "reading", "1.5", False),
        (date(this_year, 1, 3), "discussion", "2", True),
        (date(this_year - 1, 6, 1), "reading", "3", False),
        (date(this_year - 5, 6, 1), "course", "10", True),  # outside the three years
    ]:
        notebook.save_cpd_entry(learner, notebook.CpdInput(done_on, method, hours, participatory, None, "Topic"))
    db.session.commit()
    html = login("learner").get("/my/notebook").get_data(as_text=True)
    assert f"<strong>{this_year}</strong>: 3.5 hours, 2 participatory" in html
    assert f"<strong>{this_year - 1}</strong>: 3 hours, 0 participatory" in html
    assert "Reading (a case study, article or guidance): 4.5 hours" in html
    assert "Course or workshop: 10 hours" in html
    assert "<strong>6.5 of 35 hours</strong> (19%)" in html and "<strong>2 of 20 participatory</strong> (10%)" in html


def test_a_learner_is_told_who_can_share_and_can_keep_a_copy_of_a_shared_list(app: Flask, login, make_case) -> None:
    first = make_case()
    second = make_case(slug="second", title="A second case")
    facilitator = login("facilitator")
    facilitator.post("/my/lists/save", data={"case_id": first.id, "list_id": "new", "new_title": "Course pack"})
    facilitator.post("/my/lists/save", data={"case_id": second.id, "list_id": "1"})
    facilitator.post("/my/lists/1/sharing", data={"action": "share"})
    token = db.session.scalar(select(ReadingList.share_token))
    learner = login("learner")
    learner.post("/my/lists/save", data={"case_id": first.id, "list_id": "new"})
    own = learner.get("/my/lists/2").get_data(as_text=True)
    assert "Facilitators, curators and admins can share a list" in own
    page = learner.get(f"/reading-lists/{token}").get_data(as_text=True)
    assert "Keep a copy in my lists" in page
    response = learner.post(f"/reading-lists/{token}/copy")
    assert response.status_code == 302 and response.headers["Location"] == "/my/lists/3"
    copy = db.session.get(ReadingList, 3)
    assert (copy.owner_id, copy.title, [i.case_id for i in copy.items]) == (
        ensure_user("learner").id,
        "Course pack",
        [first.id, second.id],
    )
    assert copy.share_token is None
    assert learner.post("/reading-lists/not-a-token/copy").status_code == 404


def _signed_out_page(client, response) -> str:
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    again = client.get("/login").get_data(as_text=True)
    assert "You were signed out" not in again  # said once
    return page


def test_a_signed_out_learner_is_told_why(app: Flask, login) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from casestudies.accounts.sessions import end_all_sessions
    from casestudies.models import UserSession, utcnow

    client = login("learner")
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(hours=9)))
    db.session.commit()
    page = _signed_out_page(client, client.get("/my/lists"))
    assert "You were signed out after 8 hours without using the case library." in page
    assert "Sign in to use the case library." in page

    client = login("learner")
    end_all_sessions(ensure_user("learner"))
    db.session.commit()
    assert "You were signed out elsewhere" in _signed_out_page(client, client.get("/my/lists"))

    client = login("learner")
    ensure_user("learner", active=False)
    assert "because your account changed" in _signed_out_page(client, client.get("/my/lists"))
