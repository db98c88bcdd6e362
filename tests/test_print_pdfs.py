"""Print that reads well: the timed plan prints whole questions, the cover has no running
header, the facilitator edition's opening pages are not left nearly empty, download names
keep the guide's whole title (cut at a word past 80 characters), and a single case prints
as a facilitator edition for facilitators and without notes for learners."""

from __future__ import annotations

import io
from datetime import time

import pytest
from flask import Flask
from pypdf import PdfReader

from casestudies.extensions import db
from casestudies.guides.render import title_for_filename

from .conftest import ensure_user, fetch_pdf
from .test_guide_pdfs import _lines, _lowest_body_text, _three_cases
from .test_guides import make_guide
from .test_teaching_notes import NOTES

LONG_QUESTION = (
    "The porter had gone straight to a ward sister before anyone else noticed the lounge: "
    "what would you have needed to hear, from whom and when, to do the same on your own ward?"
)
TITLE = "Speaking up and patient flow: an afternoon for ward managers"


def _pages(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    return [_lines(page) for page in PdfReader(io.BytesIO(response.data)).pages]


@pytest.mark.pdf
def test_the_facilitator_edition_prints_whole_questions_no_header_on_the_cover_and_full_pages(
    app: Flask, login, make_case
) -> None:
    cases = _three_cases(make_case)
    guide = make_guide(
        ensure_user("facilitator"),
        *cases,
        title=TITLE,
        start_time=time(14, 0),
        objectives="Name two ways porters lead\nSay who owns the lounge",
        ground_rules="What is said in the room stays in the room.",
    )
    guide.items[0].questions[0].text = LONG_QUESTION
    db.session.commit()
    response = fetch_pdf(login("facilitator"), f"/guides/{guide.id}/pdf/facilitator")
    reader = PdfReader(io.BytesIO(response.data))
    pages = [_lines(page) for page in reader.pages]
    text = " ".join(" ".join(lines) for lines in pages)
    # The timed plan and the case both print the question whole (pypdf breaks lines anywhere).
    assert " ".join(text.split()).count(LONG_QUESTION.split(": what")[1]) == 2
    assert "…" not in text
    # The running header (the title) is on every page but the cover, which shows it once.
    assert " ".join(pages[0]).count("Speaking up and patient flow") == 1
    assert all(TITLE in lines for lines in pages[1:])
    # Pages other than a case's last (the one before the next case starts, or the last page)
    # are used down to their lower third; the first case follows the opening sections on.
    starts = [
        n
        for n, lines in enumerate(pages)
        if any(line.upper().startswith("CASE ") and " OF 3" in line.upper() for line in lines)
    ]
    assert len(starts) == 3
    for number, page in enumerate(reader.pages[1:-1], start=1):
        if number + 1 not in starts[1:]:
            assert _lowest_body_text(page) < float(page.mediabox.height) / 3, number + 1


@pytest.mark.pdf
def test_a_single_case_prints_a_facilitator_edition_for_facilitators_only(app: Flask, login, make_case) -> None:
    app.config["ACADEMY_NAME"] = "Northshire Leadership Academy"
    case = make_case(teaching_notes=NOTES)
    facilitator = fetch_pdf(login("facilitator"), f"/cases/{case.slug}/pdf")
    assert f"{case.slug}-facilitator-edition.pdf" in facilitator.headers["Content-Disposition"]
    text = " ".join(" ".join(lines) for lines in _pages(facilitator))
    for words in ("Northshire Leadership Academy", "FACILITATOR EDITION", "Secret facilitator steer", "Board plan"):
        assert words in text, words
    learner = fetch_pdf(login("learner"), f"/cases/{case.slug}/pdf")
    assert f"{case.slug}.pdf" in learner.headers["Content-Disposition"]
    text = " ".join(" ".join(lines) for lines in _pages(learner))
    assert "Northshire Leadership Academy" in text and case.title in text
    for words in ("FACILITATOR EDITION", "Secret facilitator steer", "Board plan", "Teaching notes"):
        assert words.casefold() not in text.casefold(), words


def test_download_names_keep_the_whole_title_cut_at_a_word_past_80_characters(app: Flask, login, make_case) -> None:
    assert title_for_filename(TITLE) == "speaking-up-and-patient-flow-an-afternoon-for-ward-managers"
    long_title = (
        "Raising concerns on a busy surgical ward: a practical afternoon for new ward managers and their deputies"
    )
    name = title_for_filename(long_title)
    assert len(name) <= 80 and long_title.lower().replace(":", "").replace(" ", "-").startswith(name)
    assert name == "raising-concerns-on-a-busy-surgical-ward-a-practical-afternoon-for-new-ward"
    assert title_for_filename("x" * 100) == "x" * 80
    guide = make_guide(ensure_user("facilitator"), title=TITLE)
    response = login("facilitator").get(f"/guides/{guide.id}/pdf/participant")
    # The answer is the PDF or the page following its job; the name is on the PDF itself.
    from casestudies.guides.render import edition_filename

    assert edition_filename(guide, "participant") == f"{title_for_filename(TITLE)}-participant-handout.pdf"
    assert response.status_code == 200
