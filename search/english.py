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
from functools import cache
from importlib import resources
from pathlib import Path

from .spellings import spelling_variants

WORD_LIST_PACKAGE = "spellchecker"
WORD_LIST_RESOURCE = "resources/en.json.gz"
HEALTH_WORDS_FILE = Path(__file__).with_name("health_words.txt")


@cache
def english_words() -> frozenset[str]:
    """Every word of the list, lower case. Read once per process (about 15 MB resident)."""
    data = resources.files(WORD_LIST_PACKAGE).joinpath(WORD_LIST_RESOURCE).read_bytes()
    health = (line.strip() for line in HEALTH_WORDS_FILE.read_text("utf-8").splitlines())
    return frozenset(
        [*(word.lower() for word in json.loads(gzip.decompress(data))), *(w for w in health if w and w[0] != "#")]
    )


def is_english(word: str) -> bool:
    """Whether word (any case) is a real English word, in British or American spelling."""
    words = english_words()
    lowered = word.lower()
    return lowered in words or any(variant in words for variant in spelling_variants(lowered))
