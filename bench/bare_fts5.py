"""The second baseline: a minimal FTS5 search page, with none of the app around it.

    EVERY_SEAT_FTS5_DB=/path/fts5.db gunicorn ... 'bench.bare_fts5:create_app()'

What a straightforward search service would be: one WSGI callable (Werkzeug's request and
response, no Flask, no sign-in, no session, no database of the app), the FTS5 index that
bench/run.py's fts5 phase built (bench/fts5.py: the app's field weights), and per request
a `count(*)` and the top 10 by BM25 with `snippet()`, in a small Jinja page. The same
filters and page numbers as the app's search (a filter is a WHERE clause, as in fts5.py);
no facets, synonyms or spelling help. bench/run.py serves it with the same gunicorn
command and settings as the app and times the two side by side: the ratio says what the
rest of our page (sign-in, facets, partial matches, the layout) costs on top of the engine.

Not a Flask app: a minimal service has none of it. bench/run.py serves it (and the FTS5
page served by the app) with EVERY_SEAT_BACKGROUND=separate, so that gunicorn.conf.py starts
no background process beside it: the app's server keeps the index both read.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment
from markupsafe import escape
from werkzeug.wrappers import Request, Response

from .fts5 import BODY_COLUMN, PER_PAGE, WEIGHTS, Fts5Library, match_expression

FTS5_DB_ENV = "EVERY_SEAT_FTS5_DB"
FILTERS = ("seat", "setting", "tag", "dimension")
# The same words as the app's page around the count, so bench/run.py reads both alike.
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Search: {{ q }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main>
<form method="get" action="/search" role="search"><label for="q">Search the case library</label>
<input type="search" id="q" name="q" value="{{ q }}" maxlength="200"><button>Search</button></form>
<p role="status">{{ total }} result{{ "" if total == 1 else "s" }}</p>
<ol start="{{ first }}">
{% for hit in hits %}<li><h2><a href="/cases/{{ hit.slug }}">{{ hit.title }}</a></h2>
<p>{{ hit.seat }}</p><p>{{ hit.snippet|safe }}</p></li>
{% endfor %}</ol>
{% if page > 1 %}<a href="?{{ args(page - 1) }}">Previous</a>{% endif %}
{% if page * per_page < total %}<a href="?{{ args(page + 1) }}">Next</a>{% endif %}
</main></body></html>
"""


class BarePage:
    """The WSGI application. One read-only connection per worker process (opened after
    the fork, on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no FTS5 index at {self.path} (bench/run.py's fts5 phase builds it)")
        self.template = Environment(autoescape=True).from_string(PAGE)
        self._local = threading.local()
        weights = ", ".join(str(w) for w in WEIGHTS)
        self._snippet = f"snippet(cases_fts, {BODY_COLUMN}, '<mark>', '</mark>', ' … ', 24)"
        self._order = f"ORDER BY bm25(cases_fts, {weights})"

    def _library(self) -> Fts5Library:
        library = getattr(self._local, "library", None)
        if library is None or self._local.pid != os.getpid():
            library = Fts5Library(self.path, read_only=True)
            self._local.library, self._local.pid = library, os.getpid()
        return library

    def search(self, text: str, filters: dict[str, str], page: int) -> tuple[int, list[dict[str, Any]]]:
        library = self._library()
        match = match_expression(text)
        where, args = library._where(match, filters)
        total = library.db.execute(f"SELECT count(*) {where}", args).fetchone()[0]
        offset = (page - 1) * PER_PAGE
        if match is None:
            sql = f"SELECT c.slug, c.title, c.seat, c.summary {where} ORDER BY c.title"
        else:
            sql = f"SELECT c.slug, c.title, c.seat, {self._snippet} {where} {self._order}"
        rows = library.db.execute(f"{sql} LIMIT {PER_PAGE} OFFSET {offset}", args).fetchall()
        hits = [
            {"slug": slug, "title": title, "seat": seat, "snippet": _marked(snippet) if match else str(escape(snippet))}
            for slug, title, seat, snippet in rows
        ]
        return total, hits

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if request.path != "/search":
            return Response("Not found", status=404)(environ, start_response)
        text = request.args.get("q", "").strip()[:200]
        filters = {name: request.args[name] for name in FILTERS if request.args.get(name)}
        page = request.args.get("page", "1")
        page = max(1, min(int(page), 1000)) if page.isdigit() else 1
        try:
            total, hits = self.search(text, filters, page)
        except sqlite3.OperationalError:
            total, hits = 0, []  # FTS5 syntax it cannot read: no results, as a plain service would say

        def args(number: int) -> str:
            return urlencode({"q": text, **filters, "page": number})

        html = self.template.render(
            q=text, total=total, hits=hits, page=page, per_page=PER_PAGE, first=(page - 1) * PER_PAGE + 1, args=args
        )
        return Response(html, mimetype="text/html")(environ, start_response)


def _marked(snippet: str) -> str:
    """snippet() marks matches in the raw text: escape the rest, keep the marks (the
    template shows it as HTML)."""
    return str(escape(snippet)).replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>")


def create_app() -> BarePage:
    path = os.environ.get(FTS5_DB_ENV)
    if not path:
        raise RuntimeError(f"set {FTS5_DB_ENV} to the FTS5 index that bench/run.py's fts5 phase built")
    return BarePage(Path(path))
