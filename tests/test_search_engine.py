"""The search engine's own scoring against Whoosh's: the engine works out term and phrase
scores itself (block by block, cached per searcher) for speed, and must find exactly the
documents Whoosh finds, with the same scores, over several segments and deleted documents."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from whoosh import query as wq

from search import CaseDoc, SearchIndex, SearchRequest
from search.query import QueryBuilder, parse_user_query
from search.scoring import Scorer

from .search_corpus import random_doc, random_text


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    """About 600 documents in several segments, some replaced and some deleted."""
    rng = random.Random(7)
    search_index = SearchIndex(Path(tmp_path_factory.mktemp("index")))
    search_index.rebuild(random_doc(rng, i) for i in range(1, 301))
    for start in (301, 401, 501):
        with search_index.writing() as batch:
            for case_id in range(start, start + 100):
                batch.upsert(random_doc(rng, case_id))
            for case_id in rng.sample(range(1, start), 15):
                batch.upsert(random_doc(rng, case_id))  # a replaced document: a deletion plus an add
            for case_id in rng.sample(range(1, start), 5):
                batch.delete(case_id)
    return search_index


def _whoosh_scores(search_index: SearchIndex, query: wq.Query) -> dict[int, float]:
    with search_index._searching() as cache:
        results = cache.searcher.search(query, limit=None)
        return {hit.docnum: hit.score for hit in results}


def _engine_scores(search_index: SearchIndex, query: wq.Query) -> dict[int, float]:
    with search_index._searching() as cache:
        assert len(cache.searcher.leaf_searchers()) > 1, "the test needs several segments"
        found = cache.scores(query)
        return {docnum: score for docnum, score in found.items() if docnum in cache.live}


QUERIES = [
    wq.Term("body", "nurs"),
    wq.Term("title", "porter", boost=8.0),
    wq.Term("body", "absentword"),
    wq.Phrase("body", ["night", "shift"]),
    wq.Phrase("body", ["district", "nurs", "ward"]),
    wq.Phrase("title", ["care", "team"], boost=8.0),
    wq.Phrase("body", ["night", "absentword"]),
    wq.Or([wq.Term("body", "rota"), wq.Term("title", "rota", boost=8.0), wq.Phrase("body", ["social", "worker"])]),
    wq.And([wq.Term("body", "patient"), wq.Term("body", "famili")]),
    wq.AndNot(wq.Term("body", "lead"), wq.Term("body", "quiet")),
    wq.Prefix("body", "hand"),
]


@pytest.mark.parametrize("query", QUERIES, ids=[repr(q)[:60] for q in QUERIES])
def test_engine_scores_are_whooshs_scores(index: SearchIndex, query: wq.Query) -> None:
    expected = _whoosh_scores(index, query)
    found = _engine_scores(index, query)
    assert found.keys() == expected.keys()
    for docnum, score in expected.items():
        assert found[docnum] == pytest.approx(score, rel=1e-12), docnum


@pytest.mark.parametrize(
    "text", ["night shift", '"night shift" porter', "nurse OR porter -quiet", '"social worker" lead*', "handover"]
)
def test_typed_queries_rank_as_whoosh_ranks_them(index: SearchIndex, text: str) -> None:
    """The query a learner's words become, with field weights, synonyms and the thesaurus."""
    query = QueryBuilder(index.analyse, index.synonyms(), thesaurus=index.thesaurus()).build(parse_user_query(text))
    expected = _whoosh_scores(index, query)
    assert expected, "the query should match something"
    found = _engine_scores(index, query)
    assert found.keys() == expected.keys()
    for docnum, score in expected.items():
        assert found[docnum] == pytest.approx(score, rel=1e-12)
    page = index.search(SearchRequest(text=text, exact=True))
    ranked = sorted(expected, key=lambda docnum: (-expected[docnum], docnum))[:10]
    with index._searching() as cache:
        assert [hit.id for hit in page.hits] == [int(cache.searcher.stored_fields(d)["id"]) for d in ranked]


def test_cached_scores_follow_an_edit(index: SearchIndex) -> None:
    """A new searcher after a change: the cached scores of the old one are not reused."""
    query = QueryBuilder(index.analyse, None).build(parse_user_query("zebra"))
    assert index.search(SearchRequest(text="zebra", exact=True)).total == 0
    with index._searching() as cache:
        assert not cache.scores(query)
    rng = random.Random(1)
    doc = random_doc(rng, 9999)
    index.upsert([CaseDoc(**{**doc.__dict__, "body": "A zebra crossing outside the ward."})])
    assert [hit.id for hit in index.search(SearchRequest(text="zebra", exact=True)).hits] == [9999]
    index.delete([9999])
    assert index.search(SearchRequest(text="zebra", exact=True)).total == 0


