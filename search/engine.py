"""SearchIndex: the search package's one public class, over its single-job modules.

    schema.py            the index's fields, and a CaseDoc's values for them
    store.py             generations on disk, the CURRENT pointer, writers, rebuilds, locks
    scoring.py           BM25F scores of queries, kept per searcher
    facets.py            facet counts and filters, from per-value bitmaps kept per searcher
    snippets.py          marked fragments of a hit's text
    spelling.py          "Did you mean"
    similar.py           cases alike a text not yet indexed (possible duplicates)
    caches.py            the bounded cache every kept result lives in
    whoosh_internals.py  the one module that reads Whoosh's private names

Speed comes from what surrounds the query: one searcher per process, reopened only when
the index changed, and kept with what was worked out from it (_SearcherState: scores of
words and phrases, facet bitmaps, snippets, spelling words); snippets only for the page
shown, from the first matches; spelling work only when a word is unknown.
"""

from __future__ import annotations

import heapq
import math
import os
import threading
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from whoosh import query as wq
from whoosh.index import Index
from whoosh.searching import Searcher

from .analysis import query_analyzer
from .caches import BoundedCache
from .documents import FACETS, CaseDoc, CheckReport, Hit, SearchPage, SearchRequest
from .facets import FacetSets
from .query import QUESTION_WORDS, QueryBuilder, QueryParts, parse_user_query
from .schema import FACET_FIELDS, fold, keyword_value
from .scoring import Scorer, Scores, query_key, top_documents
from .similar import similar_cases
from .snippets import highlight_words, snippet
from .spelling import Speller
from .store import MAX_BATCH_DOCS, GenerationStore, IndexBatch, SearchUnavailable, is_lock_error
from .synonyms import SYNONYMS_FILE, SynonymGroup, SynonymTable, load_table
from .thesaurus import THESAURUS_FILE, Concept, Thesaurus, load_thesaurus

__all__ = ["MAX_BATCH_DOCS", "IndexBatch", "SearchIndex", "SearchUnavailable", "is_lock_error"]

# Snippets of (document, query words), per searcher: popular searches repeat.
SNIPPET_CACHE_BYTES = 4 * 1024 * 1024
SNIPPET_ENTRY_BYTES = 1024
SNIPPET_BYTES_PER_CHAR = 2

MAX_RELATED_SHOWN = 4  # thesaurus terms named on a page for the words no case mentions

SnippetKey = tuple[int, frozenset[str], frozenset[str]]


def group_weights(group_scores: list[Scores], doc_count: int) -> list[float]:
    """Each group's share of what a query says, by how rare its matches are (an inverse
    document frequency, log(N / df), summing to 1): a word most cases have ("team",
    "work", "staff") says little about which case is wanted, a rare one says much."""
    idfs = [math.log((doc_count + 1) / (len(scores) + 0.5)) for scores in group_scores]
    total = sum(idfs)
    if total <= 0:
        return [1 / len(group_scores)] * len(group_scores) if group_scores else []
    return [idf / total for idf in idfs]


