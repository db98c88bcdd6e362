"""The Whoosh index behind a small interface on plain data.

Layout on disk: SEARCH_INDEX_DIR/CURRENT names the live generation directory
(`gen-...`). A rebuild writes a new generation beside it and swaps CURRENT atomically,
so searches keep working during a rebuild and every process notices the swap.

Speed comes from what surrounds the query (see the benchmark issue): one searcher per
process, reopened only when the index changed, and kept with what was worked out from it
(_SearcherCache: scores of words and phrases, facet value bitmaps, snippets, spelling
words); scores read a block of postings at a time, with the same BM25F numbers as
Whoosh's own scorer (tests/test_search_engine.py compares them); snippets only for the
page shown, from the first matches; spelling work only when a word is unknown.
"""

from __future__ import annotations

import bisect
import fcntl
import heapq
import html
import itertools
import logging
import os
import re
import shutil
import threading
import time
import uuid
from array import array
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Generic, TypeVar

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import STOP_WORDS
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.formats import Positions
from whoosh.index import LockError
from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.support.levenshtein import damerau_levenshtein
from whoosh.util.numeric import byte_to_length

from .analysis import TOKEN_RE, AnalysedText, text_analyzer
from .documents import FACETS, CaseDoc, CheckReport, FacetCount, Hit, SearchPage, SearchRequest
from .query import QueryBuilder, parse_user_query, replace_words
from .synonyms import SYNONYMS_FILE, SynonymTable, load_table

log = logging.getLogger(__name__)

CURRENT_FILE = "CURRENT"
WRITE_LOCK_TIMEOUT_S = 30.0
WRITE_LIMIT_MB = 128  # Whoosh's default
BULK_WRITE_DOCS, BULK_WRITE_LIMIT_MB = 1000, 512
# The most changes one writer should take (see SearchIndex.writing): callers with more
# split them into batches of this size, each its own segment.
MAX_BATCH_DOCS = 2000
MAX_FACET_VALUES = 25
MIN_SPELLCHECK_CHARS = 4
SPELLING_CANDIDATES = 8  # suggestions tried, in order, until one is in a visible case
SPELLING_ALPHABET = "abcdefghijklmnopqrstuvwxyz"  # letters an edit may bring in (and the word's own)
SPELL_MIN_CHARS = 3  # shorter words are never corrected nor suggested
# (document, score) pairs of whole-word results kept per searcher (see _SearcherCache.scores):
# 12 bytes each, so about 18 MB at most.
SCORE_CACHE_ENTRIES = 1_500_000
PHRASE_DOCS_KEPT = 256  # phrases whose matching documents are kept, for marking snippets
SNIPPETS_KEPT = 2000  # highlighted snippets of (document, query words), about 1 KB each
BITMAPS_KEPT = 256  # bitmaps of queries' matches (1.25 KB each at 10,000 cases)
WORD_CACHE_SIZE = 100_000  # words -> index terms, for snippets
# A snippet's fragments (see make_snippet): context around matches, and length.
SNIPPET_CONTEXT, SNIPPET_CHARS = 60, 220
WORD_CHAR = re.compile(r"\w")
# Matches considered for a snippet's two fragments: the first ones in the text. A common
# word matches hundreds of times in a long case, and fragments from the first few read
# as well as any (Whoosh also keeps the first of equally good fragments).
SNIPPET_MATCHES = 12

# facet name -> (key field, stored field holding its display spelling)
FACET_FIELDS = {
    "seat": ("seat_key", "seat"),
    "setting": ("setting_key", "setting"),
    "dimension": ("dimension_key", "dimensions"),
    "tag": ("tag_key", "tags"),
    "status": ("status", "status"),
}


def make_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        slug=ID(stored=True),
        fingerprint=STORED(),
        status=ID(stored=True),
        title=AnalysedText(stored=True),
        seat=AnalysedText(stored=True),
        setting=AnalysedText(stored=True),
        summary=AnalysedText(stored=True),
        tags=AnalysedText(stored=True),
        dimensions=AnalysedText(stored=True),
        questions=AnalysedText(),
        body=AnalysedText(stored=True),
        # The words as written, each once (see _spelling_words), for "Did you mean": only
        # which documents have a word is ever asked, so no positions. Scorable all the
        # same: Whoosh looks up a field length for every posting it writes, and for a
        # field without lengths each lookup is a file-system stat (a seventh of the
        # indexing time, as this field holds about half of all postings).
        spell=KEYWORD(scorable=True),
        # Exact, case-folded values for facets and filters.
        seat_key=ID(),
        setting_key=ID(),
        tag_key=KEYWORD(commas=True),
        dimension_key=KEYWORD(commas=True),
        updated=DATETIME(sortable=True),
        title_sort=ID(sortable=True),
    )


class SearchUnavailable(RuntimeError):
    """The index cannot be opened; the caller decides whether to rebuild."""


def _fold(value: str) -> str:
    return " ".join(value.split()).casefold()


