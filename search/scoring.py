"""BM25F scores of queries, worked out once per searcher and kept.

Whoosh walks a tree of matchers document by document in Python for every search. Here
each Or (a word or phrase over all fields, or a word and its synonyms), And and AndNot
is worked out once per searcher and kept, as most searches share their words; terms and
phrases are scored a block of postings at a time with the very numbers Whoosh's scorer
gives (the same formula, statistics and operation order; tests/test_search_engine.py
compares them). What the fast path cannot read (another weighting, a sloppy phrase, a
prefix) is scored by Whoosh's own matcher, and counted in FastPathCounts.
"""

from __future__ import annotations

import hashlib
import heapq
from array import array
from collections.abc import Iterable
from dataclasses import dataclass

from whoosh import query as wq
from whoosh.formats import Positions
from whoosh.reading import IndexReader
from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from .caches import BoundedCache
from .whoosh_internals import field_b, leaf_postings, length_bytes, posting_blocks

QueryKey = tuple[object, ...]
Scores = dict[int, float]  # document number -> score

# Kept scores of compound queries, per searcher: each document costs an int and a float
# in two arrays, and each entry SCORE_ENTRY_BYTES for its key (a digest, see query_key),
# the two arrays' headers and the cache's bookkeeping (generously: about 600 bytes
# measured), counted even when nothing matched.
SCORE_CACHE_BYTES = 20 * 1024 * 1024
SCORE_ENTRY_BYTES = 2560
SCORE_BYTES_PER_DOC = 12
# Phrases whose matching documents are kept, for marking snippets.
PHRASE_DOCS_CACHE_BYTES = 1024 * 1024
PHRASE_DOCS_ENTRY_BYTES = 768
PHRASE_DOCS_BYTES_PER_DOC = 40  # a set slot and an int object


def query_key(query: wq.Query) -> QueryKey:
    """A dictionary key for a query: a 16-byte digest of its structure. Not the query
    itself: Whoosh hashes a compound query as the XOR of its parts' hashes, so the Or of
    one word over an even number of fields hashes the same for every word, and a cache
    keyed by queries degrades into a list. Not the structure itself either: a query of
    24 words over 8 fields is a nested tuple of tens of kilobytes, which the caches'
    fixed estimate of a key's size would not count (3,000 such searches grew a worker by
    about 100 MB)."""
    return (hashlib.blake2b(repr(_structure(query)).encode("utf-8"), digest_size=16).digest(),)


def _structure(query: wq.Query) -> tuple[object, ...]:
    if isinstance(query, wq.CompoundQuery):
        parts = tuple(_structure(sub) for sub in query.subqueries)
        options = (getattr(query, "scale", None), getattr(query, "minmatch", None))
        return (type(query).__name__, query.boost, options, parts)
    if isinstance(query, wq.BinaryQuery):
        return (type(query).__name__, query.boost, _structure(query.a), _structure(query.b))
    return (type(query).__name__, repr(query), query.boost)


def tree_sum(values: list[float]) -> float:
    """values added up in the order of Whoosh's make_binary_tree (the same float)."""
    if len(values) == 1:
        return values[0]
    half = len(values) // 2
    return tree_sum(values[:half]) + tree_sum(values[half:])


def boosted(scores: Scores, boost: float) -> Scores:
    return scores if boost == 1.0 else {docnum: score * boost for docnum, score in scores.items()}


def top_documents(scores: Scores, matched: frozenset[int], count: int) -> list[int]:
    """The count highest-scoring of matched, ties to the lower document number (Whoosh's
    order). The count-th best score is found among plain floats first (heapq in C, no
    key function), so only the documents that reach it are ranked with a key."""
    if len(matched) <= count:
        candidates: Iterable[int] = matched
    else:
        values = [scores[docnum] for docnum in matched]
        threshold = heapq.nlargest(count, values)[-1]
        candidates = [docnum for docnum in matched if scores[docnum] >= threshold]
    return sorted(candidates, key=lambda docnum: (-scores[docnum], docnum))[:count]


@dataclass
class FastPathCounts:
    """How the terms and phrases a searcher scored were scored."""

    fast_terms: int = 0
    fast_phrases: int = 0
    # Terms and phrases the fast path could not read, scored by Whoosh's matcher instead.
    fallbacks: int = 0
    # Every query scored by Whoosh's matcher: the fallbacks, and kinds with no fast path.
    whoosh_matcher: int = 0


def _payload_bytes(pair: tuple[array, array]) -> int:
    return SCORE_BYTES_PER_DOC * len(pair[0])


def _phrase_docs_bytes(docs: frozenset[int]) -> int:
    return PHRASE_DOCS_BYTES_PER_DOC * len(docs)