def test_query_keys_tell_queries_apart(index: SearchIndex) -> None:
    """Whoosh hashes a compound query as the XOR of its parts: one word over an even
    number of fields hashes alike for every word. The caches' keys must not."""
    from search.scoring import query_key

    build = QueryBuilder(index.analyse, None).build
    team, nurse = build(parse_user_query("team")), build(parse_user_query("nurse"))
    assert query_key(team) != query_key(nurse)
    assert query_key(team) == query_key(build(parse_user_query("team")))
    assert query_key(wq.Or([wq.Term("body", "a")], minmatch=2)) != query_key(wq.Or([wq.Term("body", "a")]))
    assert query_key(wq.Term("body", "a", boost=2.0)) != query_key(wq.Term("body", "a"))


INDEXING_TEXTS = [
    "The night shift handed over to the day team.",
    "A&E waits, e.g. at 4.30am; the GP and CAMHS said: no. News2 scores 111 times",
    "the of and a an in on at to",  # stop words only
    "Of the ward: the sister's rota, leadership, leaders, led, leading — LEADING!",
    "Ünïcödé wörds, İstanbul, straße, 日本語のテキスト, Zalgo e\u0301\u0300 and \u202eright-to-left",
    "x y z 1 22 333 a&e A&E a.b.c. ...",
    "",
]


@pytest.mark.parametrize("text", INDEXING_TEXTS + [random_text(random.Random(n), 300) for n in range(5)])
def test_fast_indexing_makes_the_postings_whoosh_makes(text: str) -> None:
    """AnalysedText.index() skips Whoosh's token pipeline; it must produce the very same
    terms, frequencies, weights and positions as the analyser does through TEXT."""
    from whoosh.fields import TEXT

    from search.analysis import AnalysedText, text_analyzer

    fast = sorted(AnalysedText().index(text))
    slow = sorted(TEXT(analyzer=text_analyzer()).index(text))
    assert fast == slow


def test_a_word_late_in_a_long_case_gets_a_snippet(tmp_path: Path) -> None:
    """Whoosh's fragmenter stops at 32 KB by default: a case whose word comes after that
    was found but shown without a snippet."""
    search_index = SearchIndex(tmp_path / "index")
    body = "Ordinary words about the ward. " * 2000 + "Then the pangolin rota began."
    search_index.rebuild([CaseDoc(1, "long", "Long", "A summary.", "Porter", "Ward", body, "published")])
    page = search_index.search(SearchRequest(text="pangolin"))
    assert [hit.id for hit in page.hits] == [1]
    assert "<mark>pangolin</mark>" in page.hits[0].snippet


def _spelling_index(tmp_path: Path) -> SearchIndex:
    search_index = SearchIndex(tmp_path / "index")
    texts = ["Leadership on the ward."] * 3 + ["Readership of the newsletter.", "Leadersheep, a joke."]
    search_index.rebuild(
        CaseDoc(n, f"c{n}", "Case", "Summary.", "Porter", "Ward", text, "published") for n, text in enumerate(texts, 1)
    )
    draft = CaseDoc(9, "draft", "Draft", "Summary.", "Porter", "Ward", "Lanyardship only here.", "draft")
    search_index.upsert([draft])
    return search_index


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("leadrship", "leadership"),  # a letter dropped
        ("laedership", "leadership"),  # two letters swapped
        ("leadershipp", "leadership"),  # a letter doubled
        ("leedership", "leadership"),  # a letter changed: "leadersheep" is two edits away
        ("newslettr", "newsletter"),
    ],
)
def test_spelling_suggests_the_closest_then_the_most_used_word(tmp_path: Path, typed: str, expected: str) -> None:
    page = _spelling_index(tmp_path).search(SearchRequest(text=typed))
    assert page.corrected_query == expected


def test_two_edits_away_is_only_suggested_never_replaced(tmp_path: Path) -> None:
    # "ledrship": the closest word two edits away is offered, but the results stay the
    # typed word's: only an unmistakable typo (one edit) is replaced.
    page = _spelling_index(tmp_path).search(SearchRequest(text="ledrship"))
    assert page.corrected_query is None and page.suggestion == "leadership"


