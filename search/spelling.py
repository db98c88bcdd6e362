""" "Did you mean": unknown words replaced by the closest words of cases the reader may see.

A word is never corrected when it is a real English word (english.is_english), a word
of the library (of any case, a draft's too: it is not a typing mistake), or a word of the
synonym table or thesaurus. Only the other words get candidates; a correction is
unmistakable when each corrected word is one edit from its correction.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

from whoosh.searching import Searcher
from whoosh.support.levenshtein import damerau_levenshtein

from .caches import BoundedCache
from .english import is_english
from .query import parse_user_query, replace_words

SPELL_FIELD = "spell"
MIN_SPELLCHECK_CHARS = 4
SPELLING_CANDIDATES = 8  # suggestions tried, in order, until one is in a visible case
SPELLING_ALPHABET = "abcdefghijklmnopqrstuvwxyz"  # letters an edit may bring in (and the word's own)
# The spelling field's words by first letter, per searcher. Typed words may start with
# any letter of any script, and each letter read is kept, so the map is bounded.
WORDS_CACHE_BYTES = 16 * 1024 * 1024
WORDS_ENTRY_BYTES = 256
WORDS_BYTES_PER_WORD = 64  # a set slot and a short string


def one_edit_away(word: str) -> set[str]:
    """Every string one Damerau-Levenshtein edit from word that keeps its first letter
    (as the corrector's prefix rule says): deletes, swaps of neighbours, changes, inserts."""
    letters = set(SPELLING_ALPHABET) | set(word)
    splits = [(word[:i], word[i:]) for i in range(1, len(word) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + c + b[1:] for a, b in splits if b for c in letters}
    edits |= {a + c + b for a, b in splits for c in letters}
    edits.discard(word)
    return edits


def _words_bytes(words: frozenset[str]) -> int:
    return WORDS_BYTES_PER_WORD * len(words)


@dataclass(frozen=True)
class SpellingCheck:
    corrected: str  # the text with its unknown words replaced
    unmistakable: bool  # every replaced word was one edit from its replacement


class Speller:
    """Spelling corrections from one searcher's spelling field."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.words_cache: BoundedCache[str, frozenset[str]] = BoundedCache(
            WORDS_CACHE_BYTES, WORDS_ENTRY_BYTES, _words_bytes
        )

    def words_starting(self, first_letter: str) -> frozenset[str]:
        """The spelling field's words that start with first_letter."""
        found = self.words_cache.get(first_letter)
        if found is None:
            reader = self.searcher.reader()
            from_bytes = self.searcher.schema[SPELL_FIELD].from_bytes
            found = frozenset(from_bytes(text) for text in reader.expand_prefix(SPELL_FIELD, first_letter))
            self.words_cache.remember(first_letter, found)
        return found

    def is_known(self, word: str, visible: frozenset[int]) -> bool:
        """Whether any of the visible documents has word: stops at the first one."""
        reader = self.searcher.reader()
        if (SPELL_FIELD, word) not in reader:
            return False
        return any(docnum in visible for docnum in reader.postings(SPELL_FIELD, word).all_ids())

    def in_library(self, word: str) -> bool:
        """Whether any indexed case, of any status, has word as written."""
        return (SPELL_FIELD, word) in self.searcher.reader()

    def candidates(self, word: str, extra: frozenset[str] = frozenset()) -> list[tuple[str, int]]:
        """(indexed word, edits) for the indexed words that start with word's letter and are
        one edit away from it, most used first; only when there are none, those two edits
        away, closest first. One edit away (a letter dropped, doubled, swapped or changed)
        is found by making each such edit and looking it up, rather than measuring the
        distance to every indexed word with that first letter."""
        words = self.words_starting(word[0])
        extra = frozenset(w for w in extra if w[0] == word[0])
        reader = self.searcher.reader()
        near = [w for w in one_edit_away(word) if w in words or w in extra]
        if near:
            ranked = sorted(near, key=lambda w: (-reader.doc_frequency(SPELL_FIELD, w), w))
            return [(w, 1) for w in ranked[:SPELLING_CANDIDATES]]
        scored = []
        for candidate in chain(words, extra - words):
            if abs(len(candidate) - len(word)) <= 2:
                distance = damerau_levenshtein(candidate, word, 2)
                if distance <= 2:
                    scored.append((distance, -reader.doc_frequency(SPELL_FIELD, candidate), candidate))
        return [(candidate, distance) for distance, _, candidate in sorted(scored)[:SPELLING_CANDIDATES]]

    def check(
        self, text: str, visible: frozenset[int], known_words: frozenset[str] = frozenset()
    ) -> SpellingCheck | None:
        """text with its unknown words replaced by the closest known ones, or None. Unknown
        means: not a real English word, not a word of any indexed case, not in known_words
        (the synonym table's and thesaurus's). A replacement is a word of a visible case (a
        draft's words never help a learner) or of known_words, whose search then finds its
        synonyms."""
        corrections: dict[str, str] = {}
        unmistakable = True
        for word in parse_user_query(text).checkable_words():
            lowered = word.lower()
            if len(lowered) < MIN_SPELLCHECK_CHARS or not lowered.isalpha() or lowered in corrections:
                continue
            if lowered in known_words or self.in_library(lowered) or is_english(lowered):
                continue
            for candidate, edits in self.candidates(lowered, known_words):
                if candidate in known_words or self.is_known(candidate, visible):
                    corrections[lowered] = candidate
                    unmistakable = unmistakable and edits == 1
                    break
        if not corrections:
            return None
        return SpellingCheck(replace_words(text, corrections), unmistakable)
