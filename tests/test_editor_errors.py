"""The editor's error summary lists the problems in the order of the form's fields."""

from __future__ import annotations

from casestudies import curation
from casestudies.curation import QuestionInput, in_form_order
from casestudies.curation.editor import question_field

from .conftest import ensure_user
from .test_curation import good_input


def test_problems_come_in_the_order_of_the_fields(app) -> None:
    form = good_input(
        title="",
        consent="",
        review_by="2027-02-30",
        body=" ",
        questions=[QuestionInput("Fine?", "", "ten"), QuestionInput("", "notes only", "")],
    )
    case, errors = curation.create_case(form, ensure_user("curator"))
    assert case is None
    # Checked in another order (question rows first, the case format's rules last), shown
    # as the form reads.
    assert list(errors) == [
        "title",
        "consent",
        "review_by",
        "body",
        "questions-0-minutes",
        "questions-1-text",
    ]
    form.consent, form.review_by = "obtained", ""
    form.questions = [QuestionInput("Fine?")]
    _, errors = curation.create_case(form, ensure_user("curator"))
    assert list(errors) == ["title", "body"]


def test_unknown_fields_keep_their_place_after_the_known_ones() -> None:
    errors = {
        "questions-10-text": ["a"],
        "teaching_notes": ["b"],
        "questions-2-minutes": ["c"],
        "body": ["d"],
        "summary": ["e"],
        "questions-2-text": ["f"],
        "another": ["g"],
    }
    assert list(in_form_order(errors)) == [
        "summary",
        "body",
        "questions-2-text",
        "questions-2-minutes",
        "questions-10-text",
        "teaching_notes",
        "another",
    ]


def test_the_editor_page_lists_the_problems_in_form_order(login) -> None:
    client = login("curator")
    response = client.post(
        "/curate/cases/new",
        data={"title": "", "summary": "S", "seat": "Porter", "body": "", "q-0-text": "", "q-0-minutes": "x",
              "action": "save"},
    )  # fmt: skip
    html = response.get_data(as_text=True)
    summary = html[html.index("nhsuk-error-summary") : html.index("</h1>", html.index("nhsuk-error-summary"))]
    links = [part.split('"', 1)[0] for part in summary.split('href="#')[1:]]
    assert links == ["title", "consent", "body", "q-0-minutes"]


def test_a_case_file_problem_with_a_question_is_shown_at_that_question(app) -> None:
    # "Question 2 text must not be empty" was shown next to question 1 (every question
    # problem went to the first row), beside the row's own message.
    form = good_input(questions=[QuestionInput("Fine?", "", ""), QuestionInput("", "notes only", "5")])
    _, errors = curation.validate_case_input(form, status="draft")
    assert errors == {"questions-1-text": ["Enter the question, or remove this row"]}
    # With an empty first row left out of the file, the file's question 2 is the third row.
    assert question_field("question 2 notes must be text, not a list", [1, 2]) == "questions-2-notes"
    assert question_field("question 1 has no text", [1, 2]) == "questions-1-text"
