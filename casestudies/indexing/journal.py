"""Writing the search journal: one row per changed case, in the transaction of the change.

A SQLAlchemy `after_flush` listener sees what each flush wrote (a case, its questions, a
renamed or deleted tag) and inserts a SearchJournal row per affected case on the same
connection, so a rollback leaves no row and a commit always leaves one. Not mapper events
(they fire per object) and not `before_commit` (objects flushed earlier would be missed).
On PostgreSQL the same transaction sends NOTIFY, delivered at its commit, to wake the
indexers; elsewhere they poll.
"""

from __future__ import annotations

import threading

from sqlalchemy import event, insert, inspect, select, text
from sqlalchemy.orm import Session, SessionTransaction

from casestudies.extensions import db
from casestudies.models import Case, Question, SearchJournal, Tag, case_tag

CHANNEL = "search_journal"
_JOURNALED = "search_journaled"  # session.info key: (case id, removed) already written this transaction

# Set after a commit that wrote journal rows: wakes an indexer thread in this process at once.
committed = threading.Event()


def _tag_renamed_or_deleted(session: Session, tag: Tag) -> bool:
    """Only a renamed or deleted tag changes the cases that carry it. A tag is also dirty
    when a case merely gained or lost it (the backref of Case.tags): that case is journaled
    itself, and journaling every other case with the tag made an import of N cases write
    O(N²) rows (found by the benchmark, issue 7)."""
    if tag in session.new:
        return False
    return tag in session.deleted or session.is_modified(tag, include_collections=False)


# A case's columns that are no part of its search document: a pending change (a new
# revision number and its state) leaves what learners read, and so the index, alone.
_BOOKKEEPING = frozenset({"version", "live_revision_number", "pending_revision_number", "pending_status", "updated_at"})


def _document_may_change(case: Case) -> bool:
    state = inspect(case)
    return any(attr.key not in _BOOKKEEPING and attr.history.has_changes() for attr in state.attrs)


def affected_cases(session: Session) -> dict[int, bool]:
    """{case id: whether it left the index} for what this flush is writing."""
    changed: dict[int, bool] = {}
    tag_ids: list[int] = []
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Case) and obj.id is not None:
            if obj in session.dirty and obj not in session.deleted and not _document_may_change(obj):
                continue
            changed[obj.id] = obj in session.deleted or obj.deleted_at is not None
        elif isinstance(obj, Question) and obj.case_id is not None:
            changed.setdefault(obj.case_id, False)
            # A question moved away from a case (delete-orphan) still changes its old case.
            history = inspect(obj).attrs.case_id.history
            for old in history.deleted or ():
                if old is not None:
                    changed.setdefault(old, False)
        elif isinstance(obj, Tag) and obj.id is not None and _tag_renamed_or_deleted(session, obj):
            tag_ids.append(obj.id)
    if tag_ids:
        # A renamed or merged tag changes the document of every case that carries it.
        rows = session.connection().execute(select(case_tag.c.case_id).where(case_tag.c.tag_id.in_(tag_ids)))
        for (case_id,) in rows:
            changed.setdefault(case_id, False)
    return changed


def _journal_after_flush(session: Session, _flush_context: object) -> None:
    changed = affected_cases(session)
    done: set[tuple[int, bool]] = session.info.setdefault(_JOURNALED, set())
    rows = [{"case_id": i, "is_removed": r} for i, r in sorted(changed.items()) if (i, r) not in done]
    if not rows:
        return
    connection = session.connection()
    connection.execute(insert(SearchJournal), rows)
    done.update((row["case_id"], row["is_removed"]) for row in rows)
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    # The transaction's end, or a savepoint's (not the inner ones each flush opens): a
    # rolled-back savepoint took its rows with it, so the next flush writes them again; a
    # duplicate entry costs one more upsert, nothing else.
    if transaction.parent is None or transaction.nested:
        session.info.pop(_JOURNALED, None)


def _after_commit(session: Session) -> None:
    committed.set()


def init_app() -> None:
    # db.session is a scoped_session; listening on it covers every session it creates.
    # The indexer reads with sessions of its own, which write no journal.
    if not event.contains(db.session, "after_flush", _journal_after_flush):
        event.listen(db.session, "after_flush", _journal_after_flush)
        event.listen(db.session, "after_transaction_end", _transaction_ended)
        event.listen(db.session, "after_commit", _after_commit)