@dataclass
class Partial:
    """The cases that match only some of a query's groups: how many each matches, and each
    group's scores and weight (for a case's rank and its missing words, worked out only for
    the cases a page shows)."""

    counts: dict[int, int] = field(default_factory=dict)
    group_scores: list[Scores] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)  # group_weights(group_scores)

    def __bool__(self) -> bool:
        return bool(self.counts)

    def __contains__(self, docnum: int) -> bool:
        return docnum in self.counts

    def score(self, docnum: int) -> float:
        """The case's summed score, times the share of the query's weight it matches (as
        Lucene's coordination factor, but by weight rather than by number of words)."""
        total = covered = 0.0
        for scores, weight in zip(self.group_scores, self.weights, strict=True):
            found = scores.get(docnum)
            if found is not None:
                total += found
                covered += weight
        return total * covered

    def best(self, docnums: Iterable[int], wanted: int) -> list[int]:
        """The first `wanted` of docnums by score (then docnum). Worked out tier by tier
        of groups matched, most first, stopping at a tier whose best possible score (its
        count of the highest group scores and weights) cannot reach the page."""
        tiers: dict[int, list[int]] = {}
        for docnum in docnums:
            tiers.setdefault(self.counts[docnum], []).append(docnum)
        if not tiers or wanted <= 0:
            return []
        best_scores = sorted((max(scores.values(), default=0.0) for scores in self.group_scores), reverse=True)
        best_weights = sorted(self.weights, reverse=True)
        kept: list[tuple[float, int]] = []  # (-score, docnum), the `wanted` best so far
        for count in sorted(tiers, reverse=True):
            if len(kept) >= wanted and -kept[-1][0] > sum(best_scores[:count]) * sum(best_weights[:count]):
                break
            kept = heapq.nsmallest(wanted, [*kept, *((-self.score(d), d) for d in tiers[count])])
        return [docnum for _, docnum in kept]


def _snippet_bytes(text: str) -> int:
    return SNIPPET_BYTES_PER_CHAR * len(text)


