"""Health-service acronyms and synonyms (search/synonyms.txt), applied at query time in
both directions. Editing the file needs no reindex: documents are indexed as written,
and a query for any member of a group also looks for every other member."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SYNONYMS_FILE = Path(__file__).with_name("synonyms.txt")


@dataclass(frozen=True)
class SynonymGroup:
    line: int
    expressions: tuple[str, ...]


def read_groups(path: Path = SYNONYMS_FILE) -> list[SynonymGroup]:
    groups = []
    for number, raw in enumerate(path.read_text("utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        expressions = tuple(part.strip() for part in line.split(" = ") if part.strip())
        if len(expressions) >= 2:
            groups.append(SynonymGroup(number, expressions))
    return groups


class SynonymTable:
    """Maps the analysed terms of each expression to its whole group."""

    def __init__(self, groups: list[SynonymGroup], analyse: Callable[[str], list[str]]) -> None:
        self.groups = groups
        self._by_terms: dict[tuple[str, ...], int] = {}
        self._group_terms: list[list[tuple[str, ...]]] = []
        for index, group in enumerate(groups):
            expressions = []
            for expression in group.expressions:
                terms = tuple(analyse(expression))
                if terms:
                    expressions.append(terms)
                    self._by_terms.setdefault(terms, index)
            self._group_terms.append(expressions)
        self.longest = max((len(t) for t in self._by_terms), default=0)
        # Words a reader may mean though no case spells them so ("physiotherapy" when the
        # cases say "physiotherapist"): the spelling corrector may suggest them.
        self.words = frozenset(
            expression.lower()
            for group in groups
            for expression in group.expressions
            if expression.isalpha() and len(expression) > 3
        )

    def alternatives(self, terms: tuple[str, ...]) -> list[tuple[str, ...]]:
        """Every other expression (as analysed terms) equivalent to terms, or []."""
        index = self._by_terms.get(terms)
        if index is None:
            return []
        return [other for other in self._group_terms[index] if other != terms]


@lru_cache(maxsize=4)
def load_table(
    path: Path, mtime: float, analyse: Callable[[str], list[str]], extra: tuple[SynonymGroup, ...] = ()
) -> SynonymTable:
    """The file's groups, then `extra` (curators' groups from the app's database)."""
    del mtime  # part of the cache key only: a changed file is read again
    return SynonymTable([*read_groups(path), *extra], analyse)
