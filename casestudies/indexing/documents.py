"""Cases as search documents: the one place that turns models into CaseDocs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from casestudies.extensions import db
from casestudies.markdown import markdown_to_text
from casestudies.models import Case
from search import CaseDoc, CheckReport, SearchIndex, SynonymGroup, read_groups

ID_CHUNK = 500  # ids per IN (...): SQLite binds at most 32,766 values in one statement


def get_search_index() -> SearchIndex:
    return current_app.extensions["search_index"]


def synonym_groups() -> list[SynonymGroup]:
    """The acronym and synonym list search applies, for the curators' page."""
    return read_groups(get_search_index().synonyms_file)


def case_to_doc(case: Case) -> CaseDoc:
    return CaseDoc(
        id=case.id,
        slug=case.slug,
        title=case.title,
        summary=case.summary,
        seat=case.seat,
        setting=case.setting or "",
        body=markdown_to_text(case.body),
        status=case.status,
        dimensions=tuple(d.name for d in case.dimensions),
        tags=tuple(t.name for t in case.tags),
        questions=tuple(q.text for q in case.questions),
        updated=case.updated_on,
    )


def case_query():
    """Cases that belong in the index: every status, but nothing in the bin."""
    return (
        select(Case)
        .where(~Case.is_deleted)
        .options(selectinload(Case.tags), selectinload(Case.dimensions), selectinload(Case.questions))
    )


def chunks(values: list[int], size: int = ID_CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def all_docs(session: Session | None = None) -> Iterable[CaseDoc]:
    session = session or db.session
    for case in session.scalars(case_query().order_by(Case.id).execution_options(yield_per=500)):
        yield case_to_doc(case)


def check_index() -> CheckReport:
    """Compare this server's index with the database (search-check)."""
    expected = {doc.id: doc.fingerprint for doc in all_docs()}
    return get_search_index().check(expected)
