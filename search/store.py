"""The index on disk: generation directories, the pointer to the live one, writers, rebuilds.

Layout: SEARCH_INDEX_DIR/CURRENT names the live generation directory (`gen-...`). A
rebuild writes a new generation beside it and swaps CURRENT atomically, so searches keep
working during a rebuild and every process notices the swap. GenerationStore is not
thread-safe by itself: SearchIndex calls it holding its lock.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError
from whoosh.writing import IndexWriter

from .documents import CaseDoc
from .schema import make_schema, to_fields

CURRENT_FILE = "CURRENT"
REBUILD_LOCK_FILE = ".rebuild.lock"
WRITE_LOCK_TIMEOUT_S = 30.0
WRITE_LIMIT_MB = 128  # Whoosh's default
BULK_WRITE_DOCS, BULK_WRITE_LIMIT_MB = 1000, 512
REBUILD_LIMIT_MB = 256
# The most changes one writer should take (see SearchIndex.writing): callers with more
# split them into batches of this size, each its own segment.
MAX_BATCH_DOCS = 2000


class SearchUnavailable(RuntimeError):
    """The index cannot be opened; the caller decides whether to rebuild."""


def is_lock_error(exc: BaseException) -> bool:
    return isinstance(exc, LockError)


class IndexBatch:
    """The changes of one writer batch; see SearchIndex.writing()."""

    def __init__(self, writer: IndexWriter) -> None:
        self._writer = writer

    def upsert(self, doc: CaseDoc) -> None:
        self._writer.update_document(**to_fields(doc))

    def delete(self, case_id: int) -> None:
        self._writer.delete_by_term("id", str(case_id))


class GenerationStore:
    """The generations of one index directory, and the live one opened."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._generation: str | None = None
        self._index: whoosh_index.Index | None = None

    def current(self) -> str | None:
        """The live generation's name, as CURRENT says."""
        try:
            name = (self.directory / CURRENT_FILE).read_text("utf-8").strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return name or None

    def _point_to(self, name: str) -> None:
        tmp = self.directory / f".{CURRENT_FILE}.{uuid.uuid4().hex}"
        tmp.write_text(name + "\n", "utf-8")
        os.replace(tmp, self.directory / CURRENT_FILE)

    def open_index(self) -> whoosh_index.Index:
        """The live index, reopened when another process swapped generations (callers
        compare it with the one they hold to know)."""
        name = self.current()
        if name is None:
            raise SearchUnavailable(f"no search index in {self.directory}")
        if self._index is None or name != self._generation:
            try:
                # Read with plain file reads, not mmap: a mapped index counts in full in
                # each worker's resident memory, for searches only a little faster.
                index = FileStorage(str(self.directory / name), supports_mmap=False).open_index()
            except Exception as exc:  # whoosh raises many kinds for a damaged directory
                raise SearchUnavailable(f"search index {self.directory / name} unreadable: {exc}") from exc
            self._index, self._generation = index, name
        return self._index

    def forget(self) -> None:
        """Drop the opened index: the next open_index() opens the live one afresh."""
        self._index = None
        self._generation = None

    @contextmanager
    def writer(self, expected: int) -> Iterator[IndexBatch]:
        """One writer, one commit, for a batch of about `expected` changes; nothing is
        committed if the block raises. Blocks for Whoosh's write lock for up to
        WRITE_LOCK_TIMEOUT_S, then raises LockError."""
        index = self.open_index()
        # A bulk batch (an import, in batches of MAX_BATCH_DOCS) keeps its postings in
        # memory until the commit sorts them, and becomes a segment of its own without
        # merging the others, where one writer for all of them would spill sorted runs
        # to disk and merge them back. One process: a killed import must not leave
        # worker processes holding the index lock.
        bulk = expected >= BULK_WRITE_DOCS
        limitmb = BULK_WRITE_LIMIT_MB if bulk else WRITE_LIMIT_MB
        writer = index.writer(timeout=WRITE_LOCK_TIMEOUT_S, delay=0.02, limitmb=limitmb)
        try:
            yield IndexBatch(writer)
        except BaseException:
            writer.cancel()
            raise
        # Small commits merge small segments as Whoosh's default policy says.
        writer.commit(merge=not bulk)

    @contextmanager
    def rebuild_lock(self) -> Iterator[None]:
        """One rebuild at a time across processes (gunicorn workers start together)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / REBUILD_LOCK_FILE, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def build_generation(self, docs: Iterable[CaseDoc]) -> tuple[str, int]:
        """A new generation directory holding docs, not yet live: (its name, the count).
        Nothing is left behind if reading docs raises."""
        name = f"gen-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        (self.directory / name).mkdir(parents=True)
        index = whoosh_index.create_in(str(self.directory / name), make_schema())
        writer = index.writer(limitmb=REBUILD_LIMIT_MB)
        count = 0
        try:
            for doc in docs:
                writer.add_document(**to_fields(doc))
                count += 1
        except BaseException:
            writer.cancel()
            shutil.rmtree(self.directory / name, ignore_errors=True)
            raise
        writer.commit()
        return name, count

    def make_live(self, name: str) -> None:
        """Point CURRENT at generation name and remove older generations, keeping the one
        just replaced one round: another process may still read it."""
        old = self.current()
        self._point_to(name)
        self.forget()
        keep = {name, old} if old else {name}
        for child in self.directory.glob("gen-*"):
            if child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)
