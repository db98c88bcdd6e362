"""Plain data crossing the boundary of the search package: no Whoosh types, no models."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date

FACETS = ("seat", "setting", "dimension", "tag", "status")
SORTS = ("relevance", "newest", "title")


@dataclass(frozen=True)
class CaseDoc:
    """Everything about one case that search may know. Facilitator notes are not here:
    a learner must never find a case by words only facilitators can read."""

    id: int
    slug: str
    title: str
    summary: str
    seat: str
    setting: str
    body: str
    status: str
    dimensions: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    updated: date | None = None

    @property
    def fingerprint(self) -> str:
        """A digest of the document, stored in the index so `check` can spot stale entries."""
        data = asdict(self)
        data["updated"] = self.updated.isoformat() if self.updated else None
        raw = json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True)
class Hit:
    id: int
    score: float
    snippet: str = ""  # HTML: escaped text with <mark> around matched words
    missing: tuple[str, ...] = ()  # words of the query this hit lacks (it matches only some)


@dataclass(frozen=True)
class FacetCount:
    value: str
    count: int
    is_selected: bool = False


@dataclass(frozen=True)
class SearchRequest:
    text: str
    statuses: tuple[str, ...] = ("published",)
    filters: dict[str, str] = field(default_factory=dict)  # facet name -> value (case-insensitive)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 10
    exact: bool = False  # True: never replace the query with a spelling correction


@dataclass(frozen=True)
class SearchPage:
    hits: list[Hit]
    total: int
    page: int
    per_page: int
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    corrected_query: str | None = None  # results shown are for this correction
    suggestion: str | None = None  # "Did you mean", results shown are for what was typed
    all_words_total: int = 0  # of total, the hits that match every word (the rest match some)
    unmatched: tuple[str, ...] = ()  # words typed that no case the reader may see mentions
    related: tuple[str, ...] = ()  # the thesaurus's terms searched for in their place

    @property
    def has_partial_matches(self) -> bool:
        return self.total > self.all_words_total

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class CheckReport:
    """Differences between what the index holds and what it should hold."""

    missing: list[int] = field(default_factory=list)  # in the database, not in the index
    stale: list[int] = field(default_factory=list)  # in both, but the index is out of date
    extra: list[int] = field(default_factory=list)  # in the index, not in the database

    @property
    def is_clean(self) -> bool:
        return not (self.missing or self.stale or self.extra)