def test_spelling_never_suggests_a_word_only_a_draft_has(tmp_path: Path) -> None:
    search_index = _spelling_index(tmp_path)
    assert search_index.search(SearchRequest(text="lanyardshp")).corrected_query is None
    curator = SearchRequest(text="lanyardshp", statuses=("draft", "published"))
    assert search_index.search(curator).corrected_query == "lanyardship"


def test_snippets_mark_whole_words_around_the_first_matches() -> None:
    from search.snippets import make_snippet

    text = "The steam rose. Our team met & the x.team left; then the team <b>won</b>."
    spans = [(20, 24), (57, 61)]  # "team" twice, as whole words
    html = make_snippet(text, spans)
    assert html.startswith("The steam rose. Our <mark>team</mark> met &amp; the x.team")
    assert "the <mark>team</mark> &lt;b&gt;won&lt;/b&gt;." in html
    long_text = ("word " * 100) + "team " + ("word " * 100) + "team " + ("word " * 100)
    first, second = long_text.index("team"), long_text.rindex("team")
    fragments = make_snippet(long_text, [(first, first + 4), (second, second + 4)]).split(" … ")
    assert len(fragments) == 2 and all(len(f) <= 240 and "<mark>team</mark>" in f for f in fragments)
    assert fragments[0].startswith("word") and not fragments[0].startswith(" ")


def test_a_snippet_marks_the_words_that_match_and_no_others(tmp_path: Path) -> None:
    search_index = SearchIndex(tmp_path / "index")
    body = "The steam rose. Our teams met the x.team; happily, the Team was happy."
    search_index.rebuild([CaseDoc(1, "c", "Case", "Summary.", "Porter", "Ward", body, "published")])
    snippet = search_index.search(SearchRequest(text="team happy", exact=True)).hits[0].snippet
    assert snippet.count("<mark>") == 3, snippet  # teams, Team, happy ("happily" stems to "happili")
    assert "The steam rose" in snippet and "the x.team; happily," in snippet
    assert "<mark>teams</mark>" in snippet and "<mark>Team</mark>" in snippet and "<mark>happy</mark>" in snippet


NORMAL_QUERIES = ["night shift", '"social worker" porter', "nurse OR rota -quiet", "care team", "zebraword"]


@pytest.mark.parametrize("text", NORMAL_QUERIES)
def test_normal_queries_never_fall_back_to_whooshs_matcher(index: SearchIndex, text: str) -> None:
    """A term or phrase the fast path cannot read is scored by Whoosh's matcher instead:
    the same numbers, several times slower, so a normal query must never come to that."""
    query = QueryBuilder(index.analyse, index.synonyms()).build(parse_user_query(text))
    with index._searching() as state:
        scorer = Scorer(state.searcher)  # nothing kept yet: every part is worked out
        scorer.scores(query)
    assert scorer.counts.fallbacks == 0 and scorer.counts.whoosh_matcher == 0, scorer.counts
    assert scorer.counts.fast_terms > 0
    if '"' in text:
        assert scorer.counts.fast_phrases > 0
    index.search(SearchRequest(text=text))
    with index._searching() as state:
        assert state.scorer.counts.fallbacks == 0, state.scorer.counts


@pytest.mark.parametrize("query", QUERIES, ids=[repr(q)[:60] for q in QUERIES])
def test_whooshs_matcher_as_fallback_scores_as_the_fast_path(index: SearchIndex, query: wq.Query) -> None:
    with index._searching() as state:
        fast, fallback = Scorer(state.searcher), Scorer(state.searcher, fast=False)
        expected = {d: s for d, s in fast.scores(query).items() if d in state.live}
        found = {d: s for d, s in fallback.scores(query).items() if d in state.live}
    assert fallback.counts.fast_terms == fallback.counts.fast_phrases == 0
    assert fallback.counts.whoosh_matcher > 0
    assert found.keys() == expected.keys()
    for docnum, score in expected.items():
        assert found[docnum] == pytest.approx(score, rel=1e-12), docnum


