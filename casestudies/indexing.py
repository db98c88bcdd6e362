"""Keeping the search index true to the database.

Every flush that touches a case's searchable content writes a SearchOutbox row in the
same transaction (so a rollback leaves nothing behind and a commit leaves a durable
to-do). After each commit the outbox is drained into the index in one writer batch. A
failed index write never fails the request: the rows stay and are retried after the
next commit, at start-up, or by `reindex`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from flask import Flask, current_app, has_app_context
from sqlalchemy import delete, event, insert, inspect, select
from sqlalchemy.orm import Session, selectinload

from casestudies.extensions import db
from casestudies.markdown import markdown_to_text
from casestudies.models import Case, Question, SearchOutbox, Tag, case_tag
from search import MAX_BATCH_DOCS, CaseDoc, CheckReport, SearchIndex, SynonymGroup, read_groups

log = logging.getLogger(__name__)
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


def _case_query():
    """Cases that belong in the index: every status, but nothing in the bin."""
    return (
        select(Case)
        .where(~Case.is_deleted)
        .options(selectinload(Case.tags), selectinload(Case.dimensions), selectinload(Case.questions))
    )


# -- collecting changes ------------------------------------------------------------------
def _tag_renamed_or_deleted(session: Session, tag: Tag) -> bool:
    """Only a renamed or deleted tag changes the cases that carry it. A tag is also dirty
    when a case merely gained or lost it (the backref of Case.tags): that case is queued
    itself, and queueing every other case with the tag made an import of N cases write
    O(N²) outbox rows (found by the benchmark, issue 7)."""
    if tag in session.new:
        return False
    return tag in session.deleted or session.is_modified(tag, include_collections=False)


def _affected_case_ids(session: Session) -> set[int]:
    ids: set[int] = set()
    tag_ids: list[int] = []
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Case) and obj.id is not None:
            ids.add(obj.id)
        elif isinstance(obj, Question) and obj.case_id is not None:
            ids.add(obj.case_id)
            # A question moved away from a case (delete-orphan) still changes its old case.
            history = inspect(obj).attrs.case_id.history
            ids.update(i for i in history.deleted or () if i is not None)
        elif isinstance(obj, Tag) and obj.id is not None and _tag_renamed_or_deleted(session, obj):
            tag_ids.append(obj.id)
    if tag_ids:
        # A renamed or merged tag changes the document of every case that carries it.
        rows = session.connection().execute(select(case_tag.c.case_id).where(case_tag.c.tag_id.in_(tag_ids)))
        ids.update(row[0] for row in rows)
    return ids


def _queue_after_flush(session: Session, _flush_context: object) -> None:
    ids = _affected_case_ids(session)
    if ids:
        session.connection().execute(insert(SearchOutbox), [{"case_id": i} for i in sorted(ids)])


def _drain_after_commit(_session: Session) -> None:
    if has_app_context():
        drain_outbox(current_app._get_current_object())  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    """Register the outbox listeners on the app's session and open (or rebuild) the index."""
    app.extensions["search_index"] = SearchIndex(app.config["SEARCH_INDEX_DIR"])
    # db.session is a scoped_session; listening on it covers every session it creates.
    if not event.contains(db.session, "after_flush", _queue_after_flush):
        event.listen(db.session, "after_flush", _queue_after_flush)
        event.listen(db.session, "after_commit", _drain_after_commit)


# -- applying changes --------------------------------------------------------------------
def _chunks(values: list[int], size: int = ID_CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def drain_outbox(app: Flask) -> int:
    """Apply every queued change to the index. Returns how many cases were written.

    Runs in its own session: the caller's session has just committed and may not emit
    SQL inside after_commit. Never raises: a failure is logged and the rows stay queued.
    """
    index: SearchIndex = app.extensions["search_index"]
    try:
        with Session(db.engines[None]) as session:
            rows = session.execute(select(SearchOutbox.id, SearchOutbox.case_id)).all()
            if not rows:
                return 0
            case_ids = sorted({case_id for _, case_id in rows})
            # A large import is written in batches, each one commit of the index. If the
            # process dies between them, the rows below are still queued, and replaying
            # them rewrites what was already written (an upsert), so nothing is lost.
            for batch_ids in _chunks(case_ids, MAX_BATCH_DOCS):
                with index.writing(expected=len(batch_ids)) as batch:
                    # Read under the index write lock, so the newest state is what gets written.
                    found: set[int] = set()
                    # In chunks: a large import queues more ids than one IN (...) may bind,
                    # and its cases need not all be in memory at once.
                    for chunk in _chunks(batch_ids):
                        for case in session.scalars(_case_query().where(Case.id.in_(chunk))):
                            batch.upsert(case_to_doc(case))
                            found.add(case.id)
                        session.expunge_all()
                    for case_id in set(batch_ids) - found:
                        batch.delete(case_id)
            for chunk in _chunks([row_id for row_id, _ in rows]):
                session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_(chunk)))
            session.commit()
            return len(case_ids)
    except Exception:
        log.exception("search index update failed; the changes stay queued and will be retried")
        return 0


def all_docs(session: Session | None = None) -> Iterable[CaseDoc]:
    session = session or db.session
    for case in session.scalars(_case_query().order_by(Case.id)):
        yield case_to_doc(case)


def rebuild_index(*, only_if_unusable: bool = False) -> int | None:
    """Build a new index from the database and swap it in. Queued changes are covered.
    Returns the number of cases indexed (None if only_if_unusable and nothing was needed)."""
    index = get_search_index()
    with Session(db.engines[None]) as session:
        queued = list(session.scalars(select(SearchOutbox.id)))
        count = index.rebuild(all_docs(session), only_if_unusable=only_if_unusable)
        if count is not None:
            session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_(queued)))
            session.commit()
    return count


def check_index() -> CheckReport:
    expected = {doc.id: doc.fingerprint for doc in all_docs()}
    return get_search_index().check(expected)


def ensure_index(app: Flask) -> None:
    """At start-up: rebuild a missing or unreadable index, then replay queued changes."""
    if not inspect(db.engine).has_table(SearchOutbox.__tablename__):
        return  # no database yet: init-db will come first
    index: SearchIndex = app.extensions["search_index"]
    if not index.is_usable():
        log.warning("search index missing or unreadable in %s: rebuilding it from the database", index.directory)
        count = rebuild_index(only_if_unusable=True)
        if count is not None:
            log.warning("search index rebuilt with %d cases", count)
    drain_outbox(app)
