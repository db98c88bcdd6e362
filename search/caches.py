"""Bounded caches: one kind of least-recently-used map, bounded by entries and by bytes."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import LRUCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(LRUCache, Generic[K, V]):
    """A cachetools LRUCache that forgets its least recently used entries once their
    weight passes max_bytes. Each entry weighs entry_bytes (its key and bookkeeping, so
    an entry that holds nothing still counts) plus payload_bytes(value), so the cache
    holds at most max_entries entries whatever their values."""

    def __init__(self, max_bytes: int, entry_bytes: int, payload_bytes: Callable[[V], int] | None = None) -> None:
        if entry_bytes < 1 or max_bytes < entry_bytes:
            raise ValueError("an entry weighs at least one byte, and the cache holds at least one entry")
        if payload_bytes is None:
            super().__init__(maxsize=max_bytes, getsizeof=lambda _value: entry_bytes)
        else:
            super().__init__(maxsize=max_bytes, getsizeof=lambda value: entry_bytes + payload_bytes(value))
        self.entry_bytes = entry_bytes

    @property
    def max_entries(self) -> int:
        return int(self.maxsize) // self.entry_bytes

    def remember(self, key: K, value: V) -> V:
        """value, kept under key unless it alone weighs more than the whole cache may
        (then it is returned without being kept)."""
        if self.getsizeof(value) <= self.maxsize:
            self[key] = value
        return value
