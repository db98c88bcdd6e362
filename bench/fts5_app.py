"""The FTS5 baseline served as the app: the real app with bench/fts5.py's index as its engine.

    EVERY_SEAT_FTS5_DB=/path/fts5.db gunicorn ... 'bench.fts5_app:create_app()'

`create_app()` builds the app exactly as `app:create_app()` does (same database, views,
sign-in, visibility, template) and then puts `Fts5SearchIndex` in
`app.extensions["search_index"]`, where `search_cases` finds its engine. So a search goes
through the same view, `search_cases` (rows loaded from the app's database, visibility
checked there), the same template and the same gunicorn settings; only the engine that
ranks, counts and makes snippets differs. bench/run.py times both over HTTP.

The engine is bench/fts5.py's `Fts5Library` (BM25 with the app's field weights, snippet(),
count(*) and GROUP BY facets), opened read-only, once per worker process, on the index the
benchmark's fts5 phase built. As there: no synonyms, no spelling help, published cases only,
ranked by relevance (or by title when no word was typed). `more_like` returns nothing
(a case page then lists no related cases). Everything else the app asks of its index
(start-up checks, the indexer following the journal, the synonym list) goes to the app's own Whoosh
index, as it would without this module: none of it is on the search page's path.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from flask import Flask
from markupsafe import escape

from search import FACETS, FacetCount, Hit, SearchPage, SearchRequest

from .fts5 import PER_PAGE, Fts5Library
from .queries import Query

FTS5_DB_ENV = "EVERY_SEAT_FTS5_DB"


class Fts5SearchIndex:
    """What the pages call on the search index, answered by bench/fts5.py's Fts5Library."""

    def __init__(self, path: Path, app_index: object) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no FTS5 index at {self.path} (bench/run.py's fts5 phase builds it)")
        self._app_index = app_index
        self._library: Fts5Library | None = None
        self._pid = 0
        self._app_ids: dict[int, int] = {}

    def __getattr__(self, name: str) -> object:
        # Not the search page's path: start-up checks, the indexer, the synonyms page.
        return getattr(self._app_index, name)

    def _open(self) -> Fts5Library:
        """The index, opened read-only once per process (a worker forked from a process
        that had it open gets its own connection), with FTS5 row ids mapped to the app's
        case ids by slug (both hold the same generated cases; the ids need not agree)."""
        if self._library is None or self._pid != os.getpid():
            from sqlalchemy import select

            from casestudies.extensions import db
            from casestudies.models import Case

            library = Fts5Library(self.path, read_only=True)
            fts5_ids = dict(library.db.execute("SELECT slug, id FROM cases").fetchall())
            app_ids = dict(db.session.execute(select(Case.slug, Case.id)).tuples().all())
            self._app_ids = {fts5_id: app_ids[slug] for slug, fts5_id in fts5_ids.items() if slug in app_ids}
            self._library = library
            self._pid = os.getpid()
        return self._library

    def search(self, request: SearchRequest) -> SearchPage:
        """One results page as fts5.py makes it. Only what it can do: the learner's view
        (published cases; other statuses are not in its index's search), relevance order
        and PER_PAGE hits a page; the app's config asks for the same 10."""
        library = self._open()
        query = Query(kind="http", text=request.text, filters=dict(request.filters), page=max(1, request.page))
        result = library.search(query, with_tags=False)
        has_words = bool(request.text.strip())
        hits = []
        for row in result["hits"]:
            case_id = self._app_ids.get(int(row["id"]))
            if case_id is None:
                continue  # not in the app's database: the page would drop it too
            # snippet() marks matches in the raw text: escape the rest, as the app's
            # snippets are (the template shows them as HTML).
            snippet = _escaped_snippet(str(row["snippet"])) if has_words else ""
            hits.append(Hit(id=case_id, score=0.0, snippet=snippet))
        facets: dict[str, list[FacetCount]] = {name: [] for name in FACETS}
        for name, rows in result["facets"].items():
            chosen = (request.filters.get(name) or "").casefold()
            facets[name] = [
                FacetCount(value, count, bool(chosen) and value.casefold() == chosen) for value, count in rows if value
            ]
        return SearchPage(hits, int(result["total"]), max(1, request.page), PER_PAGE, facets)

    def more_like(self, case_id: int, statuses: Iterable[str], limit: int = 5) -> list[Hit]:
        return []

    def close(self) -> None:
        if self._library is not None and self._pid == os.getpid():
            self._library.close()
        self._library = None


def _escaped_snippet(text: str) -> str:
    return str(escape(text)).replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>")


def create_app() -> Flask:
    from app import create_app as create_real_app

    path = os.environ.get(FTS5_DB_ENV)
    if not path:
        raise RuntimeError(f"set {FTS5_DB_ENV} to the FTS5 index that bench/run.py's fts5 phase built")
    app = create_real_app()
    index = Fts5SearchIndex(Path(path), app.extensions["search_index"])
    # Fail at start-up, not on the first search, if the file is not fts5.py's index.
    probe = sqlite3.connect(f"{index.path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        probe.execute("SELECT count(*) FROM cases_fts").fetchone()
    finally:
        probe.close()
    app.extensions["search_index"] = index
    return app
