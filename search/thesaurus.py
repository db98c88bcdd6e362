"""The health-service leadership thesaurus (search/thesaurus.txt), applied at query time.

Where synonyms.txt says two expressions mean the same thing, the thesaurus says what a
learner's words are about: a concept with its preferred term, synonyms, broader, narrower
and related terms. A query word that is a concept's preferred term or synonym also looks
for the concept's other terms, each weighing less than the learner's own words (and less
than a synonym of synonyms.txt): the case that says "incivility" answers "bullying", but
below a case that says "bullying". Broader terms are not searched for: they are too wide
("culture" for "bullying"); they are read by people (the synonym page) only.

Format (README.md, "Search thesaurus"): blocks separated by blank lines, one field a line,
terms separated by ";".

    concept: bullying
    synonyms: intimidation; belittling
    broader: workplace culture
    narrower: sexual harassment
    related: incivility; rudeness

Editing the file needs no reindex and no restart: it is read again when its time changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

THESAURUS_FILE = Path(__file__).with_name("thesaurus.txt")
FIELDS = ("concept", "synonyms", "broader", "narrower", "related")
# How much a term found through the thesaurus counts, against 1.0 for a word typed (and
# query.SYNONYM_BOOST for an equivalent expression of synonyms.txt).
SYNONYM_WEIGHT = 0.5
NARROWER_WEIGHT = 0.4
RELATED_WEIGHT = 0.3

Terms = tuple[str, ...]


class ThesaurusError(ValueError):
    pass


@dataclass(frozen=True)
class Concept:
    line: int
    preferred: str
    synonyms: tuple[str, ...] = ()
    broader: tuple[str, ...] = ()
    narrower: tuple[str, ...] = ()
    related: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The terms that name the concept itself: a query for any of them is expanded."""
        return (self.preferred, *self.synonyms)


def _terms(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip() for part in value.split(";") if part.strip()))


def parse_concepts(text: str) -> list[Concept]:
    """The concepts of a thesaurus file's text; ThesaurusError names the line of a mistake."""
    concepts: list[Concept] = []
    block: dict[str, tuple[str, ...]] = {}
    start = 0

    def close() -> None:
        if not block:
            return
        if "concept" not in block or len(block["concept"]) != 1:
            raise ThesaurusError(f"line {start}: a block needs one 'concept:' line with one term")
        concepts.append(
            Concept(
                start,
                block["concept"][0],
                *(block.get(name, ()) for name in ("synonyms", "broader", "narrower", "related")),
            )
        )
        block.clear()

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#"):
            continue
        if not line:
            close()
            continue
        name, colon, value = line.partition(":")
        name = name.strip().lower()
        if not colon or name not in FIELDS:
            raise ThesaurusError(f"line {number}: expected one of {', '.join(FIELDS)} then ':'")
        if name in block:
            raise ThesaurusError(f"line {number}: '{name}' given twice in one concept")
        if not block:
            start = number
        block[name] = _terms(value)
    close()
    return concepts


def read_concepts(path: Path = THESAURUS_FILE) -> list[Concept]:
    return parse_concepts(path.read_text("utf-8"))


class Thesaurus:
    """Maps the analysed terms of each concept's names to the terms to look for besides."""

    def __init__(self, concepts: list[Concept], analyse: Callable[[str], list[str]]) -> None:
        self.concepts = concepts
        self._expansions: dict[Terms, dict[Terms, float]] = {}
        self._labels: dict[Terms, list[str]] = {}
        for concept in concepts:
            weighted: list[tuple[str, float]] = [
                *((name, SYNONYM_WEIGHT) for name in concept.names),
                *((term, NARROWER_WEIGHT) for term in concept.narrower),
                *((term, RELATED_WEIGHT) for term in concept.related),
            ]
            analysed = [(tuple(analyse(term)), weight, term) for term, weight in weighted]
            for name in concept.names:
                key = tuple(analyse(name))
                if not key:
                    continue
                found = self._expansions.setdefault(key, {})
                labels = self._labels.setdefault(key, [])
                for terms, weight, term in analysed:
                    if terms and terms != key and weight > found.get(terms, 0.0):
                        found[terms] = weight
                        if term not in labels:
                            labels.append(term)
        self.longest = max((len(terms) for terms in self._expansions), default=0)
        # Words a reader may type though no case uses them: never "corrected".
        self.words = frozenset(
            word.lower()
            for concept in concepts
            for term in (*concept.names, *concept.broader, *concept.narrower, *concept.related)
            for word in term.split()
            if word.isalpha() and len(word) > 3
        )

    def alternatives(self, terms: Terms) -> list[tuple[Terms, float]]:
        """(analysed terms, weight) to look for besides terms, or [] when terms name no concept."""
        return list(self._expansions.get(terms, {}).items())

    def related_terms(self, terms: Terms) -> list[str]:
        """The terms, as written in the file, that a search for terms also looks for."""
        return list(self._labels.get(terms, ()))


@lru_cache(maxsize=4)
def load_thesaurus(
    path: Path, mtime: float, analyse: Callable[[str], list[str]], extra: tuple[Concept, ...] = ()
) -> Thesaurus:
    """The file's concepts, then `extra` (curators' concepts from the app's database)."""
    del mtime  # part of the cache key only: a changed file is read again
    return Thesaurus([*read_concepts(path), *extra], analyse)
