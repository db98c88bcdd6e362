"""Recording what readers do, in aggregate: the outcome of each search, the case opened
after a page of partial matches, a read of a case. Each is one statement on the request
(two the first time a reader opens a case on a day) and names nobody.

Distinct people are counted with digests keyed for one day (HMAC of the app's secret,
the day, the query or case and the user id): a digest says only "someone already
counted", differs from query to query (so two rows can't be linked to one person) and is
deleted once its day is over (`flask insights aggregate`, run daily from cron)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import Date, Integer, String, bindparam, text

from casestudies.database import insert_on_conflict
from casestudies.extensions import db
from casestudies.indexing import get_search_index
from casestudies.models import CaseReadWeek, ReadSeen, SearchClick, User, utcnow

OUTCOMES = ("full", "partial", "replaced", "none")
OUTCOME_LABELS = {
    "full": "Found cases with every word",
    "partial": "Found partial matches only",
    "replaced": "Replaced or corrected",
    "none": "Found nothing",
}
OVERFLOW_KEY = ""  # the day's searches past INSIGHTS_MAX_QUERIES_PER_DAY, counted together
OVERFLOW_DISPLAY = "(other searches, past the day's limit of different queries)"
MAX_TEXT = 200
SEEN_CHARS = 9  # ";" and 8 hex digits per person
MAX_SEEN = 400 * SEEN_CHARS  # past 400 people in a day a query's count of people stops growing


def today() -> date:
    return utcnow().date()


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def is_counted(viewer: User) -> bool:
    """Curators and admins see drafts and work on the library: their searches and reads
    would say more about their work than about what readers need."""
    return viewer.is_authenticated and not viewer.can_see_unpublished()


def _digest(day: date, *parts: object) -> str:
    key = hmac.new(current_app.config["SECRET_KEY"].encode(), f"insights:{day.isoformat()}".encode(), hashlib.sha256)
    return hmac.new(key.digest(), "\0".join(map(str, parts)).encode(), hashlib.sha256).hexdigest()


def query_key(text: str) -> str:
    """The group a query counts in: its stemmed words, each once, sorted ("Bullying at
    work" and "work bullied" are one gap). Stop words only: the words as typed."""
    terms = sorted(dict.fromkeys(get_search_index().analyse(text[:MAX_TEXT])))
    return " ".join(terms)[:MAX_TEXT] or display_text(text)


def display_text(text: str) -> str:
    return " ".join(text.casefold().split())[:MAX_TEXT]


@dataclass(frozen=True)
class Outcome:
    outcome: str
    missing: tuple[str, ...] = ()
    replaced_by: str = ""


def classify(total: int, all_words_total: int, corrected: str | None, missing: tuple[str, ...]) -> Outcome:
    """A search's outcome from what its page showed."""
    if corrected:
        return Outcome("replaced", replaced_by=display_text(corrected))
    if not total:
        return Outcome("none")
    if all_words_total:
        return Outcome("full")
    return Outcome("partial", missing=tuple(dict.fromkeys(w.casefold() for w in missing)))


# SQL text, the same on SQLite and PostgreSQL: SQLAlchemy compiles a dialect's INSERT ...
# ON CONFLICT again at every execution (it has no cache key), which cost more than running
# it; a text() statement is compiled once.
# Typed, so that PostgreSQL is told each parameter's type (a name used twice must agree).
_TYPES = (
    bindparam("day", type_=Date),
    *(bindparam(n, type_=String) for n in ("key", "display", "outcome", "missing", "replaced_by", "token", "pattern")),
    bindparam("max_seen", type_=Integer),
)
RECORD_SEARCH = text(
    "INSERT INTO search_outcome (period, day, query_key, display, outcome, missing, replaced_by, "
    "searches, searchers, seen) SELECT 'd', :day, :key, :display, :outcome, :missing, :replaced_by, "
    "1, 1, :token WHERE (SELECT count(*) FROM search_outcome WHERE period = 'd' AND day = :day) < "
    ":cap OR EXISTS (SELECT 1 FROM search_outcome WHERE period = 'd' AND day = :day AND query_key = "
    ":key AND outcome = :outcome) ON CONFLICT (period, day, query_key, outcome) DO UPDATE SET "
    "searches = search_outcome.searches + 1, searchers = search_outcome.searchers + CASE WHEN "
    "search_outcome.seen LIKE :pattern OR length(coalesce(search_outcome.seen, '')) >= :max_seen "
    "THEN 0 ELSE 1 END, seen = CASE WHEN search_outcome.seen LIKE :pattern OR "
    "length(coalesce(search_outcome.seen, '')) >= :max_seen THEN search_outcome.seen ELSE "
    "coalesce(search_outcome.seen, '') || :token END RETURNING id"
).bindparams(*_TYPES, bindparam("cap", type_=Integer))
RECORD_OVERFLOW = text(
    "INSERT INTO search_outcome (period, day, query_key, display, outcome, missing, replaced_by, "
    "searches, searchers, seen) VALUES ('d', :day, :key, :display, :outcome, :missing, :replaced_by, "
    "1, 1, :token) ON CONFLICT (period, day, query_key, outcome) DO UPDATE SET searches = "
    "search_outcome.searches + 1, searchers = search_outcome.searchers + CASE WHEN "
    "search_outcome.seen LIKE :pattern OR length(coalesce(search_outcome.seen, '')) >= :max_seen "
    "THEN 0 ELSE 1 END, seen = CASE WHEN search_outcome.seen LIKE :pattern OR "
    "length(coalesce(search_outcome.seen, '')) >= :max_seen THEN search_outcome.seen ELSE "
    "coalesce(search_outcome.seen, '') || :token END"
).bindparams(*_TYPES)


def record_search(viewer: User, text: str, outcome: Outcome, day: date | None = None) -> None:
    """One upsert: the day's row for (query, outcome) gets a search, and a searcher when
    this reader's digest is not on it yet. A new row is written only while the day has
    fewer than INSIGHTS_MAX_QUERIES_PER_DAY; past that the search counts in the day's
    overflow row (a second statement, only then)."""
    if not is_counted(viewer) or not text.strip():
        return
    day = day or today()
    key = query_key(text)
    token = ";" + _digest(day, "search", key, viewer.id)[:8]
    params = {
        "day": day,
        "key": key,
        "display": display_text(text),
        "outcome": outcome.outcome,
        "missing": " ".join(outcome.missing)[:300],
        "replaced_by": outcome.replaced_by[:MAX_TEXT],
        "token": token,
        "pattern": f"%{token}%",
        "max_seen": MAX_SEEN,
        "cap": int(current_app.config["INSIGHTS_MAX_QUERIES_PER_DAY"]),
    }
    # A row back when written or counted; none when the day is full.
    if db.session.execute(RECORD_SEARCH, params).first() is not None:
        return
    db.session.execute(RECORD_OVERFLOW, {**params, "key": OVERFLOW_KEY, "display": OVERFLOW_DISPLAY})


def record_click(viewer: User, text: str, case_id: int, day: date | None = None) -> None:
    """A case opened from a page of partial matches for text: counted only when the
    query has a partial row today (so clicks are bounded as the queries are)."""
    if not is_counted(viewer) or not text.strip():
        return
    day = day or today()
    params = {"day": day, "query_key": query_key(text), "case_id": case_id, "clicks": 1}
    db.session.execute(CLICK, params)


# A click counts only when the query has a partial row today (bounded as the queries are).
CLICK = insert_on_conflict(
    SearchClick,
    ("day", "query_key", "case_id", "clicks"),
    ("day", "query_key", "case_id"),
    add=("clicks",),
    only_if="EXISTS (SELECT 1 FROM search_outcome WHERE period = 'd' AND day = :day "
    "AND query_key = :query_key AND outcome = 'partial')",
)
READ_SEEN = insert_on_conflict(ReadSeen, ("day", "digest"), ("day", "digest"), returning="id")
READ_WEEK = insert_on_conflict(CaseReadWeek, ("case_id", "week", "reads"), ("case_id", "week"), add=("reads",))


def record_read(viewer: User, case_id: int, day: date | None = None) -> None:
    """A read of the case, once per reader and day: the day's digest of (reader, case) is
    written first (none back when it was there); only then does the week's count grow."""
    if not is_counted(viewer):
        return
    day = day or today()
    digest = _digest(day, "read", case_id, viewer.id)[:32]
    if db.session.execute(READ_SEEN, {"day": day, "digest": digest}).first() is None:
        return
    db.session.execute(READ_WEEK, {"case_id": case_id, "week": week_of(day), "reads": 1})


def record_search_page(viewer: User, results) -> None:
    """The outcome of a search page (library.services.SearchResults), its first page only:
    turning pages is the same search."""
    if results.pagination.page != 1 or not results.query.strip():
        return
    missing = results.unmatched or tuple(word for item in results.items for word in item.missing)
    # A word no case mentions is a gap even when the thesaurus's terms, searched in its
    # place, found cases with every other word (the page tells the reader curators see it).
    all_words_total = 0 if results.unmatched else results.all_words_total
    outcome = classify(results.total, all_words_total, results.corrected_query, missing)
    record_search(viewer, results.query, outcome)
