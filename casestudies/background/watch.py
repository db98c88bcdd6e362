"""Whether anything was committed to the database since a moment, answered without a query.

The background process's loops (the search indexer, the job runner) wait on this instead
of querying the database every tenth of a second, so an idle server rests:
- SQLite: `PRAGMA data_version` on a connection of its own changes whenever another
  connection commits (a few microseconds; no table is read).
- PostgreSQL: a connection of its own LISTENs on the journal's and the job queue's
  channels; a change sends NOTIFY in its transaction, delivered at commit.
Where neither works (the LISTEN connection is lost, another database), every check says
"changed", which is the old behaviour: a real pass each time.
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

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._lock = threading.Lock()
        self._connection: Any = None
        self._value = 0
        self._checked_at = 0.0
        self._retry_at = 0.0

    def token(self) -> int:
        with self._lock:
            return self._check()

    def changed(self, token: int) -> bool:
        with self._lock:
            return self._check() != token

    def close(self) -> None:
        with self._lock:
            self._close()

    # -- under the lock ---------------------------------------------------------------------
    def _check(self) -> int:
        now = time.monotonic()
        if now - self._checked_at < MIN_CHECK_S:
            return self._value
        self._checked_at = now
        try:
            if self.dialect == "sqlite":
                self._value = self._sqlite_version()
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
    """This process's watch on the app's database (one, shared by its loops)."""
    watch = app.extensions.get("database_watch")
    if watch is None:
        from casestudies.extensions import db

        with app.app_context():
            watch = app.extensions.setdefault("database_watch", DatabaseWatch(db.engine))
    return watch