class _SearcherState:
    """One searcher and what was worked out from it, true as long as it is."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.live: frozenset[int] = frozenset(searcher.reader().all_doc_ids())
        self.scorer = Scorer(searcher)
        self.facets = FacetSets(searcher, self.live)
        self.speller = Speller(searcher)
        self.snippets: BoundedCache[SnippetKey, str] = BoundedCache(
            SNIPPET_CACHE_BYTES, SNIPPET_ENTRY_BYTES, _snippet_bytes
        )

    def scores(self, query: wq.Query) -> Scores:
        return self.scorer.scores(query)

    def caches(self) -> dict[str, BoundedCache]:
        """Every bounded cache of this searcher, by name."""
        return {
            "scores": self.scorer.cache,
            "phrase documents": self.scorer.phrase_cache,
            "query bitmaps": self.facets.query_bits_cache,
            "spelling words": self.speller.words_cache,
            "snippets": self.snippets,
        }


class SearchIndex:
    """One per process. Thread-safe; every operation holds the index's lock."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        synonyms_file: Path = SYNONYMS_FILE,
        thesaurus_file: Path = THESAURUS_FILE,
    ) -> None:
        self.directory = Path(directory)
        self.synonyms_file = synonyms_file
        self.thesaurus_file = thesaurus_file
        self._lock = threading.RLock()
        self._store = GenerationStore(self.directory)
        self._state: _SearcherState | None = None
        self._state_index: Index | None = None  # the index self._state's searcher reads
        self._analyzer = query_analyzer()
        # Synonym groups and concepts kept in the app's database, merged with the files';
        # set by the app when their version changes (casestudies/insights/vocabulary.py).
        self.vocabulary_version: object = None
        self._extra_groups: tuple[SynonymGroup, ...] = ()
        self._extra_concepts: tuple[Concept, ...] = ()

    # -- text analysis -------------------------------------------------------------------
    def analyse(self, text: str) -> list[str]:
        return [token.text for token in self._analyzer(text)]

    def synonyms(self) -> SynonymTable | None:
        try:
            mtime = self.synonyms_file.stat().st_mtime
        except FileNotFoundError:
            return None
        return load_table(self.synonyms_file, mtime, self.analyse, self._extra_groups)

    def thesaurus(self) -> Thesaurus | None:
        try:
            mtime = self.thesaurus_file.stat().st_mtime
        except FileNotFoundError:
            return None
        return load_thesaurus(self.thesaurus_file, mtime, self.analyse, self._extra_concepts)

    def set_vocabulary(self, version: object, groups: list[SynonymGroup], concepts: list[Concept]) -> None:
        """Synonym groups and concepts to use besides the files' (the next search uses them)."""
        with self._lock:
            self._extra_groups, self._extra_concepts = tuple(groups), tuple(concepts)
            self.vocabulary_version = version

    # -- the searcher ------------------------------------------------------------------------
    def _close_searcher(self) -> None:
        if self._state is not None:
            self._state.searcher.close()
            self._state = None

    def _open_searcher(self, index: Index) -> _SearcherState:
        try:
            return _SearcherState(index.searcher())
        except Exception as exc:  # a damaged segment shows up here, not in open_dir
            self._store.forget()
            raise SearchUnavailable(f"search index {self.directory} unreadable: {exc}") from exc

    @contextmanager
    def _searching(self) -> Iterator[_SearcherState]:
        with self._lock:
            index = self._store.open_index()
            if self._state is not None and (self._state_index is not index or not self._state.searcher.up_to_date()):
                # A new searcher only when the index changed, not per request. Not
                # Searcher.refresh(): in whoosh-reloaded its reader reuse also carries over
                # segments that a merge replaced, and closing the old searcher would close
                # readers the new one shares.
                self._close_searcher()
            if self._state is None:
                self._state = self._open_searcher(index)
                self._state_index = index
            yield self._state

    def close(self) -> None:
        with self._lock:
            self._close_searcher()
            self._store.forget()

    # -- writing -----------------------------------------------------------------------------
    @contextmanager
    def writing(self, expected: int = 1) -> Iterator[IndexBatch]:
        """One writer, one commit, for a batch of about `expected` changes.

        Blocks for Whoosh's write lock (another process may hold it) for up to
        WRITE_LOCK_TIMEOUT_S, then raises LockError. Whatever the caller reads *inside*
        the block is read while holding the lock, so the last writer always writes the
        newest state. Nothing is committed if the block raises.
        """
        with self._lock, self._store.writer(expected) as batch:
            yield batch

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

    def is_usable(self) -> bool:
        try:
            self.doc_count()
        except SearchUnavailable:
            return False
        return True

    def rebuild(self, docs: Iterable[CaseDoc], *, only_if_unusable: bool = False) -> int | None:
        """Build a fresh generation beside the live one, then swap it in. Returns the count,
        or None when only_if_unusable and another process has meanwhile made it usable."""
        with self._lock, self._store.rebuild_lock():
            if only_if_unusable and self.is_usable():
                return None
            name, count = self._store.build_generation(docs)
            self._close_searcher()
            self._store.make_live(name)
            return count

    # -- reading -----------------------------------------------------------------------------
    def fingerprints(self) -> dict[int, str]:
        with self._searching() as state:
            return {int(fields["id"]): fields["fingerprint"] for fields in state.searcher.all_stored_fields()}

    def check(self, expected: dict[int, str]) -> CheckReport:
        """Compare the index with the documents it should hold ({id: fingerprint})."""
        actual = self.fingerprints()
        return CheckReport(
            missing=sorted(set(expected) - set(actual)),
            stale=sorted(i for i in set(expected) & set(actual) if expected[i] != actual[i]),
            extra=sorted(set(actual) - set(expected)),
        )

    def doc_count(self) -> int:
        with self._searching() as state:
            return state.searcher.doc_count()

    def search(self, request: SearchRequest) -> SearchPage:
        """Ranked hits, facet counts and spelling help for one results page. Cases that
        match every word come first; when fewer than a page do (and the query is not
        exact), cases that match at least a third of its words follow.

        A real word (English, the library's, the synonym table's or thesaurus's) is never
        corrected. Another word may be: the results are replaced only for an unmistakable
        typo (one edit from a word of the library) when what was typed has no case with
        every word; otherwise "Did you mean" is offered only when the correction finds more."""
        with self._searching() as state:
            graceful = not request.exact
            table = self.synonyms()  # one look at each file's time for the whole search
            thesaurus = self.thesaurus()
            page = self._search(state, request, request.text, table, graceful=graceful, thesaurus=thesaurus)
            if not request.text.strip():
                return page
            visible = state.facets.status_docs(request.statuses)
            page = self._with_unmatched(state, page, request.text, visible, thesaurus)
            if request.exact:
                return page
            known = (table.words if table else frozenset()) | (thesaurus.words if thesaurus else frozenset())
            check = state.speller.check(request.text, visible, known)
            if check is None:
                return page
            fixed = self._search(state, request, check.corrected, table, graceful=True, thesaurus=thesaurus)
            finds_more = fixed.all_words_total or (fixed.total and not page.total)
            if check.unmistakable and page.all_words_total == 0 and finds_more:
                fixed = self._with_unmatched(state, fixed, check.corrected, visible, thesaurus)
                return replace(fixed, corrected_query=check.corrected)
            if fixed.total > page.total or fixed.all_words_total > page.all_words_total:
                return replace(page, suggestion=check.corrected)
            return page

    def _with_unmatched(
        self, state: _SearcherState, page: SearchPage, text: str, visible: frozenset[int], thesaurus: Thesaurus | None
    ) -> SearchPage:
        """page with the words of text that no visible case mentions (as typed: a synonym or
        related term found instead does not count), and the thesaurus's terms for them that
        some visible case has."""
        unmatched: list[str] = []
        related: list[str] = []
        builder = QueryBuilder(self.analyse, None)
        for word in parse_user_query(text).checkable_words():
            lowered = word.lower()
            terms = tuple(self.analyse(lowered))
            if lowered in QUESTION_WORDS or len(terms) != 1 or lowered in unmatched:
                continue
            if self._mentioned(state, builder.terms_query(terms), visible):
                continue
            unmatched.append(lowered)
            if thesaurus is not None:  # the related terms that some visible case has
                for term in thesaurus.related_terms(terms):
                    analysed = tuple(self.analyse(term))
                    if term in related or len(related) >= MAX_RELATED_SHOWN or not analysed:
                        continue
                    if self._mentioned(state, builder.terms_query(analysed), visible):
                        related.append(term)
        if not unmatched:
            return page
        return replace(page, unmatched=tuple(unmatched), related=tuple(related[:MAX_RELATED_SHOWN]))

    @staticmethod
    def _mentioned(state: _SearcherState, query: wq.Query, visible: frozenset[int]) -> bool:
        """Whether a visible case matches query (a word or phrase in any field). When one
        field's postings list more documents than the reader may not see (deleted ones
        included), one of them is visible: then no postings are read nor scored."""
        searcher = state.searcher
        hidden = searcher.doc_count_all() - len(visible)
        for part in query.subqueries if isinstance(query, wq.Or) else ():
            if not isinstance(part, wq.Term) or part.fieldname not in searcher.schema:
                continue
            text = searcher.schema[part.fieldname].to_bytes(part.text)
            if (part.fieldname, text) in searcher.reader() and searcher.doc_frequency(part.fieldname, text) > hidden:
                return True
        return not visible.isdisjoint(state.scorer.scores(query).keys())

    def _search(
        self,
        state: _SearcherState,
        request: SearchRequest,
        text: str,
        table: SynonymTable | None,
        *,
        graceful: bool,
        thesaurus: Thesaurus | None = None,
    ) -> SearchPage:
        page_number = max(1, request.page)
        parsed = parse_user_query(text)
        facets = state.facets
        visible = facets.status_docs(request.statuses)
        if parsed.is_empty and text.strip():
            # Typed something, but no word in it ("*", "--"): nothing matches.
            return SearchPage([], 0, page_number, request.per_page, {name: [] for name in FACETS})
        # Each selected filter narrows the hits; each facet counts among the hits that
        # match every *other* filter, so one can switch a seat without clearing it first.
        selected: dict[str, tuple[str, frozenset[int]]] = {}
        for name, value in request.filters.items():
            if name in FACET_FIELDS and value:
                key = fold(value)
                selected[name] = (key, facets.facet_sets(name).get(key, frozenset()))
        partial = Partial()
        parts: QueryParts | None = None
        if parsed.is_empty:
            matched_all = visible  # browsing with filters only
            query: wq.Query = wq.Every()
            scores: Scores = {}
            scope_key: object = None
            scope_docs: Collection[int] = ()
        else:
            builder = QueryBuilder(
                self.analyse, table, thesaurus=thesaurus, matches_nothing=state.scorer.matches_nothing
            )
            parts = builder.parts(parsed)
            query = parts.strict()
            scores = state.scorer.scores(query)
            matched_all = visible.intersection(scores)
            scope_key = query_key(query)
            scope_docs = scores.keys()
        matched = self._narrowed(matched_all, selected)
        all_words = len(matched)
        if parts is not None and graceful and parts.can_relax and all_words < request.per_page:
            partial = self._partial_matches(state, parts, visible, exclude=matched_all)
            if partial:
                query = wq.Or([group.query for group in parts.groups])
                matched_all = matched_all.union(partial.counts)
                matched = matched.union(self._narrowed(frozenset(partial.counts), selected))
                scope_key = ("some words", scope_key, request.statuses)
                scope_docs = matched_all
        counts = {}
        matched_all_bits = facets.status_bits(request.statuses)
        if scope_key is not None:
            matched_all_bits &= facets.query_bits(scope_key, scope_docs)
        for name in FACETS:
            scope = matched_all_bits
            for other, (key, _) in selected.items():
                if other != name:
                    scope &= facets.facet_bits(other).get(key, 0)
            counts[name] = facets.counts(name, scope, selected.get(name, (None, None))[0])
        hits = self._ranked_page(
            state, query, scores, partial, parts, matched, request.sort, page_number, request.per_page
        )
        return SearchPage(hits, len(matched), page_number, request.per_page, counts, all_words_total=all_words)

    @staticmethod
    def _narrowed(docs: frozenset[int], selected: dict[str, tuple[str, frozenset[int]]]) -> frozenset[int]:
        for _, chosen in selected.values():
            docs = docs & chosen
        return docs

    @staticmethod
    def _partial_matches(
        state: _SearcherState, parts: QueryParts, visible: frozenset[int], *, exclude: frozenset[int]
    ) -> Partial:
        """The visible cases that match at least a third of the query's groups (every quoted
        phrase among them, no excluded word) but not all, with how many groups each matches."""
        group_scores = [state.scorer.scores(group.query) for group in parts.groups]
        groups = zip(parts.groups, group_scores, strict=True)
        required = [scores.keys() for group, scores in groups if group.is_required]
        # Every quoted phrase, or else any of the groups.
        candidates = set(visible.intersection(*required)) if required else set().union(*group_scores) & visible
        candidates -= exclude
        if parts.excluded is not None:
            candidates -= state.scorer.scores(parts.excluded).keys()
        least = parts.least_matched
        matched_groups: Counter[int] = Counter()
        for scores in group_scores:
            matched_groups.update(scores.keys())  # counted in C, not document by document
        counts = {docnum: count for docnum in candidates if (count := matched_groups[docnum]) >= least}
        return Partial(counts, group_scores, group_weights(group_scores, state.searcher.doc_count_all()))

    @staticmethod
    def _missing_words(parts: QueryParts, partial: Partial, docnum: int) -> tuple[str, ...]:
        """The typed words of the groups a case does not match (for the hits shown only)."""
        return tuple(
            word
            for group, scores in zip(parts.groups, partial.group_scores, strict=True)
            if docnum not in scores
            for word in group.words
        )

    def _ranked_page(
        self,
        state: _SearcherState,
        query: wq.Query,
        scores: Scores,
        partial: Partial,
        parts: QueryParts | None,
        matched: frozenset[int],
        sort: str,
        page: int,
        per_page: int,
    ) -> list[Hit]:
        if not matched:
            return []
        searcher = state.searcher
        start = (page - 1) * per_page
        if sort == "relevance" and not isinstance(query, wq.Every):
            # Every word first, by score (then the lower document number, as Whoosh orders
            # them); then the cases with most of the words, by how many, then by score.
            complete = matched.difference(partial.counts) if partial else matched
            top = top_documents(scores, complete, page * per_page)
            ranked = [(docnum, scores[docnum]) for docnum in top[start:]]
            if len(ranked) < per_page and partial:
                wanted = page * per_page - len(complete)
                some = partial.best((docnum for docnum in partial.counts if docnum in matched), wanted)
                skip = max(0, start - len(complete))
                ranked += [(docnum, partial.score(docnum)) for docnum in some[skip:]]
        else:
            sortedby = {"newest": "updated", "title": "title_sort"}.get(sort)
            results = searcher.search(
                query, filter=set(matched), limit=page * per_page, sortedby=sortedby, reverse=sort == "newest"
            )
            ranked = [(hit.docnum, hit.score or 0.0) for hit in results[start : page * per_page]]
        words = {}
        if not isinstance(query, wq.Every):
            docnums = sorted(docnum for docnum, _ in ranked)
            words = {
                field: highlight_words(searcher, state.scorer, query, field, docnums) for field in ("body", "summary")
            }
        hits = []
        for docnum, score in ranked:
            stored = searcher.stored_fields(docnum)
            marked = ""
            if words:
                # Only the hits on this page are marked, and a snippet is kept for the
                # searcher's life (popular searches repeat).
                key = (docnum, words["body"], words["summary"])
                marked = state.snippets.get(key)
                if marked is None:
                    marked = snippet(stored.get("body", ""), words["body"]) or snippet(
                        stored.get("summary", ""), words["summary"]
                    )
                    state.snippets.remember(key, marked)
            lacks = self._missing_words(parts, partial, docnum) if parts is not None and docnum in partial else ()
            hits.append(Hit(id=int(stored["id"]), score=score, snippet=marked, missing=lacks))
        return hits

    # -- related -----------------------------------------------------------------------------
    def more_like(self, case_id: int, statuses: Iterable[str], limit: int = 5) -> list[Hit]:
        """Cases most alike: shared tags and dimensions, then shared distinctive words."""
        with self._searching() as state:
            searcher = state.searcher
            docnum = searcher.document_number(id=str(case_id))
            if docnum is None:
                return []
            fields = searcher.stored_fields(docnum)
            parts: list[wq.Query] = []
            for tag in filter(None, fields.get("tags", "").split("\n")):
                parts.append(wq.Term("tag_key", keyword_value(tag), boost=3.0))
            for dimension in filter(None, fields.get("dimensions", "").split("\n")):
                parts.append(wq.Term("dimension_key", keyword_value(dimension), boost=1.5))
            for term, _score in searcher.key_terms([docnum], "body", numterms=15):
                parts.append(wq.Term("body", term, boost=1.0))
            if not parts:
                return []
            allowed = state.facets.status_docs(statuses) - {docnum}
            if not allowed:
                return []
            results = searcher.search(wq.Or(parts), filter=set(allowed), limit=limit)
            return [Hit(id=int(hit["id"]), score=hit.score or 0.0) for hit in results]

    def more_like_text(
        self, text: str, statuses: Iterable[str], limit: int = 5, *, exclude: int | None = None
    ) -> list[Hit]:
        """Cases alike an unsaved text (a case's summary and body, say): most of its
        distinctive words in common. `exclude` leaves out a case by id (the one edited)."""
        with self._searching() as state:
            allowed = set(state.facets.status_docs(statuses))
            if exclude is not None:
                allowed.discard(state.searcher.document_number(id=str(exclude)))
            return [Hit(id=case.id, score=case.shared) for case in similar_cases(state.searcher, text, allowed, limit)]
