"""The printed guides as PDFs: a cover (academy, title, date, cases with their page numbers),
page numbers, tagged for screen readers, no heading left at a page foot, no nearly empty
pages in the participant handout, no facilitator matter in it; bounded work (a limit on a
guide's text, a time budget with a clear refusal, a cache keyed by content)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import date, time
from pathlib import Path

import pytest
from flask import Flask, render_template
from pypdf import PdfReader

from casestudies.extensions import db
from casestudies.guides import editing, render
from casestudies.guides import pdf as guide_pdf
from casestudies.guides import plan as timed_plan
from casestudies.guides.editing import GuideDetails, GuideError
from casestudies.markdown import render_markdown
from casestudies.transfer.casefile import QuestionData as Q

from . import test_guides
from .conftest import ensure_user, fetch_pdf
from .test_guides import make_guide
from .test_teaching_notes import NOTES

two_cases = test_guides.two_cases  # the fixture, shared

pytestmark = pytest.mark.pdf

PARAGRAPH = "The ward had tried everything to speed discharges, and the porters saw why first. " * 12


def _three_cases(make_case, paragraphs: int = 1):
    return [
        make_case(
            slug=f"flow-{i}",
            title=f"Flow case {i}",
            body=f"## Background\n\n{PARAGRAPH * paragraphs}\n\n## What happened\n\n{PARAGRAPH * paragraphs}\n",
            teaching_notes=NOTES,
            questions=tuple(
                Q(f"Question {j} of flow case {i}: what would you do next?", notes=f"Steer {i}.{j}", minutes=10)
                for j in range(1, 4)
            ),
        )
        for i in range(1, 4)
    ]


def _lines(page) -> list[str]:
    return [line.strip() for line in page.extract_text().splitlines() if line.strip()]


def _lowest_body_text(page) -> float:
    """The height (points from the page's foot) of the lowest text above the footer."""
    heights: list[float] = []

    def visit(text, cm, tm, _font, _size):
        height = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]  # WeasyPrint draws with a flipped y axis
        if text.strip() and height > 80:  # the footer's page number sits lower
            heights.append(height)

    page.extract_text(visitor_text=visit)
    return min(heights)


def test_both_editions_have_a_cover_page_numbers_tags_and_keep_notes_out_of_the_handout(
    app: Flask, login, make_case
) -> None:
    app.config["ACADEMY_NAME"] = "Northshire Leadership Academy"
    guide = make_guide(
        ensure_user("facilitator"),
        *_three_cases(make_case),
        title="Flow afternoon",
        session_on=date(2027, 3, 4),
        start_time=time(14, 0),
        duration_minutes=90,
        objectives="Name two ways porters lead",
    )
    editing.add_segment(guide, "welcome")
    editing.update_plan(guide, {}, f"segment-up-{guide.segments[0].id}")  # past case 3
    db.session.commit()
    client = login("facilitator")
    readers = {}
    for edition in ("facilitator", "participant"):
        response = fetch_pdf(client, f"/guides/{guide.id}/pdf/{edition}")
        assert response.status_code == 200
        reader = PdfReader(io.BytesIO(response.data))
        readers[edition] = reader
        pages = [_lines(page) for page in reader.pages]
        cover = " ".join(pages[0])
        assert "Northshire Leadership Academy" in cover and "Flow afternoon" in cover and "4 March 2027" in cover
        # The cover lists the cases with the pages they start on, and those pages hold them.
        listed = re.findall(r"Flow case (\d) [. ]+(\d+)", cover)
        assert [number for number, _ in listed] == ["1", "2", "3"], cover
        for number, page_number in listed:
            assert f"Flow case {number}" in " ".join(pages[int(page_number) - 1]), (edition, number, page_number)
        total = len(pages)
        assert all(f"Page {n} of {total}" in " ".join(lines) for n, lines in enumerate(pages, start=1))
        # Tagged (PDF/UA-1): a structure tree, marked content, and the title shown by viewers.
        root = reader.trailer["/Root"]
        assert "/StructTreeRoot" in root and bool(root["/MarkInfo"]["/Marked"])
        assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
        assert reader.metadata.title.startswith("Flow afternoon")
    facilitator_text = " ".join(page.extract_text() for page in readers["facilitator"].pages)
    handout_text = " ".join(page.extract_text() for page in readers["participant"].pages)
    for secret in (
        "Steer 1.1",
        "Teaching notes",
        "Read the case alone",
        "Board plan",
        "Name two ways",
        "Timed plan",
        "minutes",
        "14:00",
        "Welcome and introductions",
    ):
        assert secret in facilitator_text or secret == "minutes", secret
        assert secret not in handout_text, secret
    # The timed plan's caption (for screen readers on the web page) is not in the PDF's text.
    assert "with clock times from" not in facilitator_text
    assert "Welcome and introductions" in facilitator_text and "14:50" in facilitator_text


