"""One holder per server: the election the search indexer and the job runner share.

A non-blocking, exclusive flock on a file in the server's own folder (SEARCH_INDEX_DIR
for the indexer, JOBS_DIR for the job runner). Whoever takes it does the work; another
process that tries meanwhile is refused and tries again later. The kernel drops the lock
when its holder exits, `kill -9` included, so nothing stale is ever left to clean up.
"""

from __future__ import annotations

import fcntl
import threading
from pathlib import Path
from typing import IO


class ServerLock:
    """This server's one `<role>` lock. `acquire()` never waits: True if this object now
    holds it (or held it already)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[bytes] | None = None
        self._mutex = threading.Lock()

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> bool:
        with self._mutex:
            if self._handle is not None:
                return True
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path, "a+b")  # noqa: SIM115 - kept open while the lock is held
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return False
            self._handle = handle
            return True

    def release(self) -> None:
        with self._mutex:
            if self._handle is not None:
                fcntl.flock(self._handle, fcntl.LOCK_UN)
                self._handle.close()
                self._handle = None
