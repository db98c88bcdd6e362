"""Real English words, which the spelling corrector never corrects nor replaces.

The list is pyspellchecker's English word-frequency dictionary (MIT licence; about
160,000 words, read offline from the package's own resources/en.json.gz), with the
health-service words it lacks (search/health_words.txt, this project's). It is American
in its spellings, so a word also counts as English when its other spelling does
(spellings.spelling_variants: "organisation" for "organization"). The library's own
words and the synonym table and thesaurus are known besides (spelling.Speller).
"""

from __future__ import annotations

import gzip
import json
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path

from .spellings import spelling_variants

WORD_LIST_PACKAGE = "spellchecker"
WORD_LIST_RESOURCE = "resources/en.json.gz"
HEALTH_WORDS_FILE = Path(__file__).with_name("health_words.txt")


class WordList:
    """A set of words held in one string, sorted, with each word's offset: about 2 MB for
    the English list, where a frozenset of its strings holds 21 MB in every worker."""

    def __init__(self, words: Iterable[str]) -> None:
        ordered = sorted(set(words))
        self._text = "\n".join(ordered) + "\n"
        self._offsets = array("I")
        position = 0
        for word in ordered:
            self._offsets.append(position)
            position += len(word) + 1

    def __len__(self) -> int:
        return len(self._offsets)

    def __getitem__(self, i: int) -> str:
        start = self._offsets[i]
        return self._text[start : self._text.index("\n", start)]

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str) or "\n" in word:
            return False
        i = bisect_left(self, word)
        return i < len(self) and self[i] == word


@cache
def english_words() -> WordList:
    """Every word of the list, lower case. Read once per process."""
    data = resources.files(WORD_LIST_PACKAGE).joinpath(WORD_LIST_RESOURCE).read_bytes()
    health = (line.strip() for line in HEALTH_WORDS_FILE.read_text("utf-8").splitlines())
    return WordList(
        [*(word.lower() for word in json.loads(gzip.decompress(data))), *(w for w in health if w and w[0] != "#")]
    )


def is_english(word: str) -> bool:
    """Whether word (any case) is a real English word, in British or American spelling."""
    words = english_words()
    lowered = word.lower()
    return lowered in words or any(variant in words for variant in spelling_variants(lowered))
