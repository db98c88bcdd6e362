"""The baseline: the same cases in a plain SQLite FTS5 index, searched the plain way.

BM25 with the app's field weights, snippet() for the page's highlights, the total by
count(*) and facet counts by GROUP BY (each facet among the matches of every *other*
filter, as the app counts them). No synonyms and no spelling help: what a straightforward
FTS5 search page would do. The same Query objects as the app's, run in process.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from casestudies.markdown import markdown_to_text
from casestudies.transfer.casefile import CaseData

from .queries import Query

PER_PAGE = 10
MAX_FACET_VALUES = 25
# Column order of the FTS table and the app's field weights (search/query.py FIELD_BOOSTS).
COLUMNS = ("title", "seat", "summary", "tags", "setting", "dimensions", "questions", "body")
WEIGHTS = (8.0, 8.0, 4.0, 4.0, 2.5, 2.5, 1.2, 1.0)
BODY_COLUMN = COLUMNS.index("body")
SUMMARY_COLUMN = COLUMNS.index("summary")
_PHRASE_OR_WORD = re.compile(r'"([^"]*)"|(\S+)')
_WORD = re.compile(r"\w+(?:[&.]\w+)*")

SCHEMA = f"""
CREATE TABLE cases (
    id INTEGER PRIMARY KEY, slug TEXT NOT NULL, title TEXT NOT NULL, summary TEXT NOT NULL,
    seat TEXT NOT NULL, setting TEXT, status TEXT NOT NULL, updated TEXT
);
CREATE TABLE case_tags (case_id INTEGER NOT NULL, tag TEXT NOT NULL COLLATE NOCASE);
CREATE TABLE case_dimensions (case_id INTEGER NOT NULL, dimension TEXT NOT NULL COLLATE NOCASE);
CREATE INDEX case_tags_tag ON case_tags (tag, case_id);
CREATE INDEX case_tags_case ON case_tags (case_id);
CREATE INDEX case_dimensions_dimension ON case_dimensions (dimension, case_id);
CREATE INDEX case_dimensions_case ON case_dimensions (case_id);
CREATE VIRTUAL TABLE cases_fts USING fts5({", ".join(COLUMNS)}, tokenize = 'porter unicode61');
"""


INSERT_FTS = f"INSERT INTO cases_fts (rowid, {', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608


def match_expression(text: str, joiner: str = "AND") -> str | None:
    """User text as an FTS5 query: every word and "phrase" must match (each quoted, so
    nothing typed is FTS5 syntax), or with joiner="OR" any of them."""
    parts = []
    for phrase, bare in _PHRASE_OR_WORD.findall(text):
        words = _WORD.findall(phrase if phrase else bare)
        if words:
            parts.append('"' + " ".join(words) + '"')
    return f" {joiner} ".join(parts) or None


class Fts5Library:
    def __init__(self, path: Path, *, read_only: bool = False, any_word: bool = False) -> None:
        self.path = path
        self.joiner = "OR" if any_word else "AND"
        if read_only:  # bench/fts5_app.py: each gunicorn worker opens the index built once
            self.db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        else:
            self.db = sqlite3.connect(path, check_same_thread=False)

    def close(self) -> None:
        self.db.close()

    def build(self, cases: list[CaseData]) -> None:
        db = self.db
        db.executescript(SCHEMA)
        with db:
            for number, case in enumerate(cases, start=1):
                db.execute(
                    "INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        number,
                        case.slug,
                        case.title,
                        case.summary,
                        case.seat,
                        case.setting,
                        case.status,
                        str(case.updated),
                    ),
                )
                db.executemany("INSERT INTO case_tags VALUES (?, ?)", [(number, tag) for tag in case.tags])
                db.executemany(
                    "INSERT INTO case_dimensions VALUES (?, ?)", [(number, name) for name in case.dimensions]
                )
                db.execute(
                    INSERT_FTS,
                    (
                        number,
                        case.title,
                        case.seat,
                        case.summary,
                        "\n".join(case.tags),
                        case.setting or "",
                        "\n".join(case.dimensions),
                        "\n".join(q.text for q in case.questions),
                        markdown_to_text(case.body),
                    ),
                )
        db.execute("INSERT INTO cases_fts (cases_fts) VALUES ('optimize')")
        db.commit()

    def _where(self, match: str | None, filters: dict[str, str], skip: str | None = None) -> tuple[str, list]:
        clauses = ["c.status = 'published'"]
        args: list[object] = []
        if match is not None:
            clauses.append("cases_fts MATCH ?")
            args.append(match)
        for name, value in filters.items():
            if name == skip:
                continue
            if name in ("seat", "setting"):
                clauses.append(f"c.{name} = ? COLLATE NOCASE")
            elif name == "tag":
                clauses.append("c.id IN (SELECT case_id FROM case_tags WHERE tag = ?)")
            elif name == "dimension":
                clauses.append("c.id IN (SELECT case_id FROM case_dimensions WHERE dimension = ?)")
            else:
                continue
            args.append(value)
        source = "cases c" if match is None else "cases_fts JOIN cases c ON c.id = cases_fts.rowid"
        return f"FROM {source} WHERE {' AND '.join(clauses)}", args

    def search(self, query: Query, *, with_tags: bool = True) -> dict[str, object]:
        """One results page: hits with snippets and tags, the total, and facet counts.
        with_tags=False leaves the tags out (bench/fts5_app.py: the app's page loads each
        hit's row, tags included, from its own database)."""
        db = self.db
        match = match_expression(query.text, self.joiner)
        where, args = self._where(match, query.filters)
        total = db.execute(f"SELECT count(*) {where}", args).fetchone()[0]
        if match is None:
            page_sql = f"SELECT c.id, c.slug, c.title, c.summary, c.seat, c.summary {where} ORDER BY c.title"
        else:
            weights = ", ".join(str(w) for w in WEIGHTS)
            snippet = f"snippet(cases_fts, {BODY_COLUMN}, '<mark>', '</mark>', ' … ', 24)"
            page_sql = f"SELECT c.id, c.slug, c.title, c.summary, c.seat, {snippet} {where}"
            page_sql += f" ORDER BY bm25(cases_fts, {weights})"
        offset = (max(1, query.page) - 1) * PER_PAGE
        rows = db.execute(f"{page_sql} LIMIT {PER_PAGE} OFFSET {offset}", args).fetchall()
        ids = [row[0] for row in rows]
        tags: dict[int, list[str]] = {}
        if ids and with_tags:
            marks = ", ".join("?" * len(ids))
            rows_sql = f"SELECT case_id, tag FROM case_tags WHERE case_id IN ({marks})"  # noqa: S608
            for case_id, tag in db.execute(rows_sql, ids):
                tags.setdefault(case_id, []).append(tag)
        facets: dict[str, list[tuple[str, int]]] = {}
        for name, column, join in (
            ("seat", "c.seat", ""),
            ("setting", "c.setting", ""),
            ("tag", "t.tag", "JOIN case_tags t ON t.case_id = c.id"),
            ("dimension", "d.dimension", "JOIN case_dimensions d ON d.case_id = c.id"),
        ):
            facet_where, facet_args = self._where(match, query.filters, skip=name)
            source, condition = facet_where.split(" WHERE ", 1)
            facets[name] = db.execute(
                f"SELECT {column}, count(*) {source} {join} WHERE {condition} "
                f"GROUP BY {column} ORDER BY count(*) DESC, {column} LIMIT {MAX_FACET_VALUES}",
                facet_args,
            ).fetchall()
        hits = [
            {"id": row[0], "slug": row[1], "title": row[2], "snippet": row[5], "tags": tags.get(row[0], [])}
            for row in rows
        ]
        return {"total": total, "hits": hits, "facets": facets}