@pytest.mark.parametrize("text", NORMAL_QUERIES)
def test_a_search_scored_by_the_fallback_shows_the_same_page(
    index: SearchIndex, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = SearchRequest(text=text, exact=True)
    fast_page = index.search(request)
    with index._searching() as state:
        monkeypatch.setattr(state, "scorer", Scorer(state.searcher, fast=False))
    fallback_page = index.search(request)
    with index._searching() as state:
        assert state.scorer.counts.fast_terms == 0 and state.scorer.counts.whoosh_matcher > 0
    assert [hit.id for hit in fallback_page.hits] == [hit.id for hit in fast_page.hits]
    assert [hit.score for hit in fallback_page.hits] == pytest.approx([hit.score for hit in fast_page.hits], rel=1e-12)
    assert fallback_page.total == fast_page.total and fallback_page.facets == fast_page.facets


SNIPPET_TEXT = "The nurse's rota, A&E waits, e.g. a co-ordinator’s 4.30pm cafe\u0301s round; don't stop. "


@pytest.mark.parametrize("shift", range(len(SNIPPET_TEXT)))
def test_a_snippet_starts_and_ends_at_a_word_boundary(shift: int) -> None:
    """Wherever the context before a match begins, the fragment begins with a whole word:
    never inside "nurse's", "A&E", "co-ordinator’s", "4.30pm" or an accented word."""
    from html import unescape

    from search.snippets import make_snippet

    text = SNIPPET_TEXT[shift:] + SNIPPET_TEXT + "The pangolin rota began. " + SNIPPET_TEXT
    match = text.index("pangolin")
    plain = unescape(
        make_snippet(text, [(match, match + len("pangolin"))]).replace("<mark>", "").replace("</mark>", "")
    )
    start = text.index(plain, max(0, match - 200))
    end = start + len(plain)
    joined = "'’&.-\u0301"
    assert start == 0 or text[start - 1] == " " or (text[start - 1] not in joined and not text[start - 1].isalnum())
    assert end == len(text) or not (text[end].isalnum() or (text[end] in joined and text[end - 1].isalnum()))


def test_a_snippet_marks_whole_words_of_each_query_words_stem_family(tmp_path: Path) -> None:
    """A word is marked when its analysed stem is a query term's: the stemmer decides the
    family (the Porter stemmer puts "careful" with "care", not "careless" nor "carers"),
    and the mark covers the whole word, "nurse's" and not only its "nurse"."""
    from search.analysis import TOKEN_RE, stem_word

    search_index = SearchIndex(tmp_path / "index")
    care = "Careful carers cared about the care of careless cars; caring for careers. Carefully, A&E cares."
    nurses = "The nurse's rota. Nurses' tea: a nurse’s don't-care day; nursing, A&E nurse."
    search_index.rebuild(
        [
            CaseDoc(1, "care", "Care", "Summary.", "Porter", "Ward", care, "published"),
            CaseDoc(2, "nurses", "Nurses", "Summary.", "Porter", "Ward", nurses, "published"),
        ]
    )

    def marked(text: str) -> list[str]:
        snippet = search_index.search(SearchRequest(text=text, exact=True)).hits[0].snippet
        return re.findall(r"<mark>(.*?)</mark>", snippet.replace("&#x27;", "'"))

    care_family = [word for word in TOKEN_RE.findall(care) if stem_word(word.lower()) == stem_word("care")]
    assert [word for mark in marked("care") for word in mark.split()] == care_family
    assert not {"careless", "carers", "cars", "careers", "Carefully"} & set(care_family)
    assert marked("nurse") == ["nurse's", "Nurses", "nurse’s", "nursing", "nurse"]


def _professions_index(tmp_path: Path) -> SearchIndex:
    search_index = SearchIndex(tmp_path / "index")
    texts = [
        "A paediatrician ran a night shift simulation for the children's ward.",
        "A physiotherapist joined the reablement team at home.",
        "A porter redesigned the discharge lounge.",
    ]
    search_index.rebuild(
        CaseDoc(n, f"c{n}", "Case", "Summary.", "Staff", "Ward", text, "published") for n, text in enumerate(texts, 1)
    )
    return search_index


def test_an_american_spelling_brings_the_synonyms_of_the_british_one(tmp_path: Path) -> None:
    # "pediatric" is "paediatric" spelt the American way; "paediatric = paediatrician" is a
    # synonym group, so the case that says only "paediatrician" is found either way.
    search_index = _professions_index(tmp_path)
    for typed in ("paediatric", "pediatric"):
        assert [hit.id for hit in search_index.search(SearchRequest(text=typed)).hits] == [1], typed


def test_spelling_corrects_to_a_synonym_word_that_no_case_spells(tmp_path: Path) -> None:
    # No case says "physiotherapy", but the synonym table joins it to "physiotherapist":
    # the corrector may offer it, and its search finds the physiotherapist's case.
    page = _professions_index(tmp_path).search(SearchRequest(text="physiotheraphy"))
    assert page.corrected_query == "physiotherapy"
    assert [hit.id for hit in page.hits] == [2]
