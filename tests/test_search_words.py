"""Search respects the learner's words (issue 23): a real word is never corrected nor
replaced; a word no case mentions is said so plainly and logged for the curators; the
typos of the judged set are still corrected."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from flask import Flask

from bench.relevance import load_judgements
from casestudies.extensions import db
from casestudies.library.services import search_cases
from search import SearchRequest
from search.english import is_english
from search.thesaurus import ThesaurusError, parse_concepts

from .conftest import ensure_user

REAL_WORDS = yaml.safe_load((Path(__file__).parent / "relevance" / "real_words.yaml").read_text("utf-8"))
COMMON = REAL_WORDS["common"].split()
HEALTH = REAL_WORDS["health"].split()
SENTENCE = "how do I deal with {} at work"
# Of the judged set's misspellings, "planing" (in "integrated care planing") is a real
# word (to plane): it is left alone, as every real word is.
REAL_WORD_TYPOS = {"planing"}


def test_the_lists_are_as_long_as_the_issue_asks() -> None:
    assert len(set(COMMON)) >= 500 and len(set(HEALTH)) >= 100


def _search_index(app: Flask):
    return app.extensions["search_index"]


@pytest.mark.slow  # about 2,300 searches
def test_no_real_word_is_corrected_alone_or_in_a_sentence(sample_app: Flask) -> None:
    """Through the engine (a learner's statuses), which decides on corrections: each word
    alone, then inside a sentence of everyday words."""
    index = _search_index(sample_app)
    corrected = []
    for word in [*COMMON, *HEALTH]:
        for text in (word, SENTENCE.format(word)):
            page = index.search(SearchRequest(text=text, statuses=("published",)))
            if page.corrected_query or page.suggestion:
                corrected.append((text, page.corrected_query or page.suggestion))
    assert corrected == []


@pytest.mark.parametrize(
    "text",
    [
        "working with social care to get patients home sooner",
        "co-consulting with teenagers",
        "speaking up when I'm junior",
        "GP receptionist rude patients",
        "bullying",
    ],
)
def test_the_issues_false_corrections_are_gone(sample_app: Flask, text: str) -> None:
    learner = ensure_user("learner")
    result = search_cases(learner, text)
    assert result.corrected_query is None and result.suggestion is None


def test_the_judged_misspellings_are_still_corrected(sample_app: Flask) -> None:
    index = _search_index(sample_app)
    typos = [judged.query for judged in load_judgements() if judged.group == "misspelling"]
    assert len(typos) >= 10
    for text in typos:
        page = index.search(SearchRequest(text=text, statuses=("published",)))
        if set(text.split()) & REAL_WORD_TYPOS:
            assert page.corrected_query is None and page.suggestion is None, text
        else:
            assert page.corrected_query, text  # unmistakable (one edit): the results are replaced


def test_british_spellings_and_health_words_are_english() -> None:
    for word in ("organisation", "colour", "behaviour", "paediatric", "haematologist", "wellbeing", "reablement"):
        assert is_english(word), word
    for typo in ("receptionst", "safegarding", "whistleblowng", "pharmasist"):
        assert not is_english(typo), typo


# -- the page and the curators' log ------------------------------------------------------------
def _log_rows() -> list[tuple[str, int]]:
    from casestudies.curation.dashboard import dashboard

    return sorted(dashboard().empty_searches)


def test_a_real_word_no_case_uses_is_said_so_and_logged(app: Flask, login) -> None:
    app.config["GAP_MIN_SEARCHERS"] = 1  # one reader's searches, listed
    from casestudies.cli import SAMPLE_DIR
    from casestudies.indexing import catch_up
    from casestudies.transfer.casefile import read_bundle
    from casestudies.transfer.services import import_cases

    assert import_cases(read_bundle(SAMPLE_DIR), actor=None, publish=True).ok
    db.session.commit()
    catch_up(app)
    client = login("learner")
    page = client.get("/search", query_string={"q": "bullying"}).get_data(as_text=True)
    assert "No case mentions <strong>bullying</strong>" in page
    assert "Showing results for" not in page and "Did you mean" not in page
    assert "incivility" in page  # the thesaurus's related terms, searched for instead
    assert "/cases/ftsu-guardian-theatre-incivility" in page  # and what they found
    assert "Curators see this search." in page
    # A replaced search is logged, marked with what was shown; a typed word no case has too.
    replaced = client.get("/search", query_string={"q": "receptionst"}).get_data(as_text=True)
    assert "Showing results for" in replaced
    client.get("/search", query_string={"q": "zzyzzyva"})
    client.get("/search", query_string={"q": "porter discharge"})  # every word found: not listed
    assert _log_rows() == [("bullying", 1), ("receptionst (shown: receptionist)", 1), ("zzyzzyva", 1)]


# -- the thesaurus file's format ----------------------------------------------------------------
def test_the_thesaurus_reads_concepts_and_names_the_line_of_a_mistake() -> None:
    concepts = parse_concepts(
        "# comment\nconcept: bullying\nsynonyms: intimidation; belittling\nbroader: culture\n\n"
        "concept: burnout\nrelated: tired\n"
    )
    assert [c.preferred for c in concepts] == ["bullying", "burnout"]
    assert concepts[0].synonyms == ("intimidation", "belittling") and concepts[0].broader == ("culture",)
    with pytest.raises(ThesaurusError, match="line 2"):
        parse_concepts("concept: a\nsynonym: b\n")
    with pytest.raises(ThesaurusError, match="line 1"):
        parse_concepts("synonyms: b\n")


def test_a_concept_is_found_in_other_words_but_below_the_learners_own(tmp_path: Path) -> None:
    from search import CaseDoc, SearchIndex

    index = SearchIndex(tmp_path / "index")
    index.rebuild(
        [
            CaseDoc(1, "own", "Case", "Summary.", "Porter", "Ward", "She was bullying the new porter.", "published"),
            CaseDoc(2, "other", "Case", "Summary.", "Porter", "Ward", "Incivility in theatre, daily.", "published"),
            CaseDoc(3, "none", "Case", "Summary.", "Porter", "Ward", "A quiet night shift.", "published"),
        ]
    )
    page = index.search(SearchRequest(text="bullying"))
    assert [hit.id for hit in page.hits] == [1, 2] and page.unmatched == ()


def test_a_concept_no_case_names_weighs_as_much_as_the_learners_other_words(tmp_path: Path) -> None:
    # "staff burnout": no case says burnout, so its concept's terms stand in for it at full
    # weight; the case about exhaustion comes before the one that says "staff" most.
    from search import CaseDoc, SearchIndex

    index = SearchIndex(tmp_path / "index")
    most_staff = "Staff meetings, staff rotas and staff rooms: the staff were tired."
    index.rebuild(
        [
            CaseDoc(1, "staff", "Case", "Summary.", "Porter", "Ward", most_staff, "published"),
            CaseDoc(
                2,
                "tired",
                "Case",
                "Summary.",
                "Porter",
                "Ward",
                "The staff spoke of exhaustion after a long winter.",
                "published",
            ),
            CaseDoc(3, "none", "Case", "Summary.", "Porter", "Ward", "A quiet night shift.", "published"),
            CaseDoc(4, "canteen", "Case", "Summary.", "Porter", "Ward", "The staff canteen.", "published"),
        ]
    )
    page = index.search(SearchRequest(text="staff burnout"))
    assert [hit.id for hit in page.hits][:2] == [2, 1] and page.unmatched == ("burnout",)


def test_one_word_of_a_multi_word_synonym_reaches_the_cases_of_its_phrase(sample_app: Flask) -> None:
    # "multidisciplinary" alone found nothing while "MDT" and "multidisciplinary team" found 4.
    learner = ensure_user("learner")
    phrase = {item.case.slug for item in search_cases(learner, "multidisciplinary team").items}
    assert len(phrase) >= 4
    assert phrase <= {item.case.slug for item in search_cases(learner, "multidisciplinary").items}
