"""Each server's one indexer: it follows the search journal into the server's own index.

One pass (`Follower.step`, the same function whether the thread runs it or a test calls
it): read the journal entries after the cursor (and any still-missing ids, see gaps),
reload their cases from the database, write them to the index in one writer commit, and
only then store the cursor beside the index (SEARCH_INDEX_DIR/journal-cursor.json). A
killed indexer therefore redoes at most the pass it was in: upserts of the cases as the
database has them now, which changes nothing twice.

Election: the server's lock SEARCH_INDEX_DIR/.indexer.lock (casestudies/background/lock.py).
The server's background process runs the thread; whoever holds the lock follows, another
process (a second background process, `flask search-follow`) retries every few seconds
and takes over when the holder dies (the kernel drops its lock).

Resting: between passes the thread waits on the database watch
(casestudies/background/watch.py: SQLite's data_version, PostgreSQL's NOTIFY), so a pass
runs only when something was committed, a heartbeat or prune is due, or ids are missing.

Gaps: ids are taken when a row is inserted but become visible when its transaction
commits, so entry 41 can appear after 42 (PostgreSQL; SQLite runs one writer at a time).
An id skipped over is remembered with the time it was first missed and, on PostgreSQL,
the transaction horizon then; it is read again on every pass until it appears, or until
it is GAP_TIMEOUT old *and* every transaction that was running when it was missed has
ended (it was rolled back).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from casestudies.background.lock import ServerLock
from casestudies.background.watch import get_watch
from casestudies.extensions import db
from casestudies.indexing import journal
from casestudies.indexing.documents import all_docs, case_query, case_to_doc, chunks
from casestudies.models import Case, SearchJournal, SearchNode, utcnow
from search import MAX_BATCH_DOCS, CaseDoc, SearchIndex

log = logging.getLogger(__name__)

STATE_FILE = "journal-cursor.json"
LOCK_FILE = ".indexer.lock"
ELECTION_RETRY_S = 3.0
HEARTBEAT_S = 5.0  # while changes come
IDLE_HEARTBEAT_S = 30.0  # when nothing changes: a heartbeat wakes every loop once
PRUNE_EVERY_S = 60.0
HEARTBEAT_BUSY_MS = 500  # SQLite: how long a heartbeat waits for a writer (an import) to finish
BUSY_RETRY_S = 1.0  # then it tries again this much later
MAX_GAP_SPAN = 10_000  # ids remembered as missing at most, per pass
REBUILD_GAP_WINDOW = 1000  # after a rebuild, missing ids this close below the newest are awaited


@dataclass
class Gap:
    first_seen: float  # time.time()
    horizon: int | None  # PostgreSQL: the next transaction id when it was missed


@dataclass
class CursorState:
    cursor: int = 0
    gaps: dict[int, Gap] = field(default_factory=dict)

    @property
    def floor(self) -> int:
        """Every entry up to here is applied (or given up)."""
        return min(self.gaps) - 1 if self.gaps else self.cursor

    def to_json(self) -> str:
        gaps = {str(i): [g.first_seen, g.horizon] for i, g in sorted(self.gaps.items())}
        return json.dumps({"cursor": self.cursor, "gaps": gaps})

    @classmethod
    def from_json(cls, data: str) -> CursorState:
        raw = json.loads(data)
        gaps = {
            int(i): Gap(float(seen), None if horizon is None else int(horizon))
            for i, (seen, horizon) in raw["gaps"].items()
        }
        return cls(cursor=int(raw["cursor"]), gaps=gaps)


def read_state(directory: Path) -> CursorState | None:
    try:
        return CursorState.from_json((directory / STATE_FILE).read_text("utf-8"))
    except (FileNotFoundError, NotADirectoryError, ValueError, KeyError, TypeError):
        return None


def _write_state(directory: Path, state: CursorState) -> None:
    tmp = directory / f".{STATE_FILE}.{uuid.uuid4().hex}"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(state.to_json())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, directory / STATE_FILE)


def _horizon(session: Session) -> int | None:
    if session.get_bind().dialect.name != "postgresql":
        return None
    return int(session.scalar(text("SELECT txid_snapshot_xmax(txid_current_snapshot())")))


def _oldest_running(session: Session) -> int | None:
    if session.get_bind().dialect.name != "postgresql":
        return None
    return int(session.scalar(text("SELECT txid_snapshot_xmin(txid_current_snapshot())")))


class Follower:
    """This server's indexer. One per app; its thread is started by start()."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.index: SearchIndex = app.extensions["search_index"]
        self.directory = Path(app.config["SEARCH_INDEX_DIR"])
        self.name: str = app.config["SEARCH_NODE_NAME"]
        self.poll_s = float(app.config["SEARCH_POLL_SECONDS"])
        self.gap_timeout_s = float(app.config["SEARCH_GAP_TIMEOUT_SECONDS"])
        self.retention = timedelta(hours=float(app.config["SEARCH_JOURNAL_RETENTION_HOURS"]))
        self._step_lock = threading.Lock()
        self._lock = ServerLock(self.directory / LOCK_FILE)
        self._state: CursorState | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._last_heartbeat = 0.0
        self._busy_until = 0.0  # a heartbeat put off by a busy database waits until then
        self.progress: Callable[[int], None] | None = None  # told of each case a rebuild indexes
        self._last_prune = time.monotonic()  # the first prune a minute after start

    # -- election ------------------------------------------------------------------------
    @property
    def leads(self) -> bool:
        return self._lock.held

    def try_lead(self) -> bool:
        """Take this index directory's indexer lock if no other process holds it."""
        if self._lock.held:
            return True
        if not self._lock.acquire():
            return False
        self._state = None  # read again from the file
        return True

    def resign(self) -> None:
        with self._step_lock:
            self._lock.release()
            self._state = None

    # -- one pass --------------------------------------------------------------------------
    def step(self) -> int:
        """One pass, as the leader: returns how many journal entries it applied (or the
        cases a rebuild indexed); 0 when there was nothing to do."""
        if not self._lock.held:
            raise RuntimeError("step() needs the indexer lock: call try_lead() first")
        with self._step_lock, self.app.app_context(), Session(db.engine) as session:
            try:
                return self._step(session)
            except Exception as exc:
                session.rollback()
                self._record_error(session, exc)
                raise

    def _step(self, session: Session) -> int:
        node = self._node(session)
        state = self._state or read_state(self.directory)
        newest = session.scalar(select(func.max(SearchJournal.id))) or 0
        reason = None
        if state is None:
            reason = "no journal cursor beside the index"
        elif not self.index.is_usable():
            reason = "the index is missing or unreadable"
        elif node.rebuild_requested_at is not None:
            reason = "a rebuild was requested (reindex, or the journal was pruned past this server)"
        elif newest < state.cursor:
            reason = "the journal is behind this index (a restored database?)"
        if reason is not None:
            return self._rebuild(session, node, newest, reason)
        assert state is not None  # noqa: S101 - narrowed above for the type checker
        self._state = state
        applied = self._follow(session, state)
        now = time.monotonic()
        beat = (applied or now - self._last_heartbeat >= HEARTBEAT_S) and now >= self._busy_until
        if beat and not self._unless_busy(session, "heartbeat", lambda: self._heartbeat(session)):
            self._busy_until = now + BUSY_RETRY_S  # not at every pass of an import

        if now - self._last_prune >= PRUNE_EVERY_S:
            self._last_prune = now
            self._unless_busy(session, "journal prune", lambda: prune_journal(session, self.retention))
        return applied

    def _unless_busy(self, session: Session, what: str, write: Callable[[], object]) -> bool:
        """Bookkeeping writes (heartbeat, prune) wait a short while for a writer such as a
        large import, then give way (False): a later pass tries again. Not an error."""
        sqlite = session.get_bind().dialect.name == "sqlite"
        raw = session.connection().connection.driver_connection if sqlite else None
        previous = raw.execute("PRAGMA busy_timeout").fetchone()[0] if raw is not None else None
        if raw is not None:
            raw.execute(f"PRAGMA busy_timeout={HEARTBEAT_BUSY_MS}")
        try:
            write()
            return True
        except OperationalError as exc:
            session.rollback()
            if "locked" not in str(exc.orig):
                raise
            log.info("search indexer %s: %s put off, the database is busy", self.name, what)
            return False
        finally:
            if raw is not None:
                raw.execute(f"PRAGMA busy_timeout={int(previous)}")

    def _follow(self, session: Session, state: CursorState) -> int:
        rows = session.execute(
            select(SearchJournal.id, SearchJournal.case_id)
            .where(SearchJournal.id > state.cursor)
            .order_by(SearchJournal.id)
            .limit(MAX_BATCH_DOCS)
        ).all()
        waiting = sorted(state.gaps)[:1000]
        filled = (
            session.execute(select(SearchJournal.id, SearchJournal.case_id).where(SearchJournal.id.in_(waiting))).all()
            if waiting
            else []
        )
        now = time.time()
        gaps = dict(state.gaps)
        changed = False
        if rows or filled:
            for row in filled:
                gaps.pop(row.id, None)
            new_cursor = rows[-1].id if rows else state.cursor
            present = {row.id for row in rows}
            span = range(max(state.cursor + 1, new_cursor - MAX_GAP_SPAN), new_cursor)
            missing = [i for i in span if i not in present]
            if missing:
                horizon = _horizon(session)
                for i in missing:
                    gaps[i] = Gap(now, horizon)
            self._apply(session, sorted({row.case_id for row in rows} | {row.case_id for row in filled}))
            state = CursorState(new_cursor, gaps)
            changed = True
        expired = [i for i, gap in gaps.items() if now - gap.first_seen > self.gap_timeout_s]
        if expired:
            oldest = _oldest_running(session)
            expired = [i for i in expired if oldest is None or gaps[i].horizon is None or oldest >= gaps[i].horizon]
            for i in expired:
                del gaps[i]
            if expired:
                log.warning("search journal: gave up waiting for entries %s (rolled back)", expired[:20])
                state = CursorState(state.cursor, gaps)
                changed = True
        if changed:
            # Only now, after the index commit: a crash before this line redoes the pass.
            _write_state(self.directory, state)
            self._state = state
        return len(rows) + len(filled)

    def _apply(self, session: Session, case_ids: list[int]) -> None:
        for batch_ids in chunks(case_ids, MAX_BATCH_DOCS):
            with self.index.writing(expected=len(batch_ids)) as batch:
                # Read under the index write lock, so the newest state is what gets written.
                found: set[int] = set()
                for chunk in chunks(batch_ids):
                    for case in session.scalars(case_query().where(Case.id.in_(chunk))):
                        batch.upsert(case_to_doc(case))
                        found.add(case.id)
                    session.expunge_all()
                for case_id in set(batch_ids) - found:
                    batch.delete(case_id)
            session.rollback()  # end the read transaction: the next pass sees new commits

    def _rebuild(self, session: Session, node: SearchNode, newest: int, reason: str) -> int:
        log.warning("search index %s: rebuilding it from the database (%s)", self.directory, reason)
        requested = node.rebuild_requested_at
        # The journal position first, then the cases: a change committed in between is in
        # the documents and after the cursor, so it is applied again (harmless).
        low = session.scalar(select(func.min(SearchJournal.id))) or 0
        window = max(low, newest - REBUILD_GAP_WINDOW)
        present = set(session.scalars(select(SearchJournal.id).where(SearchJournal.id > window)))
        horizon = _horizon(session)
        now = time.time()
        state = CursorState(newest, {i: Gap(now, horizon) for i in range(window + 1, newest) if i not in present})
        session.rollback()
        count = self.index.rebuild(self._counted(all_docs(session))) or 0
        session.rollback()
        _write_state(self.directory, state)
        self._state = state
        values: dict[str, Any] = {"last_rebuild_at": utcnow()}
        session.execute(update(SearchNode).where(SearchNode.name == self.name).values(**values))
        if requested is not None:
            # Only the request seen: one made during the rebuild is honoured next pass.
            session.execute(
                update(SearchNode)
                .where(SearchNode.name == self.name, SearchNode.rebuild_requested_at <= requested)
                .values(rebuild_requested_at=None)
            )
        session.commit()
        self._heartbeat(session)
        log.warning("search index %s rebuilt with %d cases", self.directory, count)
        return max(count, 1)

    def _counted(self, docs: Iterable[CaseDoc]) -> Iterator[CaseDoc]:
        for doc in docs:
            yield doc
            if self.progress is not None:
                self.progress(1)

    # -- this server in search_node --------------------------------------------------------
    def _node(self, session: Session) -> SearchNode:
        node = session.get(SearchNode, self.name)
        if node is None:
            node = SearchNode(name=self.name, index_dir=str(self.directory), heartbeat_at=utcnow())
            session.add(node)
            session.commit()
        return node

    def _heartbeat(self, session: Session) -> None:
        state = self._state or CursorState()
        pending = session.execute(
            select(func.count(), func.min(SearchJournal.created_at)).where(SearchJournal.id > state.cursor)
        ).one()
        now = utcnow()
        lag_s = (now - pending[1]).total_seconds() if pending[1] is not None else 0.0
        session.execute(
            update(SearchNode)
            .where(SearchNode.name == self.name)
            .values(
                index_dir=str(self.directory),
                cursor=state.cursor,
                floor=state.floor,
                lag_entries=int(pending[0]) + len(state.gaps),
                lag_seconds=max(lag_s, 0.0),
                heartbeat_at=now,
            )
        )
        session.commit()
        self._last_heartbeat = time.monotonic()

    def _record_error(self, session: Session, exc: Exception) -> None:
        with contextlib.suppress(Exception):
            session.execute(
                update(SearchNode)
                .where(SearchNode.name == self.name)
                .values(last_error=f"{type(exc).__name__}: {exc}"[:2000], last_error_at=utcnow())
            )
            session.commit()

    # -- catching up (tests, commands) -------------------------------------------------------
    def catch_up(self, timeout: float = 60.0) -> None:
        """Bring this server's index up to every journal entry committed before the call.
        As the leader (or when no other process leads): run passes here. Otherwise wait
        for the process that leads."""
        deadline = time.monotonic() + timeout
        with self.app.app_context():
            target = db.session.scalar(select(func.max(SearchJournal.id))) or 0
            db.session.rollback()
        took = False
        if not self.leads:
            took = self.try_lead()
        try:
            if self.leads:
                while True:
                    # A pass that found nothing new also found every missing id that has
                    # committed since: what is still missing was not committed at the call.
                    applied = self.step()
                    state = self._state
                    if not applied and state is not None and state.cursor >= target:
                        return
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"search index not caught up with journal entry {target}")
            else:
                while True:
                    state = read_state(self.directory)
                    if state is not None and state.cursor >= target and not self._committed_gaps(state, target):
                        return
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"search index not caught up with journal entry {target}")
                    time.sleep(0.05)
        finally:
            if took and self._thread is None:
                self.resign()

    def _committed_gaps(self, state: CursorState, target: int) -> bool:
        waiting = [i for i in state.gaps if i <= target][:1000]
        if not waiting:
            return False
        with self.app.app_context():
            found = db.session.scalar(select(func.count()).where(SearchJournal.id.in_(waiting)))
            db.session.rollback()
        return bool(found)

    # -- the thread --------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name=f"search-indexer {self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        journal.committed.set()
        get_watch(self.app).close()  # wakes the thread; a later wait opens it again
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.resign()

    def run(self) -> None:
        """Lead when possible, then follow until stopped (the thread's body; also the
        foreground loop of `flask search-follow`)."""
        failures = 0
        watch = get_watch(self.app)
        while not self._stop.is_set():
            if not self.try_lead():
                self._stop.wait(ELECTION_RETRY_S)
                continue
            # Taken before the pass: whatever commits from here on wakes the next one.
            token = watch.token()
            try:
                applied = self.step()
                failures = 0
            except Exception:
                failures += 1
                log.exception("search indexer %s: pass failed; retrying", self.name)
                self._stop.wait(min(30.0, 0.5 * 2**failures))
                continue
            if not applied:
                self._wait(token)

    def _wait(self, token: int) -> None:
        """Until a pass has something to do: a commit anywhere since `token` (the database
        watch), a heartbeat or prune due, or ids still missing (then poll as before)."""
        watch = get_watch(self.app)
        while not self._stop.is_set():
            if journal.committed.is_set():  # a commit in this process
                journal.committed.clear()
                return
            if self._state is not None and self._state.gaps:
                self._stop.wait(self.poll_s)
                return
            now = time.monotonic()
            due = min(self._last_heartbeat + IDLE_HEARTBEAT_S, self._last_prune + PRUNE_EVERY_S) - now
            if due <= 0 or watch.wait(token, min(due, 5.0)):
                return


# -- pruning ---------------------------------------------------------------------------------
def prune_journal(session: Session, retention: timedelta) -> int:
    """Delete the entries every known server has applied, and any older than retention
    (never the newest: it keeps the id sequence's position visible). A server whose
    floor is below a pruned entry is asked to rebuild. Returns how many were deleted."""
    newest = session.scalar(select(func.max(SearchJournal.id)))
    if newest is None:
        return 0
    floor = session.scalar(select(func.min(SearchNode.floor))) or 0
    old = utcnow() - retention
    prunable = or_(SearchJournal.id <= floor, SearchJournal.created_at < old) & (SearchJournal.id < newest)
    through = session.scalar(select(func.max(SearchJournal.id)).where(prunable))
    if through is None:
        return 0
    deleted = session.execute(delete(SearchJournal).where(prunable)).rowcount or 0
    session.execute(
        update(SearchNode)
        .where(SearchNode.floor < through, SearchNode.rebuild_requested_at.is_(None))
        .values(rebuild_requested_at=utcnow())
    )
    session.commit()
    if deleted:
        log.info("search journal: pruned %d entries (through %d)", deleted, through)
    return deleted
