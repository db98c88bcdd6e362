"""Text analysis shared by indexing and querying, so both split and stem words alike."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from whoosh.analysis import STOP_WORDS, Filter, LowercaseFilter, RegexTokenizer, StopFilter
from whoosh.fields import TEXT
from whoosh.formats import Positions
from whoosh.lang.porter import stem as porter_stem

# Words, keeping "A&E" and "e.g." whole (the default pattern would split A&E into
# "a" and "e", both then dropped as stop words / too short).
TOKEN_PATTERN = r"\w+(?:[&.]\w+)*"  # noqa: S105 - a regex, not a password
TOKEN_RE = re.compile(TOKEN_PATTERN, re.UNICODE)
MIN_WORD_CHARS = 2  # shorter words are dropped, as stop words are
# Distinct words remembered with their stems, and the longest word remembered: longer
# ones are stemmed each time, so the cache's size is bounded.
STEM_CACHE_SIZE = 200_000
LONGEST_WORD_STEM_KEPT = 40
# Words typed in searches are stemmed with a cache of their own, much smaller: whatever a
# learner types (random strings included) must not fill the indexing cache, 200,000
# entries of about 200 bytes each.
QUERY_STEM_CACHE_SIZE = 10_000


def _stem(word: str) -> str:
    return porter_stem(word) if word.isalpha() else word


_kept_stem = functools.lru_cache(maxsize=STEM_CACHE_SIZE)(_stem)
_query_stem = functools.lru_cache(maxsize=QUERY_STEM_CACHE_SIZE)(_stem)


def stem_word(word: str) -> str:
    """English stem of a lower-case word; "a&e", "news2" and "111" are left as they are
    (the Porter stemmer would turn "a&e" into "a&"). The stemmer is pure Python and a
    library's vocabulary is small, so each word is stemmed once."""
    return _kept_stem(word) if len(word) <= LONGEST_WORD_STEM_KEPT else _stem(word)


class StemWordsOnly(Filter):
    """The analyser's stemming step: stem_word on each token."""

    def __call__(self, tokens: Iterator) -> Iterator:
        for token in tokens:
            token.text = stem_word(token.text)
            yield token


class StemQueryWords(Filter):
    """StemWordsOnly for the words of searches, with the small query cache."""

    def __call__(self, tokens: Iterator) -> Iterator:
        for token in tokens:
            word = token.text
            token.text = _query_stem(word) if len(word) <= LONGEST_WORD_STEM_KEPT else _stem(word)
            yield token


def text_analyzer():
    """For the ranked text fields: words, lower-cased, stop words out, stemmed."""
    return RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | StopFilter(minsize=MIN_WORD_CHARS) | StemWordsOnly()


def query_analyzer():
    """text_analyzer() for the words of searches: the same terms, another stem cache."""
    return RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | StopFilter(minsize=MIN_WORD_CHARS) | StemQueryWords()


class AnalysedText(TEXT):
    """A TEXT field with text_analyzer() that indexes without Whoosh's token pipeline.

    Whoosh passes one Token object through four generator filters per word, a large
    share of the indexing time (bench/ measures it). index() here yields exactly the postings that
    pipeline makes (the same terms, frequencies, weights and positions: stop words
    dropped and the words after them renumbered, as StopFilter does) from a regex and
    a loop; queries and highlighting still use the analyser itself.
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(analyzer=text_analyzer(), **kwargs)

    def index(self, value, **kwargs):
        if not isinstance(value, str) or type(self.format) is not Positions or kwargs.get("mode", "index") != "index":
            yield from super().index(value, **kwargs)
            return
        positions: dict[str, list[int]] = {}
        position = None
        kept_stem, longest_kept = _kept_stem, LONGEST_WORD_STEM_KEPT  # stem_word, inlined: a call per word
        for number, word in enumerate(TOKEN_RE.findall(value)):
            word = word.lower()
            if len(word) < MIN_WORD_CHARS or word in STOP_WORDS:
                continue
            # StopFilter(renumber=True): the first word kept keeps its position, each
            # later one comes right after the one before.
            position = number if position is None else position + 1
            term = kept_stem(word) if len(word) <= longest_kept else _stem(word)
            if term in positions:
                positions[term].append(position)
            else:
                positions[term] = [position]
        encode, field_boost = self.format.encode, self.format.field_boost
        for term, found in positions.items():
            yield term.encode("utf-8"), len(found), float(len(found)) * field_boost, encode(found)


def words(text: str) -> list[str]:
    return TOKEN_RE.findall(text)