def _facilitator_pdf(app: Flask, guide) -> list:
    with app.test_request_context("/"):
        html = render_template(
            "guides/print.html",
            guide=guide,
            plan=timed_plan.plan_guide(guide),
            objectives=timed_plan.objectives_list(guide),
            edition="facilitator",
            edition_title="Facilitator edition",
            is_facilitator=True,
            md=render_markdown,
            urls={},
            for_pdf=True,
            academy="Academy",
            notes_of=timed_plan.teaching_notes,
        )
    pdf = render.render_pdf(html, base_url="http://localhost/", static_dir=Path(app.static_folder or "static"))
    return PdfReader(io.BytesIO(pdf)).pages


def test_no_heading_is_left_at_the_foot_of_a_page(app: Flask, make_case) -> None:
    """However long the objectives before it, "Timed plan" shares its page with the plan's first rows."""
    guide = make_guide(ensure_user("facilitator"), *_three_cases(make_case), start_time=time(14, 0))
    for count in range(26, 46, 3):
        guide.objectives = "\n".join(f"Objective number {n} of the session" for n in range(count))
        for page in _facilitator_pdf(app, guide):
            text = page.extract_text()
            if "Timed plan" in text:
                assert "Case 1: Flow case 1" in text, (count, text[-300:])


def test_the_handout_has_no_nearly_empty_pages(app: Flask, login, make_case) -> None:
    # Each case's text nearly fills a page: its questions and answer boxes spill over.
    guide = make_guide(ensure_user("facilitator"), *_three_cases(make_case, paragraphs=2), title="Flow afternoon")
    response = fetch_pdf(login("facilitator"), f"/guides/{guide.id}/pdf/participant")
    pages = PdfReader(io.BytesIO(response.data)).pages
    # Every page after the cover and before the last is used down to its lower third.
    for number, page in enumerate(pages[1:-1], start=2):
        assert _lowest_body_text(page) < float(page.mediabox.height) / 3, number


def test_a_guides_own_text_is_limited_with_a_clear_message(app: Flask, login, two_cases) -> None:
    author = ensure_user("facilitator")
    limit = editing.GUIDE_TEXT_MAX
    guide, _ = editing.create_guide(
        author, GuideDetails(title="Long", introduction="x" * 20_000, objectives="y" * 20_000)
    )
    editing.add_case(guide, two_cases[0].id)
    with pytest.raises(GuideError, match=f"at most {limit:,} characters"):
        editing.update_guide(
            guide,
            GuideDetails(
                title="Long",
                introduction="x" * 20_000,
                objectives="y" * 20_000,
                ground_rules="z" * 20_000,
                closing_remarks="w" * 20_000,
            ),
        )
    db.session.commit()
    response = login("facilitator").post(
        f"/guides/{guide.id}/edit",
        data={"title": "Long", "introduction": "x" * 20_000, "objectives": "y" * 20_000, "ground_rules": "z" * 20_000},
    )
    assert response.status_code == 400 and f"at most {limit:,} characters in all" in response.get_data(as_text=True)
    item = guide.items[0]
    with pytest.raises(GuideError, match=f"at most {limit:,} characters"):
        for _ in range(20):
            editing.add_own_question(guide, item.id, "q" * 2_000, "n" * 2_000, 5)


