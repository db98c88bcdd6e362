"""Page fill of the two printed editions, measured as the issue measured it (how far down
each page its lowest body text reaches): every page but the cover and a case's last is used
to its lower third; no page ends with a heading (a heading stays with its text); the
cover's leader dots keep clear of a long title that wraps. Guides of three cases, each case
one to three pages long, so cases end at different places on their pages."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from pypdf import PdfReader

from casestudies.extensions import db

from .conftest import ensure_user, fetch_pdf
from .test_guide_pdfs import _lines, _lowest_body_text, _three_cases
from .test_guides import make_guide

pytestmark = pytest.mark.pdf

LONG_TITLE = (
    "Speaking up on a busy surgical ward when the consultant disagrees and the beds are full: what the porter saw first"
)
# Headings of a printed case and of the opening sections: none may be a page's last line.
HEADINGS = re.compile(
    r"^(Case \d+ of \d+|Background|What happened|Discussion questions|Teaching notes|Timed plan|Learning objectives"
    r"|Introduction|Ground rules|Opening remarks|Flow case \d)$",
    re.IGNORECASE,
)


def _editions(login, make_case, paragraphs: int) -> dict[str, list]:
    cases = _three_cases(make_case, paragraphs=paragraphs)
    cases[1].title = LONG_TITLE
    db.session.commit()
    guide = make_guide(
        ensure_user("facilitator"),
        *cases,
        title="Flow afternoon",
        objectives="Name two ways porters lead\nSay who owns the lounge",
        introduction="Read each case before the session.",
        ground_rules="What is said in the room stays in the room.",
    )
    client = login("facilitator")
    return {
        edition: PdfReader(io.BytesIO(fetch_pdf(client, f"/guides/{guide.id}/pdf/{edition}").data)).pages
        for edition in ("participant", "facilitator")
    }


def _used(page) -> float:
    """The share of the page's height above its lowest body text (1.0: down to the foot)."""
    return 1 - _lowest_body_text(page) / float(page.mediabox.height)


def _case_starts(pages) -> list[int]:
    """Page indexes where a case begins (its "Case N of 3" line)."""
    return [n for n, page in enumerate(pages) if any(re.match(r"^Case \d of 3$", line, re.I) for line in _lines(page))]


@pytest.mark.parametrize("paragraphs", [2, 3])
def test_pages_other_than_a_cases_last_are_well_filled_and_no_page_ends_with_a_heading(
    app: Flask, login, make_case, paragraphs: int
) -> None:
    editions = _editions(login, make_case, paragraphs)
    for edition, pages in editions.items():
        starts = _case_starts(pages)
        assert len(starts) == 3, edition
        # A case's last page: the page before one where the next case starts on a new page
        # (the facilitator edition), and the last page. In the participant handout cases
        # follow on, so only the last page may be short.
        case_lasts = {len(pages) - 1} | ({start - 1 for start in starts[1:]} if edition == "facilitator" else set())
        for number, page in enumerate(pages[1:], start=1):
            if number not in case_lasts:
                assert _used(page) > 2 / 3, (edition, paragraphs, number + 1, round(_used(page), 2))
            body = [line for line in _lines(page) if not re.match(r"^Page \d+ of \d+$", line)]
            assert not HEADINGS.match(body[-1]), (edition, paragraphs, number + 1, body[-1])


def test_the_contents_leader_dots_keep_clear_of_a_long_title(app: Flask, login, make_case) -> None:
    """Long titles that wrap, ending at every place along their last line (a word more
    each): a space always parts the title's last letter from the first dot (or the dots go
    to the next line), measured from where pypdf's layout mode puts the glyphs."""
    words = "Speaking up on a busy surgical ward when the consultant disagrees and the beds are full"
    cases = [
        make_case(slug=f"long-{n}", title=f"{words} {' '.join(['and', 'then', 'some'] * 3)[: 4 * n].strip()}")
        for n in range(12)
    ]
    guide = make_guide(ensure_user("facilitator"), *cases, title="Long titles")
    client = login("facilitator")
    for edition in ("participant", "facilitator"):
        cover = PdfReader(io.BytesIO(fetch_pdf(client, f"/guides/{guide.id}/pdf/{edition}").data)).pages[0]
        dotted = [line for line in cover.extract_text(extraction_mode="layout").splitlines() if ". . ." in line]
        assert len(dotted) == 12, (edition, dotted)
        for line in dotted:
            # The dots follow the title after a space, or start a line of their own.
            assert re.match(r"^\s*(\d+\.\s+)?([^.]*[A-Za-z]\s+)?\. \.", line), (edition, line)
            assert not re.search(r"[A-Za-z]\.", line), (edition, line)
