"""Whether anything was committed to the database since a moment, answered without a query.

The background process's loops (the search indexer, the job runner) wait on this instead
of querying the database every tenth of a second, so an idle server rests:
- SQLite: `PRAGMA data_version` on a connection of its own changes whenever another
  connection commits (a few microseconds; no table is read).
- PostgreSQL: a connection of its own LISTENs on the journal's and the job queue's
  channels; a change sends NOTIFY in its transaction, delivered at commit.
Where neither works (the LISTEN connection is lost, another database), every check says
"changed", which is the old behaviour: a real pass each time.

`wait(token, timeout)` is how the loops rest: one thread of the watch checks every
`interval` while anyone waits, and wakes the waiters when the answer changes, so an idle
process makes ten cheap checks a second in all, not one per loop.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from typing import Any

from flask import Flask
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

CHANNELS = ("search_journal", "job_queue")
MIN_CHECK_S = 0.02  # checks closer together than this share one answer
LISTEN_RETRY_S = 30.0


class DatabaseWatch:
    """`token()` now, later `changed(token)`: whether a commit happened in between."""

    def __init__(self, engine: Engine, interval: float = 0.1) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.interval = interval
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._waiters = 0
        self._interrupts = 0
        self._closed = False
        self._thread: threading.Thread | None = None
        self._connection: Any = None
        self._value = 0
        self._seen: int | None = None  # SQLite: data_version as last read
        self._checked_at = 0.0
        self._retry_at = 0.0

    def token(self) -> int:
        with self._lock:
            return self._check()

    def changed(self, token: int) -> bool:
        with self._lock:
            return self._check() != token

    def wait(self, token: int, timeout: float) -> bool:
        """Block until a commit since `token` (True), `timeout` or `close()` (False)."""
        deadline = time.monotonic() + timeout
        with self._wake:
            self._closed = False  # a wait after close() opens the watch again
            if self._check() != token:
                return True
            if self._thread is None:
                self._thread = threading.Thread(target=self._poll, name="database-watch", daemon=True)
                self._thread.start()
            interrupts = self._interrupts
            self._waiters += 1
            self._wake.notify_all()  # the polling thread, if it rests
            try:
                while self._value == token and self._interrupts == interrupts:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._wake.wait(remaining)
                return self._value != token
            finally:
                self._waiters -= 1

    def _poll(self) -> None:
        while True:
            with self._wake:
                while self._waiters == 0 and not self._closed:
                    self._wake.wait()
                if self._closed:
                    self._thread = None
                    return
            time.sleep(self.interval)
            with self._wake:
                if self._closed:
                    continue  # closed meanwhile: leave at the top
                before = self._value
                if self._check() != before:
                    self._wake.notify_all()

    def close(self) -> None:
        """Let go of the connection and the polling thread, and wake every waiter (a loop
        being stopped); a later wait opens them again."""
        with self._wake:
            self._closed = True
            self._interrupts += 1
            self._close()
            self._wake.notify_all()

    # -- under the lock ---------------------------------------------------------------------
    def _check(self) -> int:
        now = time.monotonic()
        if now - self._checked_at < MIN_CHECK_S:
            return self._value
        self._checked_at = now
        try:
            if self.dialect == "sqlite":
                # A count of the changes seen, not data_version itself: a new connection's
                # data_version starts again, and a token must never come round twice.
                version = self._sqlite_version()
                if version != self._seen:
                    self._seen = version
                    self._value += 1
            elif self.dialect == "postgresql" and self._listening(now):
                self._value += sum(1 for _ in self._connection.notifies(timeout=0))
            else:
                self._value += 1  # no way to tell: always "changed"
        except Exception:
            log.warning("database watch: check failed; treating it as a change", exc_info=True)
            self._close()
            self._retry_at = now + LISTEN_RETRY_S
            self._value += 1
        return self._value

    def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None

    def _sqlite_version(self) -> int:
        if self._connection is None:
            database = self.engine.url.database
            if not database or database == ":memory:":
                raise RuntimeError("an in-memory database has no other connections to watch")
            # check_same_thread off: the watch is shared by the process's threads, under its lock.
            self._connection = sqlite3.connect(database, check_same_thread=False, timeout=1.0)
            self._seen = None
        return int(self._connection.execute("PRAGMA data_version").fetchone()[0])

    def _listening(self, now: float) -> bool:
        if self._connection is not None:
            return True
        if now < self._retry_at:
            return False
        raw = self.engine.raw_connection()
        connection = raw.driver_connection
        raw.detach()  # kept out of the pool: it only listens
        connection.autocommit = True
        for channel in CHANNELS:
            connection.execute(f"LISTEN {channel}")
        self._connection = connection
        self._value += 1  # a change may have come before LISTEN: look once
        return True


def get_watch(app: Flask) -> DatabaseWatch:
    """This process's watch on the app's database (one, shared by its loops); it checks
    every SEARCH_POLL_SECONDS while a loop waits."""
    watch = app.extensions.get("database_watch")
    if watch is None:
        from casestudies.extensions import db

        with app.app_context():
            made = DatabaseWatch(db.engine, float(app.config["SEARCH_POLL_SECONDS"]))
            watch = app.extensions.setdefault("database_watch", made)
    return watch
