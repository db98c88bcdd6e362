"""Cases alike a text that may not be indexed yet: the editor's possible duplicates.

The text's key terms (Whoosh's Bo1 expansion model: words frequent in the text and rare
in the library) are looked for in each case's title, summary and body. A case counts as
alike when it holds most of the key terms' weight, not merely some of it: two cases on
the same subject share a few distinctive words, a copy shares nearly all.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from whoosh import query as wq
from whoosh.searching import Searcher

KEY_TERMS = 20
SEARCHED_FIELDS = {"title": 2.0, "summary": 1.5, "body": 1.0}
# The share of the key terms' weight a case must hold to count as alike: a copy holds all
# of it, a case on the same subject well under this.
MIN_SHARED_WEIGHT = 0.7
MIN_KEY_TERMS = 12
# Cases looked at, before the shared weight is checked, per case wanted.
CANDIDATES_PER_RESULT = 4


@dataclass(frozen=True)
class SimilarCase:
    id: int
    score: float
    shared: float  # share of the key terms' weight found in the case, 0 to 1


def key_terms(searcher: Searcher, text: str, number: int = KEY_TERMS) -> dict[str, float]:
    """The text's most distinctive words that the library has (as indexed: stemmed), with
    their weights (the most distinctive weighs 1)."""
    if not text.strip() or searcher.doc_count() == 0:
        return {}
    return dict(searcher.key_terms_from_text("body", text, numterms=number))


def similar_cases(
    searcher: Searcher,
    text: str,
    allowed: Collection[int],
    limit: int,
    *,
    min_shared: float = MIN_SHARED_WEIGHT,
) -> list[SimilarCase]:
    """Up to `limit` cases among the document numbers `allowed` that hold at least
    `min_shared` of the text's key-term weight, most alike first."""
    weights = key_terms(searcher, text)
    total = sum(weights.values())
    # A few sentences share their few key terms with many cases on the same subject: too
    # little to call two texts alike (the title is compared on its own).
    if len(weights) < MIN_KEY_TERMS or total <= 0 or not allowed or limit < 1:
        return []
    query = wq.Or([wq.Term(field, term, boost=boost) for term in weights for field, boost in SEARCHED_FIELDS.items()])
    results = searcher.search(query, filter=set(allowed), limit=limit * CANDIDATES_PER_RESULT, terms=True)
    found = []
    for hit in results:
        matched = {term.decode("utf-8") if isinstance(term, bytes) else term for _, term in hit.matched_terms()}
        shared = sum(weight for term, weight in weights.items() if term in matched) / total
        if shared >= min_shared:
            found.append(SimilarCase(id=int(hit["id"]), score=hit.score or 0.0, shared=shared))
    found.sort(key=lambda case: (-case.shared, -case.score))
    return found[:limit]
