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
from sqlalchemy import exists, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from casestudies.extensions import db
from casestudies.indexing import get_search_index
from casestudies.models import CaseReadWeek, ReadSeen, SearchClick, SearchOutcome, User, utcnow

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


def _insert(model):
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


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


def record_search(viewer: User, text: str, outcome: Outcome, day: date | None = None) -> None:
    """One upsert: the day's row for (query, outcome) gets a search, and a searcher when
    this reader's digest is not on it yet. A new row is written only while the day has
    fewer than INSIGHTS_MAX_QUERIES_PER_DAY; past that the search counts in the day's
    overflow row (a second statement, only then)."""
    if not is_counted(viewer) or not text.strip():
        return
    day = day or today()
    key, display = query_key(text), display_text(text)
    token = ";" + _digest(day, "search", key, viewer.id)[:8]
    cap = int(current_app.config["INSIGHTS_MAX_QUERIES_PER_DAY"])
    table = SearchOutcome
    same = (table.period == "d") & (table.day == day)
    values = {
        "period": "d",
        "day": day,
        "query_key": key,
        "display": display,
        "outcome": outcome.outcome,
        "missing": " ".join(outcome.missing)[:300],
        "replaced_by": outcome.replaced_by[:MAX_TEXT],
        "searches": 1,
        "searchers": 1,
        "seen": token,
    }
    room = select(func.count()).select_from(table).where(same).scalar_subquery() < cap
    there = exists().where(same, table.query_key == key, table.outcome == outcome.outcome)
    source = select(*(literal(v) for v in values.values())).where(room | there)
    already = table.seen.like(f"%{token}%")
    statement = (
        _insert(table)
        .from_select(list(values), source)
        .on_conflict_do_update(index_elements=["period", "day", "query_key", "outcome"], set_=_counting(already, token))
        .returning(table.id)  # a row back when written or counted; none when the day is full
    )
    if db.session.execute(statement).first() is not None:
        return
    overflow = _insert(table).values({**values, "query_key": OVERFLOW_KEY, "display": OVERFLOW_DISPLAY})
    db.session.execute(
        overflow.on_conflict_do_update(
            index_elements=["period", "day", "query_key", "outcome"], set_=_counting(already, token)
        )
    )


def _counting(already, token: str) -> dict:
    from sqlalchemy import case

    table = SearchOutcome
    full = func.length(func.coalesce(table.seen, "")) >= MAX_SEEN
    return {
        "searches": table.searches + 1,
        "searchers": table.searchers + case((already | full, 0), else_=1),
        "seen": case((already | full, table.seen), else_=func.coalesce(table.seen, "") + token),
    }


def record_click(viewer: User, text: str, case_id: int, day: date | None = None) -> None:
    """A case opened from a page of partial matches for text: counted only when the
    query has a partial row today (so clicks are bounded as the queries are)."""
    if not is_counted(viewer) or not text.strip():
        return
    day = day or today()
    key = query_key(text)
    partial = exists().where(
        SearchOutcome.period == "d",
        SearchOutcome.day == day,
        SearchOutcome.query_key == key,
        SearchOutcome.outcome == "partial",
    )
    source = select(literal(day), literal(key), literal(case_id), literal(1)).where(partial)
    db.session.execute(
        _insert(SearchClick)
        .from_select(["day", "query_key", "case_id", "clicks"], source)
        .on_conflict_do_update(index_elements=["day", "query_key", "case_id"], set_={"clicks": SearchClick.clicks + 1})
    )


def record_read(viewer: User, case_id: int, day: date | None = None) -> None:
    """A read of the case, once per reader and day: the day's digest of (reader, case) is
    written first; only when it is new does the week's count grow."""
    if not is_counted(viewer):
        return
    day = day or today()
    digest = _digest(day, "read", case_id, viewer.id)[:32]
    seen = (
        _insert(ReadSeen)
        .values(day=day, digest=digest)
        .on_conflict_do_nothing(index_elements=["day", "digest"])
        .returning(ReadSeen.id)  # none when the digest was there: read already today
    )
    if db.session.execute(seen).first() is None:
        return
    db.session.execute(
        _insert(CaseReadWeek)
        .values(case_id=case_id, week=week_of(day), reads=1)
        .on_conflict_do_update(index_elements=["case_id", "week"], set_={"reads": CaseReadWeek.reads + 1})
    )


def record_search_page(viewer: User, results) -> None:
    """The outcome of a search page (library.services.SearchResults), its first page only:
    turning pages is the same search."""
    if results.pagination.page != 1 or not results.query.strip():
        return
    missing = results.unmatched or tuple(word for item in results.items for word in item.missing)
    outcome = classify(results.total, results.all_words_total, results.corrected_query, missing)
    record_search(viewer, results.query, outcome)
