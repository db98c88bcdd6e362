"""My learning: saved cases and reading lists, collections, the reflection notebook and
CPD log, key rotation (services first, then the pages that call them)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import select

from casestudies.audit.services import AuditFilters, list_events
from casestudies.cases.vocab import Status
from casestudies.curation import change_status, delete_case
from casestudies.extensions import db
from casestudies.learning import collections, lists, notebook
from casestudies.learning.exports import cpd_csv
from casestudies.learning.sealing import SealingError, forget_cipher, reflection_key_file
from casestudies.models import AuditEvent, CpdEntry, ReadingList, Reflection

from .conftest import ensure_user


# -- lists ---------------------------------------------------------------------------------
def test_saving_a_case_makes_a_first_list_and_never_saves_twice(app: Flask, make_case) -> None:
    learner = ensure_user("learner")
    case = make_case()
    first, added = lists.save_case(learner, case.id, list_id=None)
    assert added and first.title == lists.DEFAULT_LIST_TITLE
    again, added = lists.save_case(learner, case.id, list_id=first.id)
    assert again is first and not added
    assert [item.case_id for item in first.items] == [case.id]
    named, _ = lists.save_case(learner, case.id, list_id=None, new_title="Speaking up")
    assert named.title == "Speaking up" and [r.title for r in lists.lists_of(learner)] == ["Saved cases", "Speaking up"]
    with pytest.raises(lists.ListError):
        lists.save_case(learner, case.id, list_id=None, new_title="   ")  # a second list needs a name


def test_only_published_cases_can_be_saved_and_only_into_ones_own_list(app: Flask, make_case) -> None:
    draft = make_case(slug="a-draft", title="A draft", status="draft")
    learner, other = ensure_user("learner"), ensure_user("facilitator")
    with pytest.raises(lists.ListError):
        lists.save_case(learner, draft.id, list_id=None)
    theirs = lists.create_list(other, "Theirs")
    case = make_case()
    with pytest.raises(lists.ListNotFound):
        lists.save_case(learner, case.id, list_id=theirs.id)
    with pytest.raises(lists.ListNotFound):
        lists.get_own_list(theirs.id, learner)


def test_lists_and_their_cases_are_renamed_reordered_and_removed(app: Flask, make_case) -> None:
    learner = ensure_user("learner")
    one = make_case(slug="one", title="One")
    two = make_case(slug="two", title="Two")
    reading_list, _ = lists.save_case(learner, one.id, list_id=None)
    lists.save_case(learner, two.id, list_id=reading_list.id)
    second = lists.create_list(learner, "Second")
    assert lists.move_item(reading_list, reading_list.items[1].id, "up")
    assert [item.case_title for item in reading_list.items] == ["Two", "One"]
    assert not lists.move_item(reading_list, reading_list.items[0].id, "up")  # already first
    assert lists.move_list(second, "up")
    assert [r.title for r in lists.lists_of(learner)] == ["Second", "Saved cases"]
    lists.rename_list(reading_list, "  Flow   and  discharge ")
    assert reading_list.title == "Flow and discharge"
    with pytest.raises(lists.ListError):
        lists.rename_list(reading_list, "x" * 201)
    assert lists.remove_item(reading_list, reading_list.items[0].id).title == "Two"
    assert [item.position for item in reading_list.items] == [0]
    lists.delete_list(second)
    db.session.commit()
    assert [(r.title, r.position) for r in lists.lists_of(learner)] == [("Flow and discharge", 0)]


def test_an_unpublished_or_deleted_case_shows_its_title_only(app: Flask, make_case) -> None:
    learner, curator = ensure_user("learner"), ensure_user("curator")
    case = make_case(title="Kept title", body="Secret heronsbridge body text")
    gone = make_case(slug="gone", title="Gone case")
    reading_list, _ = lists.save_case(learner, case.id, list_id=None)
    lists.save_case(learner, gone.id, list_id=reading_list.id)
    change_status(case, Status.DRAFT, curator, "Needs work")
    delete_case(gone, curator, "Leaving the library")
    db.session.commit()
    shown = lists.shown_items(lists.get_own_list(reading_list.id, learner))
    assert [(s.title, s.case) for s in shown] == [("Kept title", None), ("Gone case", None)]


def test_sharing_needs_a_facilitator_and_is_audited(app: Flask, make_case) -> None:
    learner, facilitator = ensure_user("learner"), ensure_user("facilitator")
    case = make_case()
    learners_list, _ = lists.save_case(learner, case.id, list_id=None)
    with pytest.raises(lists.ListError):
        lists.share_list(learners_list, learner)
    reading_list, _ = lists.save_case(facilitator, case.id, list_id=None)
    token = lists.share_list(reading_list, facilitator)
    assert lists.share_list(reading_list, facilitator) == token  # the same link while shared
    assert lists.get_shared_list(token) is reading_list
    lists.stop_sharing(reading_list, facilitator)
    db.session.commit()
    with pytest.raises(lists.ListNotFound):
        lists.get_shared_list(token)
    actions = [e.action for e in list_events(AuditFilters(actor_id=facilitator.id)).items]
    assert actions == ["list-unshare", "list-share"]


def test_save_from_a_case_page_and_a_search_result_without_javascript(app: Flask, login, make_case) -> None:
    case = make_case()
    client = login("learner")
    page = client.get(f"/cases/{case.slug}").get_data(as_text=True)
    assert 'action="/my/lists/save"' in page and "Save to my list" in page
    response = client.post("/my/lists/save", data={"case_id": case.id, "list_id": "new", "next": f"/cases/{case.slug}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{case.slug}"
    results = client.get("/search?q=porter").get_data(as_text=True)
    assert "Save to list" in results and 'name="new_title"' in results
    response = client.post("/my/lists/save", data={"case_id": case.id, "list_id": "new", "new_title": "Flow"})
    assert response.status_code == 302
    assert "Flow" in client.get("/my/lists").get_data(as_text=True)
    # An off-site "next" is ignored.
    response = client.post("/my/lists/save", data={"case_id": case.id, "list_id": "1", "next": "//evil.example/"})
    assert response.headers["Location"] == "/my/lists/1"


def test_a_shared_list_is_read_by_any_signed_in_user_until_switched_off(app: Flask, login, make_case) -> None:
    case = make_case()
    facilitator = login("facilitator")
    facilitator.post("/my/lists/save", data={"case_id": case.id, "list_id": "new"})
    assert facilitator.post("/my/lists/1/sharing", data={"action": "share"}).status_code == 302
    token = db.session.scalar(select(ReadingList.share_token))
    learner = login("learner")
    assert learner.get("/my/lists/1").status_code == 404  # by id: the owner only
    page = learner.get(f"/reading-lists/{token}")
    assert page.status_code == 200 and case.title in page.get_data(as_text=True)
    assert learner.post("/my/lists/1/sharing", data={"action": "stop"}).status_code == 403
    facilitator.post("/my/lists/1/sharing", data={"action": "stop"})
    assert learner.get(f"/reading-lists/{token}").status_code == 404


def test_deleting_a_list_asks_first(app: Flask, login, make_case) -> None:
    case = make_case()
    client = login("learner")
    client.post("/my/lists/save", data={"case_id": case.id, "list_id": "new"})
    confirm = client.get("/my/lists/1/delete")
    assert confirm.status_code == 200 and "Delete the list" in confirm.get_data(as_text=True)
    assert db.session.scalar(select(ReadingList.id)) == 1
    client.post("/my/lists/1/delete")
    assert db.session.scalar(select(ReadingList.id)) is None


# -- collections ---------------------------------------------------------------------------
def test_collections_show_published_cases_in_order_with_dates_and_reading_time(app: Flask, make_case) -> None:
    curator = ensure_user("curator")
    long_case = make_case(slug="long", title="Long", body="word " * 401)
    short_case = make_case(slug="short", title="Short", body="A few words.")
    draft = make_case(slug="draft", title="Draft", status="draft")
    theme = collections.create_collection(
        collections.CollectionDetails("Raising concerns", "Speak **up**.", is_featured=True)
    )
    for slug in ("short", "/cases/long", "draft"):
        collections.add_case(theme, slug, curator)
    with pytest.raises(collections.CollectionError):
        collections.add_case(theme, "short", curator)
    with pytest.raises(collections.CollectionError):
        collections.add_case(theme, "no-such-case", curator)
    collections.move_case(theme, theme.items[1].id, "up")
    db.session.commit()
    view = collections.collection_for_reader(theme.slug)
    assert [card.case.title for card in view.cards] == ["Long", "Short"]  # the draft is left out
    assert [card.reading_minutes for card in view.cards] == [3, 1]  # 401 words at 200 a minute
    assert collections.featured_collections()[0].collection is theme
    assert draft.id not in {card.case.id for card in collections.recently_published()}
    assert {long_case.id, short_case.id} <= {card.case.id for card in collections.recently_published()}


def test_the_most_recently_published_case_comes_first(app: Flask, make_case) -> None:
    curator = ensure_user("curator")
    make_case(slug="older", title="Older")
    later = make_case(slug="later", title="Later", status="draft")
    change_status(later, Status.REVIEW, ensure_user("admin"))
    change_status(later, Status.PUBLISHED, curator)
    db.session.commit()
    assert [card.case.slug for card in collections.recently_published()][:2] == ["later", "older"]


def test_the_home_page_shows_featured_collections_and_recent_cases(app: Flask, login, make_case) -> None:
    case = make_case()
    theme = collections.create_collection(collections.CollectionDetails("Flow", "An *intro*", is_featured=True))
    collections.add_case(theme, case.slug, ensure_user("curator"))
    hidden = collections.create_collection(collections.CollectionDetails("Not featured"))
    collections.add_case(hidden, case.slug, ensure_user("curator"))
    db.session.commit()
    page = login("learner").get("/").get_data(as_text=True)
    assert "<em>intro</em>" in page and "Recently published" in page and "minute to read" in page
    assert "Published " in page and "Not featured" not in page


def test_curators_make_collections_through_the_pages(app: Flask, login, make_case) -> None:
    case = make_case()
    client = login("curator")
    response = client.post("/curate/collections/new", data={"title": "", "introduction": ""})
    assert response.status_code == 400 and "Enter a title" in response.get_data(as_text=True)
    response = client.post("/curate/collections/new", data={"title": "Co-consulting", "is_featured": "y"})
    assert response.status_code == 302
    response = client.post("/curate/collections/1/cases", data={"slug": "nope"})
    assert response.status_code == 400 and "There is no case with that address" in response.get_data(as_text=True)
    client.post("/curate/collections/1/cases", data={"slug": case.slug})
    page = login("learner").get("/collections/co-consulting").get_data(as_text=True)
    assert case.title in page
    client.post("/curate/collections/1/delete")
    assert login("learner").get("/collections/co-consulting").status_code == 404


def test_the_sample_library_loads_the_three_themes(sample_app: Flask) -> None:
    from casestudies.cli import SAMPLE_DIR

    created = collections.load_sample_collections(SAMPLE_DIR / "collections.json")
    db.session.commit()
    assert created == 3
    assert collections.load_sample_collections(SAMPLE_DIR / "collections.json") == 0  # once
    featured = collections.featured_collections()
    assert [view.collection.title for view in featured] == [
        "Integrated working with social care",
        "Co-consulting and co-design",
        "Raising concerns",
    ]
    # Every listed case is in the sample library; the three that are drafts or in review
    # there are left out for learners.
    assert [len(view.collection.items) for view in featured] == [6, 5, 6]
    assert [len(view.cards) for view in featured] == [6, 4, 4]


# -- reflections and the CPD log -----------------------------------------------------------
def _nmc(**changes) -> notebook.ReflectionInput:
    values = {
        "kind": "nmc",
        "title": "Speaking up at handover",
        "nature": "Read a case on raising concerns",
        "learned": "Quiet staff notice first",
        "changed": "I ask the newest person first",
        "relevance": "Preserve safety",
        "themes": ("safety", "people"),
        "activity_month": 3,
        "activity_year": 2026,
    }
    values.update(changes)
    return notebook.ReflectionInput(**values)


def test_a_reflection_is_stored_sealed_and_opened_for_its_owner(app: Flask, make_case) -> None:
    learner = ensure_user("learner")
    case = make_case()
    reflection = notebook.save_reflection(learner, _nmc(case_id=case.id))
    db.session.commit()
    assert "Quiet staff" not in reflection.sealed and "handover" not in reflection.sealed
    opened = notebook.open_reflection(reflection)
    assert opened.text.learned == "Quiet staff notice first"
    assert opened.theme_labels == ["Prioritise people", "Preserve safety"]  # the Code's order
    assert opened.when == "March 2026" and opened.case is case
    with pytest.raises(notebook.NotebookNotFound):
        notebook.get_own_reflection(reflection.id, ensure_user("admin"))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": " "}, "title"),
        ({"kind": "diary"}, "kind"),
        ({"nature": "", "learned": "", "changed": "", "relevance": ""}, "nature"),
        ({"themes": ("courage",)}, "themes"),
        ({"activity_month": 13}, "activity_month"),
        ({"activity_year": 1800}, "activity_year"),
        ({"activity_year": None}, "activity_year"),
        ({"learned": "x" * 10_001}, "learned"),
        ({"kind": "free", "body": ""}, "body"),
        ({"case_id": 999}, "case_id"),
    ],
)
def test_a_reflection_is_refused_with_the_field_at_fault(app: Flask, changes, field) -> None:
    with pytest.raises(notebook.NotebookError) as refused:
        notebook.save_reflection(ensure_user("learner"), _nmc(**changes))
    assert field in refused.value.errors


def test_the_cpd_log_seals_topic_and_notes_and_links_own_reflections_only(app: Flask) -> None:
    learner, other = ensure_user("learner"), ensure_user("facilitator")
    mine = notebook.save_reflection(learner, _nmc())
    theirs = notebook.save_reflection(other, _nmc())
    data = notebook.CpdInput(
        date(2026, 3, 4), "discussion", "1,5", True, "safety", "Kestrel topic", "Notes here", (mine.id,)
    )
    entry = notebook.save_cpd_entry(learner, data)
    db.session.commit()
    assert entry.minutes == 90 and "Kestrel" not in entry.sealed and "Notes here" not in entry.sealed
    opened = notebook.open_cpd_entry(entry)
    assert (opened.topic, opened.hours, [r.id for r in opened.reflections]) == ("Kestrel topic", "1.5", [mine.id])
    with pytest.raises(notebook.NotebookError) as refused:
        notebook.save_cpd_entry(learner, notebook.CpdInput(None, "x", "0", False, "y", "", "", (theirs.id,)))
    assert set(refused.value.errors) == {"done_on", "method", "hours", "code_theme", "topic", "reflection_ids"}


@pytest.mark.parametrize(("typed", "minutes"), [("1", 60), ("0.25", 15), ("2,5", 150), (" 3 ", 180)])
def test_hours_are_read_as_people_type_them(typed: str, minutes: int) -> None:
    assert notebook.parse_hours(typed) == minutes


@pytest.mark.parametrize("typed", ["", "0", "-1", "abc", "1e3", "NaN", "Infinity", "1.234", "201"])
def test_hours_that_are_not_hours_are_refused(typed: str) -> None:
    assert notebook.parse_hours(typed) is None


def test_deleting_the_notebook_removes_every_entry_of_its_owner_only(app: Flask) -> None:
    learner, other = ensure_user("learner"), ensure_user("curator")
    mine = notebook.save_reflection(learner, _nmc())
    notebook.save_cpd_entry(
        learner, notebook.CpdInput(date(2026, 1, 1), "reading", "1", False, None, "T", "", (mine.id,))
    )
    notebook.save_reflection(other, _nmc())
    db.session.commit()
    assert notebook.delete_notebook(learner) == (1, 1)
    db.session.commit()
    owners = db.session.scalars(select(Reflection.owner_id)).all()
    assert owners == [other.id] and db.session.scalar(select(CpdEntry.id)) is None


def test_the_notebook_pages_save_and_show_errors_without_losing_text(app: Flask, login) -> None:
    client = login("learner")
    page = client.get("/my/notebook/reflections/new?form=nmc").get_data(as_text=True)
    assert "Leave out anything that identifies someone" in page and "Month" in page
    assert 'type="date"' not in page  # month and year, not a full date
    response = client.post(
        "/my/notebook/reflections/new",
        data={"kind": "nmc", "title": "", "learned": "Kept words", "activity_year": "soon", "themes": ["safety"]},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "Kept words" in body and "Enter a year" in body
    assert 'value="safety" checked' in body
    response = client.post(
        "/my/notebook/reflections/new",
        data={"kind": "nmc", "title": "Mine", "learned": "Kept words", "activity_month": "3", "activity_year": "2026"},
    )
    assert response.status_code == 302
    assert "Kept words" in client.get(response.headers["Location"]).get_data(as_text=True)
    response = client.post(
        "/my/notebook/cpd/new",
        data={"day": "31", "month": "2", "year": "2026", "method": "reading", "hours": "1", "topic": "T"},
    )
    assert response.status_code == 400 and "Enter the date" in response.get_data(as_text=True)
    response = client.post(
        "/my/notebook/cpd/new",
        data={
            "day": "28",
            "month": "2",
            "year": "2026",
            "method": "reading",
            "hours": "1",
            "topic": "T",
            "is_participatory": "yes",
            "reflections": ["1"],
        },
    )
    assert response.status_code == 302
    entry = db.session.scalar(select(CpdEntry))
    assert entry.is_participatory and [r.id for r in entry.reflections] == [1]


def test_deleting_the_notebook_needs_the_box_ticked(app: Flask, login) -> None:
    client = login("learner")
    notebook.save_reflection(ensure_user("learner"), _nmc())
    db.session.commit()
    assert client.post("/my/notebook/delete").status_code == 400
    assert db.session.scalar(select(Reflection.id)) == 1
    assert client.post("/my/notebook/delete", data={"confirm": "yes"}).status_code == 302
    assert db.session.scalar(select(Reflection.id)) is None


def test_my_data_holds_everything_about_the_user(app: Flask, login, make_case) -> None:
    case = make_case()
    learner = ensure_user("learner")
    lists.save_case(learner, case.id, list_id=None)
    notebook.save_reflection(learner, _nmc())
    db.session.commit()
    response = login("learner").get("/my/data.json")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "learner@example.org"
    assert data["reading_lists"][0]["cases"][0]["slug"] == case.slug
    assert (
        data["reflections"][0][
            "What did you learn from the CPD activity and/or feedback and/or event or experience in your practice?"
        ]
        == "Quiet staff notice first"
    )
    assert any(event["action"] == "sign-in" for event in data["activity_log"])


# -- CSV ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dangerous", ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_the_cpd_csv_makes_formulas_inert(app: Flask, dangerous: str) -> None:
    learner = ensure_user("learner")
    notebook.save_cpd_entry(
        learner, notebook.CpdInput(date(2026, 1, 1), "reading", "1", False, None, "safe topic", dangerous)
    )
    entry = notebook.save_cpd_entry(
        learner, notebook.CpdInput(date(2026, 1, 2), "reading", "1", False, None, dangerous.strip() or "x", "")
    )
    rows = list(csv.reader(io.StringIO(cpd_csv(notebook.cpd_entries_of(learner)))))
    assert rows[0][0] == "date"
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    assert entry.id


# -- keys ----------------------------------------------------------------------------------
def test_rotation_re_encrypts_everything_under_a_new_key(app: Flask, tmp_path) -> None:
    learner = ensure_user("learner")
    app.config["REFLECTION_KEYS"] = ""  # keys from the instance folder's file
    app.instance_path = str(tmp_path / "instance")
    forget_cipher(app)
    reflection = notebook.save_reflection(learner, _nmc())
    db.session.commit()
    key_file = reflection_key_file(app)
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    old_key = key_file.read_text().strip()
    old_token = reflection.sealed
    result = app.test_cli_runner().invoke(args=["rotate-reflection-key"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 1 notebook entries" in result.output
    new_key = key_file.read_text().strip()
    assert new_key != old_key and "\n" not in new_key  # the old key is gone
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    db.session.expire_all()
    rotated = db.session.get(Reflection, reflection.id)
    assert rotated.sealed != old_token
    forget_cipher(app)
    assert notebook.open_reflection(rotated).text.learned == "Quiet staff notice first"
    # The old key alone no longer opens it.
    app.config["REFLECTION_KEYS"] = old_key
    forget_cipher(app)
    with pytest.raises(SealingError):
        notebook.open_reflection(rotated)
    forget_cipher(app)


def test_rotation_with_keys_from_the_environment_uses_the_first(app: Flask) -> None:
    from cryptography.fernet import Fernet

    from .conftest import TEST_REFLECTION_KEY

    reflection = notebook.save_reflection(ensure_user("learner"), _nmc())
    db.session.commit()
    newest = Fernet.generate_key().decode()
    app.config["REFLECTION_KEYS"] = f"{newest},{TEST_REFLECTION_KEY}"
    forget_cipher(app)
    result = app.test_cli_runner().invoke(args=["rotate-reflection-key"])
    assert result.exit_code == 0, result.output
    app.config["REFLECTION_KEYS"] = newest
    forget_cipher(app)
    db.session.expire_all()
    assert notebook.open_reflection(db.session.get(Reflection, reflection.id)).text.title == "Speaking up at handover"
    forget_cipher(app)
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.detail.contains("Speaking"))) is None


def test_the_app_refuses_keys_that_are_not_keys_and_production_without_keys(tmp_path, monkeypatch) -> None:
    from app import create_app

    monkeypatch.setenv("EVERY_SEAT_INSTANCE", str(tmp_path / "instance"))
    base = {"DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "SEARCH_INDEX_DIR": str(tmp_path / "ix"), "TESTING": True}
    with pytest.raises(RuntimeError, match="not a Fernet key"):
        create_app({**base, "REFLECTION_KEYS": "not-a-key"})
    production = {
        **base,
        "EVERY_SEAT_ENV": "production",
        "SECRET_KEY": "a varied production key, 32+ bytes long!",
        "REFLECTION_KEYS": "",
    }
    with pytest.raises(RuntimeError, match="without REFLECTION_KEYS"):
        create_app(production)
    key_file = tmp_path / "instance" / "reflection-keys"
    key_file.parent.mkdir(exist_ok=True)
    key_file.write_text(Fernet.generate_key().decode() + "\n")
    assert create_app(production).config["EVERY_SEAT_ENV"] == "production"


def test_a_list_page_shows_an_unpublished_case_by_title_only(app: Flask, login, make_case) -> None:
    case = make_case(title="Kept title", summary="Secret summary of wrenhollow", body="Body of wrenhollow")
    facilitator = ensure_user("facilitator")
    reading_list, _ = lists.save_case(facilitator, case.id, list_id=None)
    token = lists.share_list(reading_list, facilitator)
    change_status(case, Status.DRAFT, ensure_user("curator"), "Consent withdrawn")
    db.session.commit()
    for client, path in (
        (login("facilitator"), f"/my/lists/{reading_list.id}"),
        (login("learner"), f"/reading-lists/{token}"),
    ):
        page = client.get(path).get_data(as_text=True)
        assert "Kept title" in page and "No longer available" in page
        assert "wrenhollow" not in page and f"/cases/{case.slug}" not in page
