"""Every cache search keeps is bounded, whatever the queries: a learner sending thousands
of random queries must not grow a worker without limit."""

from __future__ import annotations

import gc
import random
import string
from pathlib import Path

import pytest

from search import SearchIndex, SearchRequest, analysis, scoring, snippets, spelling
from search import engine as search_engine
from search import facets as search_facets
from search.caches import BoundedCache

from .search_corpus import VOCAB as CORPUS_VOCAB
from .search_corpus import random_doc

RSS_GROWTH_LIMIT_MB = 50
VOCAB = [*CORPUS_VOCAB, "discharge", "lounge", "matron", "theatre", "clinic", "pharmacy"]


def _built_index(directory: Path, cases: int = 300) -> SearchIndex:
    rng = random.Random(11)
    index = SearchIndex(directory)
    index.rebuild(random_doc(rng, case_id, VOCAB) for case_id in range(1, cases + 1))
    return index


def _unmatched_query(rng: random.Random) -> str:
    """1 to 4 random letter strings, a third of the time as a quoted phrase."""
    words = " ".join(
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 12))) for _ in range(rng.randint(1, 4))
    )
    return f'"{words}"' if rng.random() < 1 / 3 else words


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.slow
def test_thousands_of_unmatched_queries_do_not_grow_the_process(tmp_path: Path) -> None:
    index = _built_index(tmp_path / "index")
    index.search(SearchRequest(text="night shift"))  # the searcher and what it reads once
    rng = random.Random(5)
    gc.collect()
    before = _rss_mb()
    for _ in range(5000):
        index.search(SearchRequest(text=_unmatched_query(rng)))
    gc.collect()
    grown = _rss_mb() - before
    assert grown < RSS_GROWTH_LIMIT_MB, f"resident memory grew {grown:.1f} MB"


def _random_words(rng: random.Random, count: int) -> str:
    letters = string.ascii_lowercase
    return " ".join("".join(rng.choice(letters) for _ in range(rng.randint(3, 12))) for _ in range(count))


@pytest.mark.slow
def test_searches_of_24_random_words_grow_a_worker_by_at_most_50_mb(tmp_path: Path) -> None:
    """Issue 23: 3,000 searches of 24 random words (half with exact=1, half letting the
    spelling check run) grew each of two gunicorn workers by about 94 MB: the caches'
    estimates did not count their keys (a 24-word query's structure, tens of kilobytes)
    nor the stem cache. Resident memory, measured, from before the English word list is
    first read (its one-off load is counted too)."""
    index = _built_index(tmp_path / "index", cases=1000)
    index.search(SearchRequest(text="night shift", exact=True))  # the searcher and what it reads once
    rng = random.Random(23)
    gc.collect()
    before = _rss_mb()
    for n in range(3000):
        index.search(SearchRequest(text=_random_words(rng, 24), exact=n % 2 == 0))
    gc.collect()
    grown = _rss_mb() - before
    assert grown <= RSS_GROWTH_LIMIT_MB, f"resident memory grew {grown:.1f} MB"


@pytest.fixture
def small_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bounds small enough for a few hundred queries to pass them."""
    monkeypatch.setattr(scoring, "SCORE_CACHE_BYTES", 64 * scoring.SCORE_ENTRY_BYTES)
    monkeypatch.setattr(scoring, "PHRASE_DOCS_CACHE_BYTES", 16 * scoring.PHRASE_DOCS_ENTRY_BYTES)
    monkeypatch.setattr(search_facets, "QUERY_BITS_CACHE_BYTES", 16 * search_facets.QUERY_BITS_ENTRY_BYTES)
    monkeypatch.setattr(spelling, "WORDS_CACHE_BYTES", 4 * spelling.WORDS_ENTRY_BYTES + 4096)
    monkeypatch.setattr(search_engine, "SNIPPET_CACHE_BYTES", 8 * search_engine.SNIPPET_ENTRY_BYTES)


def test_each_cache_stays_within_its_entries_and_bytes(tmp_path: Path, small_caches: None) -> None:
    index = _built_index(tmp_path / "index", cases=200)
    rng = random.Random(8)
    for n in range(400):
        # Unmatched queries (empty results must count too), and real words and phrases.
        text = _unmatched_query(rng) if n % 2 else " ".join(rng.sample(VOCAB, rng.randint(1, 3)))
        if n % 3 == 0 and n % 2 == 0:
            text = f'"{text}"'
        index.search(SearchRequest(text=text, page=1 + n % 2))
    with index._searching() as state:
        caches = state.caches()
        for name, cache in caches.items():
            assert cache.currsize <= cache.maxsize, name
            assert len(cache) <= cache.max_entries, name
        for name in ("scores", "phrase documents", "query bitmaps", "snippets"):
            assert caches[name].currsize > caches[name].maxsize // 2, f"{name}: the bound was never reached"
    for kept in (analysis._kept_stem, snippets._kept_terms_of_word, snippets.candidate_pattern):
        info = kept.cache_info()
        assert info.maxsize is not None and info.currsize <= info.maxsize


def test_an_entry_that_holds_nothing_still_counts() -> None:
    cache: BoundedCache[int, frozenset[int]] = BoundedCache(1000, 100, len)
    for key in range(50):
        cache.remember(key, frozenset())
    assert len(cache) == cache.max_entries == 10
    assert list(cache) == list(range(40, 50))  # the least recently used went first


def test_a_value_larger_than_its_cache_is_returned_but_not_kept() -> None:
    cache: BoundedCache[str, str] = BoundedCache(100, 10, len)
    assert cache.remember("big", "x" * 200) == "x" * 200
    assert "big" not in cache and cache.currsize == 0