def test_a_pdf_past_its_time_budget_is_refused_with_a_message_and_the_refusal_is_remembered(
    app: Flask, login, two_cases
) -> None:
    from casestudies.jobs import queue, run_jobs
    from casestudies.models.jobs import Job

    guide = make_guide(ensure_user("facilitator"), *two_cases)
    client = login("facilitator")
    app.config["PDF_RENDER_SECONDS"] = 0.05
    response = fetch_pdf(client, f"/guides/{guide.id}/pdf/facilitator")
    assert response.status_code == 422 and "too large to make into a PDF in time" in response.get_data(as_text=True)
    # Asked again: the refusal is remembered, nothing is queued or rendered again.
    app.config["PDF_RENDER_SECONDS"] = 20
    again = client.get(f"/guides/{guide.id}/pdf/facilitator")
    assert again.status_code == 422 and db.session.query(Job).count() == 1
    # An admin tries it again (the budget raised): made, kept, then served from the cache.
    queue.retry(db.session.query(Job).one().id)
    db.session.commit()
    assert run_jobs(app) == 1
    first = client.get(f"/guides/{guide.id}/pdf/facilitator")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    cached = list(Path(app.config["PDF_CACHE_DIR"]).rglob("*.pdf"))
    assert len(cached) == 1
    app.config["PDF_RENDER_SECONDS"] = 0.05  # the same content again: from the cache, no rendering
    again = client.get(f"/guides/{guide.id}/pdf/facilitator")
    assert again.status_code == 200 and again.data == first.data


def largest_guide(make_case):
    """Every case a guide may hold, each with every question it may hold, and the guide's own
    text filled to its limit: the largest guide the forms accept (committed)."""
    author = ensure_user("facilitator")
    cases = [
        make_case(
            slug=f"big-{i}",
            title=f"Big case {i}",
            body=f"{PARAGRAPH}\n\n{PARAGRAPH}\n",
            teaching_notes=NOTES,
            questions=tuple(
                Q(f"Case {i} question {j}: what next?", notes="n" * 200, minutes=5)
                for j in range(editing.MAX_QUESTIONS - 2)
            ),
        )
        for i in range(editing.MAX_CASES)
    ]
    share = editing.GUIDE_TEXT_MAX // 6
    guide = make_guide(
        author,
        *cases,
        **{
            name: "Words to say. " * (share // 14)
            for name in ("introduction", "opening_remarks", "closing_remarks", "ground_rules")
        },
    )
    # Own questions at their longest, in every case with room, until the text limit.
    own = "q" * editing.QUESTION_MAX, "n" * editing.QUESTION_MAX
    for item in guide.items:
        while len(item.questions) < editing.MAX_QUESTIONS:
            if editing.guide_text_length(guide) + 2 * editing.QUESTION_MAX > editing.GUIDE_TEXT_MAX:
                break
            editing.add_own_question(guide, item.id, *own, 5)
    with pytest.raises(GuideError):  # nothing more fits
        editing.add_own_question(guide, guide.items[-1].id, *own, 5)
    assert editing.guide_text_length(guide) > editing.GUIDE_TEXT_MAX - 2 * editing.QUESTION_MAX
    db.session.commit()
    return guide


@pytest.mark.slow
def test_the_largest_guide_the_forms_accept_renders_within_the_budget(app: Flask, login, make_case) -> None:
    guide = largest_guide(make_case)
    client = login("facilitator")
    response = fetch_pdf(client, f"/guides/{guide.id}/pdf/facilitator")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert len(PdfReader(io.BytesIO(response.data)).pages) > editing.MAX_CASES


def test_the_pdf_cache_keeps_the_newest_files_only(tmp_path: Path) -> None:
    for number in range(5):
        file = tmp_path / f"{number:02d}" / f"{number}.pdf"
        file.parent.mkdir()
        file.write_bytes(b"%PDF")
        os.utime(file, ns=(number * 10**9, number * 10**9))
    guide_pdf.trim_cache(tmp_path, keep=2)
    assert sorted(file.name for file in tmp_path.rglob("*.pdf")) == ["3.pdf", "4.pdf"]


def test_the_pdf_worker_loads_only_the_rendering_code() -> None:
    """A child process starts for every PDF: it loads guides/render.py, not the guides'
    rules, the models, the database or Flask."""
    code = "import sys, casestudies.guides.pdf_worker; print(' '.join(sorted(sys.modules)))"
    root = Path(guide_pdf.__file__).resolve().parents[2]
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    modules = set(loaded.stdout.split())
    assert "casestudies.guides.render" in modules
    for module in (
        "casestudies.guides.access",
        "casestudies.guides.plan",
        "casestudies.guides.editing",
        "casestudies.guides.handouts",
        "casestudies.models",
        "flask",
        "sqlalchemy",
    ):
        assert module not in modules