def _to_fields(doc: CaseDoc) -> dict[str, object]:
    return {
        "id": str(doc.id),
        "slug": doc.slug,
        "fingerprint": doc.fingerprint,
        "status": doc.status,
        "title": doc.title,
        "seat": doc.seat,
        "setting": doc.setting,
        "summary": doc.summary,
        "tags": "\n".join(doc.tags),
        "dimensions": "\n".join(doc.dimensions),
        "questions": "\n".join(doc.questions),
        "body": doc.body,
        "spell": _spelling_words([doc.title, doc.seat, doc.setting, doc.summary, *doc.tags, *doc.questions, doc.body]),
        "seat_key": _fold(doc.seat),
        "setting_key": _fold(doc.setting),
        "tag_key": ",".join(_fold(t).replace(",", " ") for t in doc.tags),
        "dimension_key": ",".join(_fold(d).replace(",", " ") for d in doc.dimensions),
        "updated": datetime.combine(doc.updated, datetime.min.time()) if doc.updated else datetime(1970, 1, 1),
        "title_sort": _fold(doc.title),
    }


def _spelling_words(texts: list[str]) -> str:
    """Each word of texts once, lower-cased, of three letters or more and not a stop
    word, separated by spaces as the spelling field (a KEYWORD field) splits them: the
    field needs no more, and a case's text analysed a second time for it cost about a
    sixth of its indexing time."""
    words = dict.fromkeys(word.lower() for text in texts for word in TOKEN_RE.findall(text))
    return " ".join(word for word in words if len(word) >= SPELL_MIN_CHARS and word not in STOP_WORDS)


class IndexBatch:
    """The changes of one writer batch; see SearchIndex.writing()."""

    def __init__(self, writer: object) -> None:
        self._writer = writer

    def upsert(self, doc: CaseDoc) -> None:
        self._writer.update_document(**_to_fields(doc))  # type: ignore[attr-defined]

    def delete(self, case_id: int) -> None:
        self._writer.delete_by_term("id", str(case_id))  # type: ignore[attr-defined]


def _tree_sum(values: list[float]) -> float:
    """values added up in the order of Whoosh's make_binary_tree (the same float)."""
    if len(values) == 1:
        return values[0]
    half = len(values) // 2
    return _tree_sum(values[:half]) + _tree_sum(values[half:])


QueryKey = tuple[object, ...]
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Kept(Generic[K, V]):
    """A map that forgets its least recently used entries once their total size passes
    limit (size weighs an entry: 1 each unless given)."""

    def __init__(self, limit: int, size: Callable[[V], int] = lambda _value: 1) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._limit, self._size, self._total = limit, size, 0

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: K, value: V) -> V:
        old = self._items.pop(key, None)
        if old is not None:
            self._total -= self._size(old)
        self._items[key] = value
        self._total += self._size(value)
        while self._total > self._limit and len(self._items) > 1:
            _, dropped = self._items.popitem(last=False)
            self._total -= self._size(dropped)
        return value


def query_key(query: wq.Query) -> QueryKey:
    """A dictionary key for a query. Not the query itself: Whoosh hashes a compound query
    as the XOR of its parts' hashes, so the Or of one word over an even number of fields
    hashes the same for every word, and a cache keyed by queries degrades into a list."""
    if isinstance(query, wq.CompoundQuery):
        parts = tuple(query_key(sub) for sub in query.subqueries)
        options = (getattr(query, "scale", None), getattr(query, "minmatch", None))
        return (type(query).__name__, query.boost, options, parts)
    if isinstance(query, wq.BinaryQuery):
        return (type(query).__name__, query.boost, query_key(query.a), query_key(query.b))
    return (type(query).__name__, repr(query), query.boost)


def _boosted(scores: dict[int, float], boost: float) -> dict[int, float]:
    return scores if boost == 1.0 else {docnum: score * boost for docnum, score in scores.items()}


def _bitmap(docs: Iterable[int]) -> int:
    """A set of document numbers as the bits of an int: facet counts become an `&` and a
    bit_count (in C) instead of a set intersection per facet value (in Python)."""
    bits = bytearray()
    for docnum in docs:
        byte = docnum >> 3
        if byte >= len(bits):
            bits.extend(bytes(byte + 1 - len(bits)))
        bits[byte] |= 1 << (docnum & 7)
    return int.from_bytes(bits, "little")


