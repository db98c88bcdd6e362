"""Facet counts and filters: per-value document sets and bitmaps, kept per searcher."""

from __future__ import annotations

from collections.abc import Iterable

from whoosh.searching import Searcher

from .caches import BoundedCache
from .documents import FacetCount
from .schema import FACET_FIELDS, keyword_value

MAX_FACET_VALUES = 25
# Bitmaps of queries' matches: a bit per document of the index.
QUERY_BITS_CACHE_BYTES = 512 * 1024
QUERY_BITS_ENTRY_BYTES = 256


def bitmap(docs: Iterable[int]) -> int:
    """A set of document numbers as the bits of an int: facet counts become an `&` and a
    bit_count (in C) instead of a set intersection per facet value (in Python)."""
    bits = bytearray()
    for docnum in docs:
        byte = docnum >> 3
        if byte >= len(bits):
            bits.extend(bytes(byte + 1 - len(bits)))
        bits[byte] |= 1 << (docnum & 7)
    return int.from_bytes(bits, "little")


def _bitmap_bytes(bits: int) -> int:
    return bits.bit_length() // 8


class FacetSets:
    """Which documents have each status and facet value, as sets and bitmaps, read once
    per searcher. Keys are the app's statuses and FACET_FIELDS' names, never typed text,
    so those maps stay as small as the index's vocabulary of values."""

    def __init__(self, searcher: Searcher, live: frozenset[int]) -> None:
        self.searcher = searcher
        self.live = live
        self._statuses: dict[str, frozenset[int]] = {}
        self._status_bits: dict[tuple[str, ...], int] = {}
        self._facets: dict[str, dict[str, frozenset[int]]] = {}
        self._facet_bits: dict[str, dict[str, int]] = {}
        # Per facet and value: (bitmap of the documents of one status that have the value,
        # the value's spelling in one of them), one pair per status.
        self._labels: dict[str, dict[str, list[tuple[int, str]]]] = {}
        self.query_bits_cache: BoundedCache[object, int] = BoundedCache(
            QUERY_BITS_CACHE_BYTES, QUERY_BITS_ENTRY_BYTES, _bitmap_bytes
        )

    def docs(self, field: str, term: str) -> frozenset[int]:
        """The live documents whose field has term."""
        reader = self.searcher.reader()
        if (field, term) not in reader:
            return frozenset()
        return frozenset(reader.postings(field, term).all_ids()) & self.live

    def status_docs(self, statuses: Iterable[str]) -> frozenset[int]:
        docs: frozenset[int] = frozenset()
        for status in statuses:
            if status not in self._statuses:
                self._statuses[status] = self.docs("status", status)
            docs |= self._statuses[status]
        return docs

    def status_bits(self, statuses: Iterable[str]) -> int:
        key = tuple(sorted(statuses))
        if key not in self._status_bits:
            self._status_bits[key] = bitmap(self.status_docs(key))
        return self._status_bits[key]

    def facet_sets(self, name: str) -> dict[str, frozenset[int]]:
        if name not in self._facets:
            field, stored = FACET_FIELDS[name]
            reader = self.searcher.reader()
            sets: dict[str, frozenset[int]] = {}
            labels: dict[str, list[tuple[int, str]]] = {}
            statuses = list(reader.field_terms("status"))
            for key in reader.field_terms(field):
                docs = self.docs(field, key)
                if not docs:
                    continue
                sets[key] = docs
                # The display spelling, from one document of each status that has this
                # value: a reader is only ever shown a spelling from a case they may see.
                labels[key] = []
                for status in statuses:
                    own = docs & self.status_docs((status,))
                    if own:
                        values = self.searcher.stored_fields(min(own)).get(stored, "").split("\n")
                        label = next((v for v in values if keyword_value(v) == key), key)
                        labels[key].append((bitmap(own), label))
            self._facets[name], self._labels[name] = sets, labels
        return self._facets[name]

    def facet_bits(self, name: str) -> dict[str, int]:
        """facet_sets as bitmaps, for counting."""
        if name not in self._facet_bits:
            self._facet_bits[name] = {key: bitmap(docs) for key, docs in self.facet_sets(name).items()}
        return self._facet_bits[name]

    def query_bits(self, key: object, docs: Iterable[int]) -> int:
        """The bitmap of the documents matching a query (key: its query_key; docs: its
        documents, read only when the bitmap is not kept)."""
        found = self.query_bits_cache.get(key)
        return found if found is not None else self.query_bits_cache.remember(key, bitmap(docs))

    def label(self, name: str, key: str, scope: int) -> str:
        """The value's spelling in a document of scope (scope must hold one)."""
        self.facet_sets(name)
        return next((label for bits, label in self._labels[name].get(key, []) if scope & bits), key)

    def counts(self, name: str, scope: int, chosen: str | None) -> list[FacetCount]:
        """Counts per value of a facet among scope (a bitmap of documents the reader may
        see). Only values found in scope are listed, the chosen one too: a value that only
        unpublished cases have is not shown to a learner, not even with a count of 0."""
        counts = []
        for key, bits in self.facet_bits(name).items():
            count = (scope & bits).bit_count()
            if count:
                counts.append(FacetCount(self.label(name, key, scope & bits), count, key == chosen))
        counts.sort(key=lambda f: (not f.is_selected, -f.count, f.value.casefold()))
        return counts[:MAX_FACET_VALUES]
