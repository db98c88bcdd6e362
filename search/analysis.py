"""Text analysis shared by indexing and querying, so both split and stem words alike."""

from __future__ import annotations

import re
from collections.abc import Iterator

from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter

# Words, keeping "A&E" and "e.g." whole (the default pattern would split A&E into
# "a" and "e", both then dropped as stop words / too short).
TOKEN_PATTERN = r"\w+(?:[&.]\w+)*"  # noqa: S105 - a regex, not a password
TOKEN_RE = re.compile(TOKEN_PATTERN, re.UNICODE)


class StemWordsOnly(Filter):
    """English stemming for plain words; "a&e", "news2" and "111" are left as they are
    (the Porter stemmer would turn "a&e" into "a&")."""

    def __init__(self) -> None:
        self._stem = StemFilter()

    def __call__(self, tokens: Iterator) -> Iterator:  # type: ignore[override]
        stemmer = self._stem.stemfn
        for token in tokens:
            if token.text.isalpha():
                token.text = stemmer(token.text)
            yield token


def text_analyzer():  # type: ignore[no-untyped-def]
    """For the ranked text fields: words, lower-cased, stop words out, stemmed."""
    return RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | StopFilter(minsize=2) | StemWordsOnly()


def spelling_analyzer():  # type: ignore[no-untyped-def]
    """For the spelling field: the words as people write them, not stemmed."""
    return RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | StopFilter(minsize=3)


def words(text: str) -> list[str]:
    return TOKEN_RE.findall(text)