def _one_edit_away(word: str) -> set[str]:
    """Every string one Damerau-Levenshtein edit from word that keeps its first letter
    (as the corrector's prefix rule says): deletes, swaps of neighbours, changes, inserts."""
    letters = set(SPELLING_ALPHABET) | set(word)
    splits = [(word[:i], word[i:]) for i in range(1, len(word) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + c + b[1:] for a, b in splits if b for c in letters}
    edits |= {a + c + b for a, b in splits for c in letters}
    edits.discard(word)
    return edits


def make_snippet(text: str, matches: list[tuple[int, int]]) -> str:
    """HTML of up to two fragments of text around matches (the spans of matching words,
    in order), each match marked, the rest escaped, joined with " … ".

    As Whoosh's ContextFragmenter and BasicFragmentScorer choose them (a fragment starts
    up to SNIPPET_CONTEXT characters before a match, takes in the matches that follow
    within SNIPPET_CONTEXT of each other, ends SNIPPET_CONTEXT after its last one and is
    at most SNIPPET_CHARS long; the two with most matches of most different words are
    shown, in text order), but from the first SNIPPET_MATCHES matches only and without a
    token object per word: Whoosh's highlighter was a quarter of a search's time."""
    if not matches:
        return ""
    fragments = []
    i = 0
    while i < len(matches):
        start = _word_start(text, max(0, matches[i][0] - SNIPPET_CONTEXT), matches[i][0])
        limit = start + SNIPPET_CHARS
        j = i
        while j + 1 < len(matches) and matches[j + 1][1] <= limit:
            if matches[j + 1][0] - matches[j][1] > SNIPPET_CONTEXT:
                break
            j += 1
        end = _word_end(text, min(matches[j][1] + SNIPPET_CONTEXT, max(limit, matches[j][1])), matches[j][1])
        inside = matches[i : j + 1]
        distinct = len({text[a:b].casefold() for a, b in inside})
        fragments.append((len(inside) * distinct, -start, start, end, inside))
        i = j + 1
    best = sorted(heapq.nlargest(2, fragments), key=lambda fragment: fragment[2])
    return " … ".join(_marked(text, start, end, inside) for _, _, start, end, inside in best)


def _word_start(text: str, position: int, match_start: int) -> int:
    """position, moved forward past a word it would cut and what is not a word after it
    (never past the match)."""
    if position > 0 and text[position - 1].isalnum():
        while position < match_start and text[position].isalnum():
            position += 1
    while position < match_start and not text[position].isalnum():
        position += 1
    return position


def _word_end(text: str, position: int, match_end: int) -> int:
    """position (at most len(text)), moved back before a word it would cut (never before
    the match)."""
    position = min(position, len(text))
    if position == len(text) or not text[position].isalnum():
        return position
    while position > match_end and text[position - 1].isalnum():
        position -= 1
    return position


def _marked(text: str, start: int, end: int, matches: list[tuple[int, int]]) -> str:
    """text[start:end], escaped, with <mark> around the matches (neighbouring matches with
    only spaces or punctuation between them share one)."""
    merged: list[list[int]] = []
    for a, b in matches:
        if merged and not WORD_CHAR.search(text, merged[-1][1], a):
            merged[-1][1] = b
        else:
            merged.append([a, b])
    parts, done = [], start
    for a, b in merged:
        parts += (html.escape(text[done:a]), "<mark>", html.escape(text[a:b]), "</mark>")
        done = b
    parts.append(html.escape(text[done:end]))
    return "".join(parts).strip()


def _top_documents(scores: dict[int, float], matched: frozenset[int], count: int) -> list[int]:
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


class _SearcherCache:
    """Document sets that stay true as long as the searcher they were read from."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        reader = searcher.reader()
        self.live: frozenset[int] = frozenset(reader.all_doc_ids())
        self._statuses: dict[str, frozenset[int]] = {}
        self._facets: dict[str, dict[str, frozenset[int]]] = {}
        self._labels: dict[str, dict[str, str]] = {}
        # (document, score) pairs of compound queries, weighed by their number.
        self._scores: _Kept[QueryKey, tuple[array, array]] = _Kept(SCORE_CACHE_ENTRIES, lambda pair: len(pair[0]))
        self._norms: dict[tuple[int, str], list[float]] = {}
        self._phrase_docs: _Kept[QueryKey, frozenset[int]] = _Kept(PHRASE_DOCS_KEPT)
        self._facet_bits: dict[str, dict[str, int]] = {}
        self._spelling_words: dict[str, frozenset[str]] = {}
        self.snippets: _Kept[tuple[int, frozenset[str], frozenset[str]], str] = _Kept(SNIPPETS_KEPT)
        self._status_bits: dict[tuple[str, ...], int] = {}
        self._query_bits: _Kept[QueryKey, int] = _Kept(BITMAPS_KEPT)

    def phrase_docs(self, phrase: wq.Phrase) -> frozenset[int] | None:
        """The documents a phrase matched when it was scored, if that is remembered."""
        return self._phrase_docs.get(query_key(phrase))

    def _docs(self, field: str, term: str) -> frozenset[int]:
        reader = self.searcher.reader()
        if (field, term) not in reader:
            return frozenset()
        return frozenset(reader.postings(field, term).all_ids()) & self.live

    def has_any(self, field: str, term: str, docs: frozenset[int]) -> bool:
        """Whether any of docs contains term: stops at the first one (no set is built)."""
        reader = self.searcher.reader()
        if (field, term) not in reader:
            return False
        return any(docnum in docs for docnum in reader.postings(field, term).all_ids())

    def scores(self, query: wq.Query) -> dict[int, float]:
        """{document number: score} for every document that matches query, scored as
        Whoosh scores it (BM25F; an Or adds the scores of its parts that match, an And
        adds its parts' scores, an AndNot keeps its first part's). Whoosh walks a tree
        of matchers document by document in Python for every search; here each Or (a
        word or phrase over all fields, or a word and its synonyms), And and AndNot is
        worked out once per searcher and kept, as most searches share their words."""
        if not isinstance(query, (wq.Or, wq.And, wq.AndNot)):
            return self._compute(query)
        key = query_key(query)
        cached = self._scores.get(key)
        if cached is not None:
            return dict(zip(*cached, strict=True))
        result = self._compute(query)
        self._scores.put(key, (array("i", result.keys()), array("d", result.values())))
        return result

    def _compute(self, query: wq.Query) -> dict[int, float]:
        if query is wq.NullQuery:
            return {}
        kind = type(query)
        plain = query.boost == 1.0 and not getattr(query, "scale", None) and not getattr(query, "minmatch", 0)
        if kind in (wq.Or, wq.And) and plain and query.subqueries:
            parts = [self.scores(sub) for sub in query.subqueries]
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
        if kind is wq.AndNot and query.a.boost == 1.0:
            excluded = self.scores(query.b)
            return {docnum: score for docnum, score in self.scores(query.a).items() if docnum not in excluded}
        if kind is wq.Term:
            found = self._term_scores(query)
            if found is not None:
                return found
        if kind is wq.Phrase:
            found = self._phrase_scores(query)
            if found is not None:
                self._phrase_docs.put(query_key(query), frozenset(found))
                return found
        # A phrase or prefix (or anything else): Whoosh's own matcher and scores.
        matcher = query.matcher(self.searcher, self.searcher.context())
        found = {}
        while matcher.is_active():
            found[matcher.id()] = matcher.score()
            matcher.next()
        return found

    def _term_scores(self, term: wq.Term) -> dict[int, float] | None:
        """A term's BM25F scores, the very numbers Whoosh's scorer gives (the same
        formula, statistics and operation order), read a block of postings at a time,
        with field lengths read once per segment instead of once per posting (a file
        read each, as the index is not mapped): about 2.5 times faster. None where the
        postings or weighting are not the kind this reads (then Whoosh's matcher does)."""
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
        found: dict[int, float] = {}
        try:
            for subsearcher, offset in searcher.leaf_searchers():
                reader = subsearcher.reader()
                if (field, text) not in reader:
                    continue
                norms = self._length_norms(reader, offset, field, avgfl, b, k1)
                for ids, weights, _ in self._blocks(reader, field, text, values=False):
                    for docnum, tf in zip(ids, weights, strict=True):
                        found[offset + docnum] = idf * ((tf * k1p1) / (tf + norms[docnum]))
        except AttributeError:  # not the Whoosh internals this was written against
            return None
        return _boosted(found, term.boost)

    def _bm25(self, field: str) -> tuple[float, float, float] | None:
        """BM25F's average field length, B and K1 for field, or None where the weighting
        or field is not what this reads (then Whoosh's matcher scores)."""
        searcher = self.searcher
        weighting = searcher.weighting
        if type(weighting) is not BM25F or field not in searcher.schema or not searcher.schema[field].scorable:
            return None
        avgfl = searcher.avg_field_length(field) or 1
        return avgfl, weighting._field_B.get(field, weighting.B), weighting.K1

    def _phrase_scores(self, phrase: wq.Phrase) -> dict[int, float] | None:
        """A phrase's matches and scores as Whoosh finds and scores them (the words at
        consecutive positions; the score the sum of the words' scores, added up as
        Whoosh's tree of matchers adds them), but reading positions only for documents
        that have every word, found with set operations: about three times faster.
        None for what this does not read (then Whoosh's matcher does)."""
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
        decode = schema_field.format.decode_positions
        found: dict[int, float] = {}
        try:
            for subsearcher, offset in searcher.leaf_searchers():
                segment = subsearcher.reader()
                if any((field, text) not in segment for text in texts):
                    continue
                norms = self._length_norms(segment, offset, field, avgfl, b, k1)
                # Words in order of rarity: the rarest word's documents are the only
                # candidates, and blocks of the others without a candidate are skipped.
                order = sorted(range(len(texts)), key=lambda k: segment.doc_frequency(field, texts[k]))
                postings: list[dict[int, tuple[float, bytes]]] = [{} for _ in texts]
                candidates: set[int] | None = None
                for k in order:
                    wanted = None if candidates is None else sorted(candidates)
                    entries = postings[k]
                    for ids, weights, values in self._blocks(segment, field, texts[k], wanted):
                        block = dict(zip(ids, zip(weights, values, strict=True), strict=True))
                        for docnum in block.keys() if candidates is None else candidates.intersection(ids):
                            entries[docnum] = block[docnum]
                    candidates = set(entries)
                    if not candidates:
                        break
                if not candidates:
                    continue
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
                        found[offset + docnum] = _tree_sum(scores)
        except AttributeError:  # not the Whoosh internals this was written against
            return None
        return _boosted(found, phrase.boost)

    @staticmethod
    def _blocks(
        segment: object, field: str, text: bytes, wanted: list[int] | None = None, *, values: bool = True
    ) -> Iterator[tuple[tuple, object, tuple]]:
        """(ids, weights, values) of each block of a term's postings in a segment, or
        only of the blocks that may hold a document of `wanted` (sorted); deleted
        documents included (the caller's visible set drops them). Without values (the
        positions, unpickled per block) when values is False: then () for them."""
        postings = segment.postings(field, text)  # type: ignore[attr-defined]
        postings = getattr(postings, "child", postings)
        if type(postings) is not W3LeafMatcher:
            raise AttributeError("not a whoosh3 posting list")
        next_wanted = 0
        while postings.is_active():
            if wanted is not None:
                if next_wanted == len(wanted):
                    return
                if wanted[next_wanted] > postings._maxid:  # known from the block header
                    postings._next_block()
                    continue
                next_wanted = bisect.bisect_right(wanted, postings._maxid)
            postings.id(), postings.weight()  # loads the block's ids and weights
            if values:
                postings.value()
            yield postings._ids, postings._weights, postings._values if values else ()
            postings._next_block()

    def _length_norms(self, reader: object, offset: int, field: str, avgfl: float, b: float, k1: float) -> list[float]:
        """Per document of a segment, BM25's length part: K1 * ((1 - B) + B * length / avgfl)."""
        key = (offset, field)
        if key not in self._norms:
            column = reader._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)  # type: ignore[attr-defined]
            raw = column._dbfile.get(column._basepos, column._fixedlen * column._count) if column else b""
            self._norms[key] = [k1 * ((1 - b) + b * byte_to_length(byte) / avgfl) for byte in raw]
        return self._norms[key]

    def status_docs(self, statuses: Iterable[str]) -> frozenset[int]:
        docs: frozenset[int] = frozenset()
        for status in statuses:
            if status not in self._statuses:
                self._statuses[status] = self._docs("status", status)
            docs |= self._statuses[status]
        return docs

    def facet_sets(self, name: str) -> dict[str, frozenset[int]]:
        if name not in self._facets:
            field, stored = FACET_FIELDS[name]
            reader = self.searcher.reader()
            sets: dict[str, frozenset[int]] = {}
            labels: dict[str, str] = {}
            for key in reader.field_terms(field):
                docs = self._docs(field, key)
                if not docs:
                    continue
                sets[key] = docs
                # The display spelling, from one document that has this value.
                values = self.searcher.stored_fields(next(iter(docs))).get(stored, "").split("\n")
                labels[key] = next((v for v in values if _fold(v).replace(",", " ") == key), key)
            self._facets[name], self._labels[name] = sets, labels
        return self._facets[name]

    def facet_bits(self, name: str) -> dict[str, int]:
        """facet_sets as bitmaps, for counting."""
        if name not in self._facet_bits:
            self._facet_bits[name] = {key: _bitmap(docs) for key, docs in self.facet_sets(name).items()}
        return self._facet_bits[name]

    def spelling_words(self, first_letter: str) -> frozenset[str]:
        """The spelling field's words that start with first_letter, read once per searcher."""
        found = self._spelling_words.get(first_letter)
        if found is None:
            reader = self.searcher.reader()
            from_bytes = self.searcher.schema["spell"].from_bytes
            found = frozenset(from_bytes(text) for text in reader.expand_prefix("spell", first_letter))
            self._spelling_words[first_letter] = found
        return found

    def status_bits(self, statuses: Iterable[str]) -> int:
        key = tuple(sorted(statuses))
        if key not in self._status_bits:
            self._status_bits[key] = _bitmap(self.status_docs(key))
        return self._status_bits[key]

    def query_bits(self, query: wq.Query, scores: dict[int, float]) -> int:
        """The bitmap of the documents matching query (scores, from self.scores(query))."""
        key = query_key(query)
        found = self._query_bits.get(key)
        return found if found is not None else self._query_bits.put(key, _bitmap(scores))

    def label(self, name: str, key: str) -> str:
        return self._labels[name].get(key, key)


class SearchIndex:
    """One per process. Thread-safe; every operation holds the index's lock."""

    def __init__(self, directory: str | os.PathLike[str], synonyms_file: Path = SYNONYMS_FILE) -> None:
        self.directory = Path(directory)
        self.synonyms_file = synonyms_file
        self._lock = threading.RLock()
        self._generation: str | None = None
        self._index: whoosh_index.Index | None = None
        self._cache: _SearcherCache | None = None
        self._analyzer = text_analyzer()
        self._word_terms: dict[str, frozenset[str]] = {}
        self._word_patterns: dict[frozenset[str], re.Pattern[str]] = {}

    # -- text analysis -------------------------------------------------------------------
    def analyse(self, text: str) -> list[str]:
        return [token.text for token in self._analyzer(text)]

    def synonyms(self) -> SynonymTable | None:
        try:
            mtime = self.synonyms_file.stat().st_mtime
        except FileNotFoundError:
            return None
        return load_table(self.synonyms_file, mtime, self.analyse)

    # -- generations -----------------------------------------------------------------------
    def _read_current(self) -> str | None:
        try:
            name = (self.directory / CURRENT_FILE).read_text("utf-8").strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return name or None

    def _write_current(self, name: str) -> None:
        tmp = self.directory / f".{CURRENT_FILE}.{uuid.uuid4().hex}"
        tmp.write_text(name + "\n", "utf-8")
        os.replace(tmp, self.directory / CURRENT_FILE)

    def _open_index(self) -> whoosh_index.Index:
        """The live index, reopened when another process swapped generations."""
        name = self._read_current()
        if name is None:
            raise SearchUnavailable(f"no search index in {self.directory}")
        if self._index is None or name != self._generation:
            try:
                # Read with plain file reads, not mmap: a mapped index counts in full
                # in each worker's resident memory (about 370 MB instead of 70 MB with
                # 10,000 cases, for searches about 2 ms slower; see the benchmark).
                index = FileStorage(str(self.directory / name), supports_mmap=False).open_index()
            except Exception as exc:  # whoosh raises many kinds for a damaged directory
                raise SearchUnavailable(f"search index {self.directory / name} unreadable: {exc}") from exc
            self._close_searcher()
            self._index, self._generation = index, name
        return self._index

    def _close_searcher(self) -> None:
        if self._cache is not None:
            self._cache.searcher.close()
            self._cache = None

    @contextmanager
    def _searching(self) -> Iterator[_SearcherCache]:
        with self._lock:
            index = self._open_index()
            if self._cache is None:
                try:
                    self._cache = _SearcherCache(index.searcher())
                except Exception as exc:  # a damaged segment shows up here, not in open_dir
                    self._index = None
                    raise SearchUnavailable(f"search index {self.directory} unreadable: {exc}") from exc
            elif not self._cache.searcher.up_to_date():
                # A new searcher only when the index changed, not per request. Not
                # Searcher.refresh(): in whoosh-reloaded its reader reuse also carries over
                # segments that a merge replaced, and closing the old searcher would close
                # readers the new one shares.
                self._cache.searcher.close()
                self._cache = None
                try:
                    self._cache = _SearcherCache(index.searcher())
                except Exception as exc:
                    self._index = None
                    raise SearchUnavailable(f"search index {self.directory} unreadable: {exc}") from exc
            yield self._cache

    def close(self) -> None:
        with self._lock:
            self._close_searcher()
            self._index = None
            self._generation = None

    def _new_generation_dir(self) -> str:
        name = f"gen-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        (self.directory / name).mkdir(parents=True)
        return name

    # -- writing -----------------------------------------------------------------------------
    @contextmanager
    def writing(self, expected: int = 1) -> Iterator[IndexBatch]:
        """One writer, one commit, for a batch of about `expected` changes.

        Blocks for Whoosh's write lock (another process may hold it) for up to
        WRITE_LOCK_TIMEOUT_S, then raises LockError. Whatever the caller reads *inside*
        the block is read while holding the lock, so the last writer always writes the
        newest state. Nothing is committed if the block raises.
        """
        with self._lock:
            index = self._open_index()
            # A bulk batch (an import, in batches of MAX_BATCH_DOCS) keeps its postings in
            # memory until the commit sorts them, and becomes a segment of its own without
            # merging the others: 10,000 cases index at about 170 a second instead of 105,
            # where one writer for all of them spilled sorted runs to disk (pickling every
            # posting) and merged them back. Several processes (procs=2) were faster still,
            # but a killed import left the worker processes holding the index lock.
            bulk = expected >= BULK_WRITE_DOCS
            limitmb = BULK_WRITE_LIMIT_MB if bulk else WRITE_LIMIT_MB
            writer = index.writer(timeout=WRITE_LOCK_TIMEOUT_S, delay=0.02, limitmb=limitmb)
            batch = IndexBatch(writer)
            try:
                yield batch
            except BaseException:
                writer.cancel()
                raise
            # Small commits merge small segments as Whoosh's default policy says.
            writer.commit(merge=not bulk)

    def apply(self, upserts: Iterable[CaseDoc], deletes: Iterable[int]) -> None:
        with self.writing() as batch:
            for case_id in deletes:
                batch.delete(case_id)
            for doc in upserts:
                batch.upsert(doc)

    def upsert(self, docs: Iterable[CaseDoc]) -> None:
        self.apply(docs, ())

    def delete(self, ids: Iterable[int]) -> None:
        self.apply((), ids)

    @contextmanager
    def _rebuild_lock(self) -> Iterator[None]:
        """One rebuild at a time across processes (gunicorn workers start together)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".rebuild.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def is_usable(self) -> bool:
        try:
            self.doc_count()
        except SearchUnavailable:
            return False
        return True

    def rebuild(self, docs: Iterable[CaseDoc], *, only_if_unusable: bool = False) -> int | None:
        """Build a fresh generation beside the live one, then swap it in. Returns the count,
        or None when only_if_unusable and another process has meanwhile made it usable."""
        with self._lock, self._rebuild_lock():
            if only_if_unusable and self.is_usable():
                return None
            name = self._new_generation_dir()
            index = whoosh_index.create_in(str(self.directory / name), make_schema())
            writer = index.writer(limitmb=256)
            count = 0
            try:
                for doc in docs:
                    writer.add_document(**_to_fields(doc))
                    count += 1
            except BaseException:
                writer.cancel()
                shutil.rmtree(self.directory / name, ignore_errors=True)
                raise
            writer.commit()
            old = self._read_current()
            self._write_current(name)
            self.close()
            self._remove_old_generations(keep={name, old} if old else {name})
            return count

    def _remove_old_generations(self, keep: set[str]) -> None:
        # The generation just replaced is kept one round: another process may still read it.
        for child in self.directory.glob("gen-*"):
            if child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)

    # -- reading -----------------------------------------------------------------------------
    def fingerprints(self) -> dict[int, str]:
        with self._searching() as cache:
            return {int(fields["id"]): fields["fingerprint"] for fields in cache.searcher.all_stored_fields()}

    def check(self, expected: dict[int, str]) -> CheckReport:
        """Compare the index with the documents it should hold ({id: fingerprint})."""
        actual = self.fingerprints()
        return CheckReport(
            missing=sorted(set(expected) - set(actual)),
            stale=sorted(i for i in set(expected) & set(actual) if expected[i] != actual[i]),
            extra=sorted(set(actual) - set(expected)),
        )

    def doc_count(self) -> int:
        with self._searching() as cache:
            return cache.searcher.doc_count()

    def search(self, request: SearchRequest) -> SearchPage:
        """Ranked hits, facet counts and spelling help for one results page."""
        with self._searching() as cache:
            page = self._search(cache, request, request.text)
            if request.exact or not request.text.strip():
                return page
            corrected = self._spelling_correction(cache, request)
            if corrected is None:
                return page
            if page.total == 0:
                # Nothing as typed: show the correction's results at once, if it has any.
                fixed = self._search(cache, request, corrected)
                return replace(fixed, corrected_query=corrected) if fixed.total else page
            return replace(page, suggestion=corrected)

    def _search(self, cache: _SearcherCache, request: SearchRequest, text: str) -> SearchPage:
        page_number = max(1, request.page)
        parsed = parse_user_query(text)
        visible = cache.status_docs(request.statuses)
        if parsed.is_empty and text.strip():
            # Typed something, but no word in it ("*", "--"): nothing matches.
            return SearchPage([], 0, page_number, request.per_page, {name: [] for name in FACETS})
        if parsed.is_empty:
            matched_all = visible  # browsing with filters only
            query: wq.Query = wq.Every()
            scores = {}
        else:
            query = QueryBuilder(self.analyse, self.synonyms()).build(parsed)
            scores = cache.scores(query)
            matched_all = visible.intersection(scores)
        # Each selected filter narrows the hits; each facet counts among the hits that
        # match every *other* filter, so one can switch a seat without clearing it first.
        selected: dict[str, tuple[str, frozenset[int]]] = {}
        for name, value in request.filters.items():
            if name in FACET_FIELDS and value:
                key = _fold(value)
                selected[name] = (key, cache.facet_sets(name).get(key, frozenset()))
        matched = matched_all
        for _, docs in selected.values():
            matched = matched & docs
        facets = {}
        matched_all_bits = cache.status_bits(request.statuses)
        if not parsed.is_empty:
            matched_all_bits &= cache.query_bits(query, scores)
        for name in FACETS:
            scope = matched_all_bits
            for other, (key, _) in selected.items():
                if other != name:
                    scope &= cache.facet_bits(other).get(key, 0)
            facets[name] = self._facet_counts(cache, name, scope, selected.get(name, (None, None))[0])
        hits = self._ranked_page(cache, query, scores, matched, request.sort, page_number, request.per_page)
        return SearchPage(hits, len(matched), page_number, request.per_page, facets)

    def _facet_counts(self, cache: _SearcherCache, name: str, scope: int, chosen: str | None) -> list[FacetCount]:
        """Counts per value of a facet among scope (a bitmap of documents)."""
        counts = []
        for key, bits in cache.facet_bits(name).items():
            count = (scope & bits).bit_count()
            if count or key == chosen:
                counts.append(FacetCount(cache.label(name, key), count, key == chosen))
        counts.sort(key=lambda f: (not f.is_selected, -f.count, f.value.casefold()))
        return counts[:MAX_FACET_VALUES]

    def _ranked_page(
        self,
        cache: _SearcherCache,
        query: wq.Query,
        scores: dict[int, float],
        matched: frozenset[int],
        sort: str,
        page: int,
        per_page: int,
    ) -> list[Hit]:
        if not matched:
            return []
        searcher = cache.searcher
        start = (page - 1) * per_page
        if sort == "relevance" and not isinstance(query, wq.Every):
            # Highest score first, then the lower document number, as Whoosh orders them.
            top = _top_documents(scores, matched, page * per_page)
            ranked = [(docnum, scores[docnum]) for docnum in top[start:]]
        else:
            sortedby = {"newest": "updated", "title": "title_sort"}.get(sort)
            results = searcher.search(
                query, filter=set(matched), limit=page * per_page, sortedby=sortedby, reverse=sort == "newest"
            )
            ranked = [(hit.docnum, hit.score or 0.0) for hit in results[start : page * per_page]]
        words = {}
        if not isinstance(query, wq.Every):
            docnums = sorted(docnum for docnum, _ in ranked)
            words = {field: self._highlight_words(cache, query, field, docnums) for field in ("body", "summary")}
        hits = []
        for docnum, score in ranked:
            stored = searcher.stored_fields(docnum)
            snippet = ""
            if words:
                # Only the hits on this page are highlighted: the costly part of a search,
                # so a snippet is kept for the searcher's life (popular searches repeat).
                key = (docnum, words["body"], words["summary"])
                snippet = cache.snippets.get(key)
                if snippet is None:
                    snippet = self._snippet(stored.get("body", ""), words["body"]) or self._snippet(
                        stored.get("summary", ""), words["summary"]
                    )
                    cache.snippets.put(key, snippet)
            hits.append(Hit(id=int(stored["id"]), score=score, snippet=snippet))
        return hits

    @staticmethod
    def _highlight_words(cache: _SearcherCache, query: wq.Query, field: str, docnums: list[int]) -> frozenset[str]:
        """The query's terms in field that a snippet marks: every term (a hit's text has
        it only where it matched), but a phrase's words only if the phrase matches one of
        the hits, as Whoosh marks the terms that matched."""
        searcher = cache.searcher
        reader = searcher.reader()
        from_bytes = searcher.schema[field].from_bytes
        words: set[str] = set()
        for leaf in query.leaves():
            if getattr(leaf, "fieldname", None) != field:
                continue
            if isinstance(leaf, wq.Phrase):
                matched = cache.phrase_docs(leaf)
                if matched is not None:  # the phrase's documents, found while scoring it
                    if not matched.isdisjoint(docnums):
                        words.update(leaf.words)
                    continue
                matcher = leaf.matcher(searcher, searcher.boolean_context())
                for docnum in docnums:
                    if matcher.is_active() and matcher.id() < docnum:
                        matcher.skip_to(docnum)
                    if matcher.is_active() and matcher.id() == docnum:
                        words.update(leaf.words)
                        break
            else:
                words.update(from_bytes(text) for _, text in leaf.existing_terms(reader, expand=True))
        return frozenset(words)

    def _terms_of_word(self, word: str) -> frozenset[str]:
        """What the field analyser makes of one word (stop words kept, so a stop word in a
        phrase is still marked), remembered: a library's vocabulary is small."""
        terms = self._word_terms.get(word)
        if terms is None:
            if len(self._word_terms) >= WORD_CACHE_SIZE:
                self._word_terms.clear()
            terms = frozenset(token.text for token in self._analyzer(word, removestops=False))
            self._word_terms[word] = terms
        return terms

    def _snippet(self, text: str, words: frozenset[str]) -> str:
        """Up to two highlighted fragments of text around its first matches (see
        make_snippet); a match is a word that analyses to one of the query's terms
        (words). Only words that start like a term are analysed: a stem, less its last
        letter ("happi" from "happy"), begins every word that stems to it."""
        if not text or not words:
            return ""
        pattern = self._word_patterns.get(words)
        if pattern is None:
            if len(self._word_patterns) >= WORD_CACHE_SIZE:
                self._word_patterns.clear()
            starts = sorted({term[:-1] if len(term) > 3 else term for term in words}, key=len, reverse=True)
            pattern = re.compile(r"(?<![\w&.])(?:" + "|".join(map(re.escape, starts)) + r")\w*(?:[&.]\w+)*", re.I)
            self._word_patterns[words] = pattern
        matches = (
            match for match in pattern.finditer(text) if not words.isdisjoint(self._terms_of_word(match.group()))
        )
        return make_snippet(text, [match.span() for match in itertools.islice(matches, SNIPPET_MATCHES)])

    # -- spelling ----------------------------------------------------------------------------
    def _is_known(self, cache: _SearcherCache, word: str, visible: frozenset[int]) -> bool:
        return cache.has_any("spell", word, visible)

    @staticmethod
    def _spelling_candidates(cache: _SearcherCache, word: str) -> list[str]:
        """Indexed words that start with word's letter and are one edit away from it, most
        used first; only when there are none, those two edits away, closest first. One
        edit away (a letter dropped, doubled, swapped or changed) is found by making each
        such edit and looking it up: Whoosh's corrector measured the distance to every
        indexed word with that first letter, in Python, for every unknown word."""
        words = cache.spelling_words(word[0])
        reader = cache.searcher.reader()
        near = [w for w in _one_edit_away(word) if w in words]
        if near:
            return sorted(near, key=lambda w: (-reader.doc_frequency("spell", w), w))[:SPELLING_CANDIDATES]
        scored = []
        for candidate in words:
            if abs(len(candidate) - len(word)) <= 2:
                distance = damerau_levenshtein(candidate, word, 2)
                if distance <= 2:
                    scored.append((distance, -reader.doc_frequency("spell", candidate), candidate))
        return [candidate for *_, candidate in sorted(scored)[:SPELLING_CANDIDATES]]

    def _spelling_correction(self, cache: _SearcherCache, request: SearchRequest) -> str | None:
        """The query with unknown words replaced by the closest known ones, or None.
        Known means: in a document the searcher may see (a draft's words never help)."""
        visible = cache.status_docs(request.statuses)
        parsed = parse_user_query(request.text)
        corrections: dict[str, str] = {}
        for word in parsed.checkable_words():
            lowered = word.lower()
            if len(lowered) < MIN_SPELLCHECK_CHARS or not lowered.isalpha() or lowered in corrections:
                continue
            if self._is_known(cache, lowered, visible):
                continue
            for candidate in self._spelling_candidates(cache, lowered):
                if self._is_known(cache, candidate, visible):
                    corrections[lowered] = candidate
                    break
        if not corrections:
            return None
        return replace_words(request.text, corrections)

    # -- related -----------------------------------------------------------------------------
    def more_like(self, case_id: int, statuses: Iterable[str], limit: int = 5) -> list[Hit]:
        """Cases most alike: shared tags and dimensions, then shared distinctive words."""
        with self._searching() as cache:
            searcher = cache.searcher
            docnum = searcher.document_number(id=str(case_id))
            if docnum is None:
                return []
            fields = searcher.stored_fields(docnum)
            parts: list[wq.Query] = []
            for tag in filter(None, fields.get("tags", "").split("\n")):
                parts.append(wq.Term("tag_key", _fold(tag).replace(",", " "), boost=3.0))
            for dimension in filter(None, fields.get("dimensions", "").split("\n")):
                parts.append(wq.Term("dimension_key", _fold(dimension).replace(",", " "), boost=1.5))
            for term, _score in searcher.key_terms([docnum], "body", numterms=15):
                parts.append(wq.Term("body", term, boost=1.0))
            if not parts:
                return []
            allowed = cache.status_docs(statuses) - {docnum}
            if not allowed:
                return []
            results = searcher.search(wq.Or(parts), filter=set(allowed), limit=limit)
            return [Hit(id=int(hit["id"]), score=hit.score or 0.0) for hit in results]


def is_lock_error(exc: BaseException) -> bool:
    return isinstance(exc, LockError)
