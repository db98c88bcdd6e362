"""The one module that reads Whoosh's private names, checked against the pinned Whoosh.

The engine's own BM25F scoring (search/scoring.py) reads a term's postings a block at a
time and a segment's field lengths in one read. Whoosh has no public interface for
either, so this module reads W3LeafMatcher's block state, the per-document lengths
column and BM25F's per-field B, and nothing else in search/ may touch a private Whoosh
name (tests/test_search_fence.py checks that).

Importing this module checks that the installed Whoosh is the pinned one
(whoosh-reloaded==2.7.5, requirements.txt) and that every private name read here exists
on the objects of a tiny in-memory index, and raises WhooshMismatch otherwise: the app
imports search at start-up, so another Whoosh stops it there instead of scoring wrongly.
"""

from __future__ import annotations

import bisect
import importlib.metadata
from collections.abc import Iterator

import whoosh
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.fields import TEXT, Schema
from whoosh.filedb.filestore import RamStorage
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import IndexReader
from whoosh.scoring import BM25F

PINNED_DISTRIBUTION = "whoosh-reloaded"
PINNED_VERSION = "2.7.5"

# The private names read below, by the kind of object that has them.
LEAF_MATCHER_NAMES = ("_maxid", "_ids", "_weights", "_values", "_next_block")
SEGMENT_READER_NAMES = ("_perdoc",)
PER_DOC_READER_NAMES = ("_cached_reader",)
COLUMN_READER_NAMES = ("_dbfile", "_basepos", "_fixedlen", "_count")
BM25F_NAMES = ("_field_B",)

# (document numbers, weights, values) of one block of postings.
PostingBlock = tuple[tuple[int, ...], object, tuple[object, ...]]


class _MemoryOnlyStorage(RamStorage):
    """A RamStorage whose writers keep their temporary files in memory too. Whoosh's
    RamStorage puts them in $TMPDIR/MAIN.tmp, one folder for every process on the
    machine, and a writer finishing removes every file in it, another's included."""

    def temp_storage(self, name: str | None = None) -> RamStorage:
        return RamStorage()


class WhooshMismatch(RuntimeError):
    """The installed Whoosh is not the one search/whoosh_internals.py was written against."""


def leaf_postings(segment: IndexReader, field: str, text: bytes) -> W3LeafMatcher | None:
    """The on-disk posting list of a term in one segment, deleted documents included
    (callers drop them with their set of live documents), or None where the postings
    are not a whoosh3 block list (then callers score with Whoosh's own matcher)."""
    postings = segment.postings(field, text)
    if isinstance(postings, FilterMatcher):  # the segment's deleted documents, filtered out
        postings = postings.child
    return postings if type(postings) is W3LeafMatcher else None


def posting_blocks(
    postings: W3LeafMatcher, wanted: list[int] | None = None, *, values: bool = True
) -> Iterator[PostingBlock]:
    """(ids, weights, values) of each block of a posting list, or only of the blocks that
    may hold a document of `wanted` (sorted), known from each block's header without
    decoding it. Values (positions, unpickled per block) are () unless values is True."""
    next_wanted = 0
    while postings.is_active():
        if wanted is not None:
            if next_wanted == len(wanted):
                return
            if wanted[next_wanted] > postings._maxid:
                postings._next_block()
                continue
            next_wanted = bisect.bisect_right(wanted, postings._maxid)
        postings.id(), postings.weight()  # decodes the block's ids and weights
        if values:
            postings.value()
        yield postings._ids, postings._weights, postings._values if values else ()
        postings._next_block()


def length_bytes(segment: IndexReader, field: str) -> bytes:
    """The segment's field lengths, one byte per document in Whoosh's length encoding
    (whoosh.util.numeric.byte_to_length), read at once; b"" when the field has none."""
    column = segment._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    if column is None:
        return b""
    return column._dbfile.get(column._basepos, column._fixedlen * column._count)


def field_b(weighting: BM25F, field: str) -> float:
    """BM25F's length normalisation B for a field: its own if it was given one."""
    return weighting._field_B.get(field, weighting.B)


def _missing_names(owner: object, names: tuple[str, ...]) -> list[str]:
    return [f"{type(owner).__name__}.{name}" for name in names if not hasattr(owner, name)]


def check_installed_whoosh() -> None:
    """Raise WhooshMismatch unless Whoosh is the pinned version and every private name
    this module reads exists on real objects (a two-document index in memory)."""
    try:
        installed = importlib.metadata.version(PINNED_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        installed = "not installed"
    if installed != PINNED_VERSION or whoosh.versionstring() != PINNED_VERSION:
        raise WhooshMismatch(
            f"search needs {PINNED_DISTRIBUTION}=={PINNED_VERSION} (requirements.txt); found "
            f"{PINNED_DISTRIBUTION} {installed}, whoosh {whoosh.versionstring()}"
        )
    index = _MemoryOnlyStorage().create_index(Schema(text=TEXT()))
    with index.writer() as writer:
        writer.add_document(text="ward round")
        writer.add_document(text="ward handover")
    with index.searcher() as searcher:
        segment = searcher.reader()
        postings = segment.postings("text", b"ward")
        missing = _missing_names(postings, ("is_active", "id", "weight", "value"))
        if type(postings) is not W3LeafMatcher:
            missing.append(f"W3LeafMatcher as the posting list (got {type(postings).__name__})")
        else:
            postings.id()
            missing += _missing_names(postings, LEAF_MATCHER_NAMES)
        missing += _missing_names(segment, SEGMENT_READER_NAMES)
        perdoc = getattr(segment, "_perdoc", None)
        if perdoc is not None:
            missing += _missing_names(perdoc, PER_DOC_READER_NAMES)
            if not missing:
                column = perdoc._cached_reader(_lenfield("text"), LENGTHS_COLUMN)
                missing += _missing_names(column, COLUMN_READER_NAMES)
        missing += _missing_names(BM25F(), BM25F_NAMES)
        if not missing and len(length_bytes(segment, "text")) != segment.doc_count_all():
            missing.append("one length byte per document in the lengths column")
    if missing:
        raise WhooshMismatch(
            f"Whoosh {whoosh.versionstring()} lacks what search/whoosh_internals.py reads: " + ", ".join(missing)
        )


check_installed_whoosh()
