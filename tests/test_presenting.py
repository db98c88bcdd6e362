"""The presenter view of a guide: its items follow the timed plan (order and minutes); the
projected window never holds the notes; only the guide's author (by id) and facilitators
or curators with its share link open it."""

from __future__ import annotations

from flask import Flask

from casestudies.cases import QuestionData, TeachingNotesData
from casestudies.extensions import db
from casestudies.guides import editing
from casestudies.guides.access import share_guide
from casestudies.guides.plan import plan_guide
from casestudies.guides.presenting import presenter_items

from .conftest import ensure_user

NOTE = "Secret facilitator steer"
KEY_POINT = "Flow is the business of every seat"


def make_guide(make_case, author_role: str = "facilitator"):
    case = make_case(
        questions=(
            QuestionData("What did the porter notice that others missed?"),
            QuestionData("How did he win over the ward sisters?", notes=NOTE, minutes=12),
        ),
        teaching_notes=TeachingNotesData(opening_question="Who owns the lounge?", key_points=(KEY_POINT,)),
    )
    author = ensure_user(author_role)
    guide, _ = editing.create_guide(author, editing.GuideDetails(title="Flow afternoon"), first_case_id=case.id)
    editing.add_segment(guide, "break", minutes=15)
    editing.add_segment(guide, "close")
    db.session.commit()
    return guide


def test_the_items_follow_the_timed_plan(app: Flask, make_case) -> None:
    guide = make_guide(make_case)
    items = presenter_items(plan_guide(guide))
    assert [(i.kind, i.title, i.minutes, i.starts_at) for i in items] == [
        ("question", "What did the porter notice that others missed?", 10, 0),
        ("question", "How did he win over the ward sisters?", 12, 10),
        ("segment", "Break", 15, 22),
        ("segment", "Close", 5, 37),
    ]
    assert items[0].context.startswith("Case 1 of 1: A porter who changed the discharge lounge, question 1 of 2")
    assert items[0].key_points == (KEY_POINT,) and items[1].key_points == ()
    assert items[1].notes == NOTE


def test_the_projected_window_has_no_notes_and_the_notes_window_has_them(app: Flask, make_case, login) -> None:
    guide = make_guide(make_case)
    client = login("facilitator")
    projected = client.get(f"/guides/{guide.id}/present")
    assert projected.status_code == 200
    html = projected.get_data(as_text=True)
    assert "How did he win over the ward sisters?" in html and "Break" in html
    assert NOTE not in html and KEY_POINT not in html and "Who owns the lounge?" not in html
    notes = client.get(f"/guides/{guide.id}/present/notes").get_data(as_text=True)
    assert NOTE in notes and KEY_POINT in notes and "Who owns the lounge?" in notes


def test_only_the_author_by_id_and_others_through_the_share_link(app: Flask, make_case, login) -> None:
    guide = make_guide(make_case)
    other = login("curator")
    assert other.get(f"/guides/{guide.id}/present").status_code == 404
    assert other.get(f"/guides/{guide.id}/present/notes").status_code == 404
    assert other.get("/guides/shared/not-a-token/present").status_code == 404
    token = share_guide(guide)
    db.session.commit()
    assert NOTE not in other.get(f"/guides/shared/{token}/present").get_data(as_text=True)
    assert NOTE in other.get(f"/guides/shared/{token}/present/notes").get_data(as_text=True)
    assert login("learner").get(f"/guides/shared/{token}/present").status_code == 403