class Scorer:
    """Scores of queries against one searcher, kept as long as the searcher. With
    fast=False every term and phrase is scored by Whoosh's matcher (for comparison)."""

    def __init__(self, searcher: Searcher, *, fast: bool = True) -> None:
        self.searcher = searcher
        self.fast = fast
        self.counts = FastPathCounts()
        # (document numbers, scores) of compound queries.
        self.cache: BoundedCache[QueryKey, tuple[array, array]] = BoundedCache(
            SCORE_CACHE_BYTES, SCORE_ENTRY_BYTES, _payload_bytes
        )
        self.phrase_cache: BoundedCache[QueryKey, frozenset[int]] = BoundedCache(
            PHRASE_DOCS_CACHE_BYTES, PHRASE_DOCS_ENTRY_BYTES, _phrase_docs_bytes
        )
        # BM25's length part per (segment offset, field): bounded by the index's segments.
        self._norms: dict[tuple[int, str], list[float]] = {}

    def phrase_docs(self, phrase: wq.Phrase) -> frozenset[int] | None:
        """The documents a phrase matched when it was scored, if that is remembered."""
        return self.phrase_cache.get(query_key(phrase))

    def scores(self, query: wq.Query) -> Scores:
        """{document number: score} for every document that matches query, scored as
        Whoosh scores it (BM25F; an Or adds the scores of its parts that match, an And
        adds its parts' scores, an AndNot keeps its first part's). Deleted documents may
        be among them: callers intersect with the documents they may show."""
        if not isinstance(query, (wq.Or, wq.And, wq.AndNot)):
            return self._compute(query)
        key = query_key(query)
        cached = self.cache.get(key)
        if cached is not None:
            return dict(zip(*cached, strict=True))
        result = self._compute(query)
        self.cache.remember(key, (array("i", result.keys()), array("d", result.values())))
        return result

    def matches_nothing(self, query: wq.Query) -> bool:
        """Whether query matches no document (deleted ones count, as in scores()): a term is
        looked up in the term index, an Or or And asks its parts first, and anything else is
        scored once and kept, without copying kept scores into a new dictionary."""
        if isinstance(query, wq.Term) and query.fieldname in self.searcher.schema:
            try:
                text = self.searcher.schema[query.fieldname].to_bytes(query.text)
            except ValueError:
                return True
            return (query.fieldname, text) not in self.searcher.reader()
        if isinstance(query, wq.Or) and query.subqueries:
            return all(self.matches_nothing(sub) for sub in query.subqueries)
        if isinstance(query, wq.And) and query.subqueries:
            if any(self.matches_nothing(sub) for sub in query.subqueries):
                return True
            if len(query.subqueries) == 1:
                return False
        cached = self.cache.get(query_key(query)) if isinstance(query, (wq.And, wq.AndNot)) else None
        if cached is not None:
            return not cached[0]
        return not self.scores(query)

    def _compute(self, query: wq.Query) -> Scores:
        if query is wq.NullQuery:
            return {}
        kind = type(query)
        plain = query.boost == 1.0 and not getattr(query, "scale", None) and not getattr(query, "minmatch", 0)
        if kind in (wq.Or, wq.And) and plain and query.subqueries:
            return self._combined(kind, [self.scores(sub) for sub in query.subqueries])
        if kind is wq.AndNot and query.a.boost == 1.0:
            excluded = self.scores(query.b)
            return {docnum: score for docnum, score in self.scores(query.a).items() if docnum not in excluded}
        if kind is wq.Term and self.fast:
            found = self._term_scores(query)
            if found is not None:
                self.counts.fast_terms += 1
                return found
            self.counts.fallbacks += 1
        if kind is wq.Phrase and self.fast:
            found = self._phrase_scores(query)
            if found is not None:
                self.counts.fast_phrases += 1
                self.phrase_cache.remember(query_key(query), frozenset(found))
                return found
            self.counts.fallbacks += 1
        found = self.whoosh_scores(query)
        if kind is wq.Phrase:
            self.phrase_cache.remember(query_key(query), frozenset(found))
        return found

    @staticmethod
    def _combined(kind: type, parts: list[Scores]) -> Scores:
        """The scores of an And (documents in every part) or an Or (in any part) of
        parts, each document's scores added up."""
        if len(parts) == 1:
            return parts[0]
        if kind is wq.And:
            parts.sort(key=len)
            common = set(parts[0]).intersection(*parts[1:])
            return {docnum: sum(part[docnum] for part in parts) for docnum in common}
        total = parts[0]
        for part in parts[1:]:
            for docnum, score in part.items():
                total[docnum] = total.get(docnum, 0.0) + score
        return total

    def whoosh_scores(self, query: wq.Query) -> Scores:
        """Scores from Whoosh's own matcher, document by document."""
        self.counts.whoosh_matcher += 1
        matcher = query.matcher(self.searcher, self.searcher.context())
        found = {}
        while matcher.is_active():
            found[matcher.id()] = matcher.score()
            matcher.next()
        return found

    def _bm25(self, field: str) -> tuple[float, float, float] | None:
        """BM25F's average field length, B and K1 for field, or None where the weighting
        or field is not what the fast path reads."""
        searcher = self.searcher
        weighting = searcher.weighting
        if type(weighting) is not BM25F or field not in searcher.schema or not searcher.schema[field].scorable:
            return None
        avgfl = searcher.avg_field_length(field) or 1
        return avgfl, field_b(weighting, field), weighting.K1

    def _term_scores(self, term: wq.Term) -> Scores | None:
        """A term's BM25F scores, read a block of postings at a time, with field lengths
        read once per segment instead of once per posting. None where the postings or
        weighting are not the kind this reads."""
        searcher = self.searcher
        field = term.fieldname
        bm25 = self._bm25(field)
        if bm25 is None:
            return None
        avgfl, b, k1 = bm25
        text = searcher.schema[field].to_bytes(term.text)
        if (field, text) not in searcher.reader():
            return {}
        idf = searcher.idf(field, text)
        k1p1 = k1 + 1
        found: Scores = {}
        for subsearcher, offset in searcher.leaf_searchers():
            segment = subsearcher.reader()
            if (field, text) not in segment:
                continue
            postings = leaf_postings(segment, field, text)
            if postings is None:
                return None
            norms = self._length_norms(segment, offset, field, avgfl, b, k1)
            for ids, weights, _ in posting_blocks(postings, values=False):
                for docnum, tf in zip(ids, weights, strict=True):
                    found[offset + docnum] = idf * ((tf * k1p1) / (tf + norms[docnum]))
        return boosted(found, term.boost)

    def _phrase_scores(self, phrase: wq.Phrase) -> Scores | None:
        """A phrase's matches and scores as Whoosh finds and scores them (the words at
        consecutive positions; the score the sum of the words' scores, added up as
        Whoosh's tree of matchers adds them), but reading positions only for documents
        that have every word, found with set operations. None for what this does not
        read."""
        searcher = self.searcher
        field = phrase.fieldname
        bm25 = self._bm25(field)
        if phrase.slop != 1 or len(phrase.words) < 2 or bm25 is None:
            return None
        avgfl, b, k1 = bm25
        schema_field = searcher.schema[field]
        if type(schema_field.format) is not Positions:
            return None
        try:
            texts = [schema_field.to_bytes(word) for word in phrase.words]
        except ValueError:
            return {}
        reader = searcher.reader()
        if any((field, text) not in reader for text in texts):
            return {}
        idfs = [searcher.idf(field, text) for text in texts]
        k1p1 = k1 + 1
        found: Scores = {}
        for subsearcher, offset in searcher.leaf_searchers():
            segment = subsearcher.reader()
            if any((field, text) not in segment for text in texts):
                continue
            read = self._phrase_postings(segment, field, texts)
            if read is None:
                return None
            postings, candidates = read
            if not candidates:
                continue
            norms = self._length_norms(segment, offset, field, avgfl, b, k1)
            decode = schema_field.format.decode_positions
            for docnum in candidates:
                starts = set(decode(postings[0][docnum][1]))
                for k in range(1, len(texts)):
                    if not starts:
                        break
                    starts &= {position - k for position in decode(postings[k][docnum][1])}
                if starts:
                    norm = norms[docnum]
                    scores = [
                        idf * ((tf * k1p1) / (tf + norm))
                        for idf, (tf, _) in zip(idfs, (entries[docnum] for entries in postings), strict=True)
                    ]
                    found[offset + docnum] = tree_sum(scores)
        return boosted(found, phrase.boost)

    @staticmethod
    def _phrase_postings(
        segment: IndexReader, field: str, texts: list[bytes]
    ) -> tuple[list[dict[int, tuple[float, bytes]]], set[int]] | None:
        """For each word of a phrase, {document: (weight, positions)}, and the segment's
        documents that have every word (the candidates); None where the postings are
        not the kind the fast path reads. Words are read in order of rarity: the rarest
        word's documents are the only candidates, and blocks of the others without a
        candidate are skipped."""
        order = sorted(range(len(texts)), key=lambda k: segment.doc_frequency(field, texts[k]))
        postings: list[dict[int, tuple[float, bytes]]] = [{} for _ in texts]
        candidates: set[int] | None = None
        for k in order:
            leaf = leaf_postings(segment, field, texts[k])
            if leaf is None:
                return None
            wanted = None if candidates is None else sorted(candidates)
            entries = postings[k]
            for ids, weights, values in posting_blocks(leaf, wanted):
                block = dict(zip(ids, zip(weights, values, strict=True), strict=True))
                for docnum in block.keys() if candidates is None else candidates.intersection(ids):
                    entries[docnum] = block[docnum]
            candidates = set(entries)
            if not candidates:
                break
        return postings, candidates or set()

    def _length_norms(
        self, segment: IndexReader, offset: int, field: str, avgfl: float, b: float, k1: float
    ) -> list[float]:
        """Per document of a segment, BM25's length part: K1 * ((1 - B) + B * length / avgfl)."""
        key = (offset, field)
        if key not in self._norms:
            raw = length_bytes(segment, field)
            self._norms[key] = [k1 * ((1 - b) + b * byte_to_length(byte) / avgfl) for byte in raw]
        return self._norms[key]
