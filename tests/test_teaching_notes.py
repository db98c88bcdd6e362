"""Teaching notes: part of the case file (round trip byte for byte, with and without them),
written in the editor, kept in revisions, seen by facilitators and above only (never by
learners, never in search), and offered to the guide builder as a suggested plan."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask

from casestudies import curation
from casestudies.cases.revisions import case_to_data, save_case_data
from casestudies.curation import CaseInput, QuestionInput, TeachingNotesInput
from casestudies.extensions import db
from casestudies.guides import editing, suggested
from casestudies.guides import plan as timed_plan
from casestudies.guides.editing import GuideDetails, GuideError
from casestudies.indexing import catch_up
from casestudies.library.services import search_cases
from casestudies.models import Case
from casestudies.transfer.casefile import (
    BundleFile,
    CaseFileError,
    PlanStepData,
    TeachingNotesData,
    dump_case_file,
    parse_case_file,
)
from casestudies.transfer.services import export_cases, import_cases

from .conftest import case_data, ensure_user

NOTES = TeachingNotesData(
    synopsis="A porter sees patients wait for hours.\nHe redesigns the lounge with them: quietly.",
    objectives=("Name two ways staff outside the ward lead change", "Explain why the sisters agreed"),
    suits="New ward managers; mixed clinical and non-clinical groups",
    opening_question="Who noticed the waiting first?",
    plan=(
        PlanStepData(8, "Read the case alone"),
        PlanStepData(20, "Small groups: what did he do?"),
        PlanStepData(12, "Plenary"),
    ),
    board_plan="Two columns: *what he saw* and *what he did*.",
    key_points=("Leadership from every seat", "Patients as partners"),
)
SECRET = "quokkaflutter"  # a word only the teaching note holds


def test_a_case_file_with_teaching_notes_round_trips_byte_for_byte() -> None:
    text = dump_case_file(case_data(teaching_notes=NOTES))
    assert (
        "teaching_notes:\n  synopsis: " in text
        and "  plan:\n    - minutes: 8\n      activity: Read the case alone\n" in text
    )
    parsed = parse_case_file(text.encode(), "x.md")
    assert parsed.teaching_notes == NOTES
    assert dump_case_file(parsed) == text


def test_files_without_teaching_notes_are_unchanged() -> None:
    text = dump_case_file(case_data())
    assert "teaching_notes" not in text
    assert parse_case_file(text.encode(), "x.md").teaching_notes is None
    empty = text.replace("---\n## The situation", "teaching_notes:\n---\n## The situation")
    assert parse_case_file(empty.encode(), "x.md").teaching_notes is None


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("teaching_notes: some text", "teaching_notes must be a mapping"),
        ("teaching_notes:\n  synopis: x", "unknown key 'synopis' in teaching_notes"),
        (
            "teaching_notes:\n  plan:\n    - minutes: 0\n      activity: Read",
            "plan step 1 minutes must be a whole number",
        ),
        ("teaching_notes:\n  plan:\n    - activity: Read", "plan step 1 is missing 'minutes'"),
        ("teaching_notes:\n  objectives: one", "teaching_notes objectives must be a list"),
    ],
)
def test_bad_teaching_notes_are_reported_on_their_lines(lines: str, message: str) -> None:
    text = dump_case_file(case_data()).replace("---\n## The situation", lines + "\n---\n## The situation")
    with pytest.raises(CaseFileError) as caught:
        parse_case_file(text.encode(), "x.md")
    assert any(message in str(problem) for problem in caught.value.problems), caught.value.problems


@pytest.mark.parametrize("notes", [NOTES, None], ids=["with notes", "without notes"])
def test_export_import_export_is_byte_identical(app: Flask, tmp_path, notes) -> None:
    save_case_data(case_data(teaching_notes=notes), actor=None)
    db.session.commit()
    first = export_cases(tmp_path / "one", record=False)
    original = first[0].read_bytes()
    assert (b"teaching_notes:" in original) is (notes is not None)
    db.session.delete(db.session.query(Case).one())
    db.session.commit()
    report = import_cases([BundleFile(first[0].name, original)], actor=None, publish=True)
    assert not report.problems
    db.session.commit()
    again = export_cases(tmp_path / "two", record=False)
    assert again[0].read_bytes() == original


def test_revisions_keep_the_teaching_notes_and_restore_them(app: Flask) -> None:
    curator = ensure_user("curator")
    case, _ = save_case_data(case_data(teaching_notes=NOTES, status="draft"), actor=curator)
    db.session.commit()
    save_case_data(replace(case_to_data(case), teaching_notes=None), actor=curator, case=case, summary="Notes out")
    db.session.commit()
    assert case.teaching_note is None and len(case.revisions) == 2
    assert "teaching_notes:" in case.revisions[0].content and "teaching_notes:" not in case.revisions[1].content
    diff = curation.diff_revisions(case, 1, 2)
    assert [d.label for d in diff] == ["Teaching notes"]
    curation.restore_revision(case, 1, curator)
    db.session.commit()
    assert case_to_data(case).teaching_notes == NOTES


def _editor_input(**notes: str) -> CaseInput:
    return CaseInput(
        title="The ward clerk who fixed the phones",
        summary="A ward clerk redesigns how calls reach the ward.",
        seat="Ward clerk",
        consent="not-needed",
        body="## The situation\n\nCalls went unanswered.\n",
        questions=[QuestionInput("Why did calls go unanswered?", "", "")],
        teaching_notes=TeachingNotesInput(**notes),
    )


def test_curators_write_teaching_notes_in_the_editor(app: Flask, login) -> None:
    curator = ensure_user("curator")
    case, errors = curation.create_case(
        _editor_input(
            synopsis="Calls went nowhere.",
            objectives="Map the calls\n\n- Fix one thing",
            plan="10 Read the case\n15 min: Pairs",
        ),
        curator,
    )
    assert errors == {}
    db.session.commit()
    data = case_to_data(case).teaching_notes
    assert data is not None and data.plan == (PlanStepData(10, "Read the case"), PlanStepData(15, "Pairs"))
    assert data.objectives == ("Map the calls", "- Fix one thing")
    _, errors = curation.create_case(_editor_input(plan="Read the case\n300 Too long"), curator)
    assert errors["tn-plan"][0].startswith("Suggested plan, line 1: start with the minutes")
    assert errors["tn-plan"][1].startswith("Suggested plan, line 2")
    db.session.rollback()
    client = login("curator")
    html = client.get(f"/curate/cases/{case.slug}/edit").get_data(as_text=True)
    assert "Teaching notes (optional)" in html and "10 Read the case" in html
    response = client.post(
        "/curate/cases/new",
        data={"title": "T", "summary": "S", "seat": "Porter", "consent": "not-needed", "body": "B",
              "tn-plan": "soon Read", "tn-synopsis": "Kept synopsis", "action": "save"},
    )  # fmt: skip
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and 'href="#tn-plan"' in html and "Kept synopsis" in html


def test_learners_never_see_teaching_notes_and_search_never_finds_them(app: Flask, login, make_case) -> None:
    notes = replace(NOTES, synopsis=f"The {SECRET} moment.", key_points=(f"Remember {SECRET}",))
    case = make_case(teaching_notes=notes)
    catch_up(app)
    for role in ("learner", "facilitator", "curator"):
        assert search_cases(ensure_user(role), SECRET).pagination.total == 0, role
    learner_page = login("learner").get(f"/cases/{case.slug}").get_data(as_text=True)
    assert SECRET not in learner_page and "Teaching notes" not in learner_page
    facilitator_page = login("facilitator").get(f"/cases/{case.slug}").get_data(as_text=True)
    assert SECRET in facilitator_page and "Board plan" in facilitator_page and "Read the case alone" in facilitator_page


def test_the_builder_places_a_cases_suggested_plan_around_its_questions(app: Flask, login, make_case) -> None:
    with_notes = make_case(teaching_notes=NOTES)
    without = make_case(slug="plain", title="A plain case")
    guide, _ = editing.create_guide(ensure_user("facilitator"), GuideDetails(title="Afternoon"))
    editing.add_case(guide, with_notes.id)
    editing.add_case(guide, without.id)
    result = suggested.add_suggested_plan(guide, guide.items[0].id)
    db.session.commit()
    assert [s.minutes for s in result.added] == [8, 20, 12] and result.merged == []
    plan = timed_plan.plan_guide(guide)
    assert [e.title for e in plan.entries] == [
        "Read the case alone",  # before the case's questions, not after them
        "A porter who changed the discharge lounge",
        "Small groups: what did he do?",
        "Plenary",
        "A plain case",
    ]
    assert plan.total_minutes == 10 + 10 + 8 + 20 + 12 + 10 + 10
    with pytest.raises(GuideError, match="has no suggested plan"):
        suggested.add_suggested_plan(guide, guide.items[1].id)
    client = login("facilitator")
    guide.author = ensure_user("facilitator")
    db.session.commit()
    html = client.get(f"/guides/{guide.id}").get_data(as_text=True)
    assert "Add the case’s suggested plan" in html and "Teaching notes for this case" in html
    response = client.post(f"/guides/{guide.id}/cases/{guide.items[0].id}/suggested-plan")
    assert response.status_code == 302
    # Added again: every step is already there, so nothing is added twice.
    assert len(timed_plan.plan_guide(guide).segments) == 3
