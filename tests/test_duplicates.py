"""Possible duplicates on save: the same or a very similar title, or a very similar text."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from casestudies import curation
from casestudies.cases.vocab import STATUSES
from casestudies.curation import CaseInput, PossibleDuplicates
from casestudies.curation.duplicates import normalised_title
from casestudies.extensions import db
from casestudies.indexing import catch_up
from casestudies.indexing.documents import get_search_index
from casestudies.markdown import markdown_to_text
from casestudies.models import Case

from .conftest import ensure_user
from .test_curation import good_input

NIGHT_SHIFT_BODY = (
    "## The situation\n\nOn the night shift the healthcare assistant noticed that elderly patients on the "
    "stroke ward were waking disorientated because the corridor lights flickered every hour when the "
    "generator tested itself. She logged each flicker in a notebook for three weeks, showed the estates "
    "manager the pattern, and persuaded the matron to move the generator test to the afternoon.\n\n"
    "## What changed\n\nFalls at night halved, and the notebook became the ward's way of raising "
    "small environmental problems with estates.\n"
)
PHARMACY_BODY = (
    "## The situation\n\nA pharmacy technician in a community hospital found that discharge "
    "prescriptions waited for a signature from a consultant who was in clinic all morning. She mapped "
    "the queue, agreed a protocol with the medicines committee and trained two nurses to check them.\n"
)


@pytest.fixture
def curator(app: Flask):
    return ensure_user("curator")


@pytest.fixture
def library(make_case):
    """A night-shift case and a few unrelated ones, indexed."""
    night = make_case(
        title="The assistant who logged the flickering lights",
        slug="flickering-lights",
        summary="A healthcare assistant notices corridor lights waking stroke patients at night.",
        seat="Healthcare assistant",
        body=NIGHT_SHIFT_BODY,
    )
    make_case(
        title="Discharge prescriptions without the wait",
        slug="discharge-prescriptions",
        summary="A pharmacy technician shortens the wait for discharge medicines.",
        seat="Pharmacy technician",
        body=PHARMACY_BODY,
    )
    make_case(slug="porter-lounge")  # conftest's porter and the discharge lounge
    return night


def test_normalised_titles_ignore_case_punctuation_spacing_and_a_leading_article() -> None:
    assert normalised_title("The Night  Shift!") == normalised_title("night shift") == "night shift"
    assert normalised_title("A porter’s idea") == "porter s idea"


def test_a_near_copy_of_a_case_is_offered_as_a_possible_duplicate(curator, library) -> None:
    copy = good_input(
        title="Lights that woke the stroke ward",
        summary="An assistant keeps a notebook of flickering corridor lights.",
        body=NIGHT_SHIFT_BODY.replace("three weeks", "a month"),
    )
    with pytest.raises(PossibleDuplicates) as found:
        curation.create_case(copy, curator)
    found_cases = [(d.case.slug, d.reasons) for d in found.value.duplicates]
    assert found_cases == [("flickering-lights", ["a very similar text"])]
    assert db.session.scalar(select(func.count()).select_from(Case)) == 3  # nothing saved


def test_the_same_title_in_other_words_is_offered(curator, library) -> None:
    with pytest.raises(PossibleDuplicates) as found:
        curation.create_case(good_input(title="the assistant who logged the flickering lights!"), curator)
    assert [(d.case.slug, d.reasons) for d in found.value.duplicates] == [("flickering-lights", ["the same title"])]
    with pytest.raises(PossibleDuplicates) as found:
        curation.create_case(good_input(title="The assistant who logged the flickering light"), curator)
    assert [d.reasons for d in found.value.duplicates] == [["a very similar title"]]


def test_titles_that_share_a_phrase_but_not_their_other_words_are_not_near(curator, library) -> None:
    title = "The pharmacist who logged the flickering lights"
    case, errors = curation.create_case(good_input(title=title), curator)
    assert errors == {} and case is not None


def test_an_unrelated_case_is_not_offered(curator, library) -> None:
    case, errors = curation.create_case(good_input(), curator)  # the ward clerk and the phones
    assert errors == {} and case is not None


def test_save_anyway_saves_once_every_duplicate_has_been_shown(curator, library) -> None:
    copy = good_input(title="Lights that woke the stroke ward", body=NIGHT_SHIFT_BODY)
    with pytest.raises(PossibleDuplicates) as found:
        curation.create_case(copy, curator)
    copy.duplicates_seen = frozenset(d.case.id for d in found.value.duplicates)
    case, errors = curation.create_case(copy, curator)
    assert errors == {} and case is not None and case.title == "Lights that woke the stroke ward"


def test_a_case_in_the_bin_is_offered_marked_as_binned_by_title_and_not_by_text(curator, library) -> None:
    curation.delete_case(library, curator, "Leaving the library")
    db.session.commit()
    catch_up()
    with pytest.raises(PossibleDuplicates) as found:
        curation.create_case(good_input(title=library.title, body=NIGHT_SHIFT_BODY), curator)
    [duplicate] = found.value.duplicates
    assert duplicate.case.slug == "flickering-lights" and duplicate.is_binned
    assert duplicate.reasons == ["the same title"]  # the bin is not in the search index
    case, errors = curation.create_case(
        good_input(title="Lights that woke the stroke ward", body=NIGHT_SHIFT_BODY), curator
    )
    assert errors == {} and case is not None


def test_editing_a_case_does_not_offer_itself_and_asks_again_only_when_the_wording_changes(curator, library) -> None:
    form = CaseInput.from_case(library)
    form.body = NIGHT_SHIFT_BODY + "\nA later note.\n"
    changed, errors = curation.update_case(library, form, curator)
    assert changed and errors == {}
    db.session.commit()
    catch_up()
    other, _ = curation.create_case(good_input(), curator)
    db.session.commit()
    catch_up()
    form = CaseInput.from_case(other)
    form.tags = "communication"  # the wording unchanged: no question asked
    assert curation.update_case(other, form, curator) == (True, {})
    db.session.commit()
    form = CaseInput.from_case(other)
    form.title = "The assistant who logged the flickering lights"
    with pytest.raises(PossibleDuplicates) as found:
        curation.update_case(other, form, curator)
    assert [d.case.slug for d in found.value.duplicates] == ["flickering-lights"]


def test_the_editor_lists_duplicates_keeps_what_was_typed_and_saves_anyway(login, library) -> None:
    client = login("curator")
    form = {
        "title": "Lights that woke the stroke ward",
        "summary": "Typed summary kept",
        "seat": "Healthcare assistant",
        "consent": "not-needed",
        "body": NIGHT_SHIFT_BODY,
        "q-0-text": "What did she notice?",
        "action": "save",
    }
    response = client.post("/curate/cases/new", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<title>Possible duplicate: Write a new case" in html and "This case may already be in the library" in html
    assert "/curate/cases/flickering-lights" in html and "a very similar text" in html
    assert "Typed summary kept" in html and "What did she notice?" in html
    assert f'name="duplicates_seen" value="{library.id}"' in html
    assert db.session.scalar(select(func.count()).select_from(Case)) == 3
    response = client.post("/curate/cases/new", data={**form, "duplicates_seen": str(library.id)})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Case)) == 4


def test_a_few_sentences_on_the_same_subject_are_not_a_duplicate(curator, library) -> None:
    short = good_input(
        title="Night lights on the stroke ward",
        summary="A healthcare assistant notices corridor lights at night.",
        body="She logged the lights in a notebook.",
    )
    case, errors = curation.create_case(short, curator)
    assert errors == {} and case is not None


def test_no_sample_case_is_offered_as_another_s_duplicate_and_each_finds_itself(sample_app: Flask) -> None:
    """The sample library's cases share subjects (raising concerns, handovers, social care)
    but none is a copy of another: none is offered for another, and each text finds itself."""
    index = get_search_index()
    for case in db.session.scalars(select(Case)):
        text = "\n".join([case.summary, markdown_to_text(case.body)])
        assert [hit.id for hit in index.more_like_text(text, STATUSES, 5, exclude=case.id)] == [], case.slug
        assert [hit.id for hit in index.more_like_text(text, STATUSES, 5)] == [case.id], case.slug
